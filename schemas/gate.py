"""The Great Expectations gate: one suite per source, generated from its contract.

GX 1.24 has no working DuckDB datasource (its generic SQL path loses the connection, GX issue
#10738), so GX validates pandas frames that DuckDB builds from every staged row of the month.

- Row-level expectations (not null, in set, lengths, ranges, regex) depend only on a row's value,
  and most only on a feature of it (null or not, its length, whether it matches the phone
  pattern). DuckDB groups every row's value of a column into those classes and GX validates one
  representative per class (for sets and ranges: every distinct value). Every loaded row's
  verdict is thereby decided, not sampled, without shipping 20M values to pandas.
- Table-level expectations (row count within the quarantine share, key uniqueness, snapshot not
  collapsing) are validated on the month's counts, which DuckDB computes over every row, as GX's
  own SQL engine would push them down.

A failed gate stops the month before anything is published, naming the source and the
expectation.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import warnings
from dataclasses import dataclass

from schemas.sources import SOURCES, Source
from zhibu.warehouse import month_start

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
log = logging.getLogger("zhibu.gate")

# The broken-export share (more than half of a file of ≥ 200 rows quarantined: e.g. a whole
# column unreadable) and the snapshot-shrink ratio are settings (settings.yaml): below the
# minimum row count a share says nothing (3 bad rows of 6 is not a broken export).
PHONE_PATTERN = r"^1[3-9]\d{9}$"


class GateFailed(RuntimeError):
    pass


@dataclass
class Check:
    source: str
    expectation: str
    success: bool
    observed: str
    detail: str


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def _tag(expectations: list, src: Source) -> list:
    for e in expectations:
        e.meta = {**(e.meta or {}), "source": src.name}
    return expectations


def row_expectations(src: Source, prefix: str = "") -> list:
    """Expectations that hold row by row, on columns `<prefix><column>`."""
    import great_expectations.expectations as gxe
    out = []
    for c in src.columns:
        c = dataclasses.replace(c, name=prefix + c.name)
        out.append(gxe.ExpectColumnToExist(column=c.name))
        if c.required:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=c.name))
        if c.kind in ("enum", "code"):
            out.append(gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.values)))
        if c.kind in ("id", "uscc", "id_or_uscc"):
            out.append(gxe.ExpectColumnValueLengthsToEqual(column=c.name, value=18))
        if c.kind == "region":
            out.append(gxe.ExpectColumnValueLengthsToEqual(column=c.name, value=6))
        if c.kind == "phone":
            out.append(gxe.ExpectColumnValuesToMatchRegex(column=c.name, regex=PHONE_PATTERN))
        if c.kind in ("date", "month"):
            out.append(gxe.ExpectColumnValuesToBeBetween(column=c.name, min_value="1900-01-01",
                                                         max_value="2100-12-31"))
    return _tag(out, src)


def table_expectations(src: Source, rows_read: int, prev_rows: int | None, prefix: str = "") -> list:
    """Expectations on the whole month of a source (validated on its one-row counts frame)."""
    import great_expectations.expectations as gxe
    from zhibu import settings
    cfg = settings.current()
    share = cfg["broken_export_share"]
    floor = math.ceil(rows_read * (1 - share)) if rows_read >= cfg["broken_export_min_rows"] else 0
    out = [gxe.ExpectColumnValuesToBeBetween(
        column=prefix + "rows_loaded", min_value=floor, max_value=rows_read,
        meta={"why": f"quarantine share ≤ {share:.0%} of {rows_read} rows read"})]
    if src.key:
        out.append(gxe.ExpectColumnPairValuesToBeEqual(
            column_A=prefix + "distinct_keys", column_B=prefix + "rows_loaded", meta={"why": "key " + ",".join(src.key) + " unique"}))
    if src.kind == "snapshot" and prev_rows:
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column=prefix + "rows_loaded", min_value=math.ceil(prev_rows * cfg["snapshot_min_ratio"]),
            meta={"why": f"snapshot not collapsing vs last month's {prev_rows} rows"}))
    return _tag(out, src)


def _validate(ctx, name: str, expectations: list, frame, result_format: str):
    import great_expectations as gx
    suite = ctx.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    asset = ctx.data_sources.add_pandas(name).add_dataframe_asset(name)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(
        name=name, data=asset.add_batch_definition_whole_dataframe(name), suite=suite))
    return vd.run(batch_parameters={"dataframe": frame}, result_format=result_format).results


def _run(ctx, name: str, expectations: list, frame) -> list:
    """Results of every expectation: verdicts first (BOOLEAN_ONLY computes no unexpected lists,
    ~3x cheaper on a month's ~200 expectations), then the failed ones again with SUMMARY for the
    counts and examples the message quotes."""
    verdicts = _validate(ctx, name, expectations, frame, "BOOLEAN_ONLY")
    failed = [i for i, er in enumerate(verdicts) if not er.success]
    if not failed:
        return verdicts
    import copy
    wanted = {_key(verdicts[i].expectation_config) for i in failed}
    again = [copy.copy(e) for e in expectations if _key(e.configuration) in wanted]
    for e in again:
        e.id = None
    detail = _validate(ctx, name + "_failed", again, frame, "SUMMARY")
    by_config = {_key(er.expectation_config): er for er in detail}
    for i in failed:
        verdicts[i] = by_config.get(_key(verdicts[i].expectation_config), verdicts[i])
    return verdicts


def _key(cfg) -> str:
    """An expectation's identity across suites (results carry the batch id in their kwargs)."""
    kwargs = sorted((k, repr(v)) for k, v in cfg.kwargs.items() if k != "batch_id" and v is not None)
    return repr((cfg.type, kwargs, (cfg.meta or {}).get("source")))


PERSONAL_KINDS = ("id", "id_or_uscc", "name", "phone")


def _describe(er) -> tuple[str, str, str]:
    """(source, label, observed) of one expectation result; columns are `<source>__<column>`."""
    cfg = er.expectation_config
    src = SOURCES[(cfg.meta or {})["source"]]
    col = cfg.kwargs.get("column")
    col = col.split("__", 1)[1] if col else None
    personal = col in {c.name for c in src.columns if c.kind in PERSONAL_KINDS}
    label = cfg.type + (f"({col})" if col else "")
    res = er.result or {}
    if "observed_value" in res:
        observed = str(res["observed_value"])
    else:
        observed = f"{res.get('unexpected_count', 0)} unexpected"
        if res.get("partial_unexpected_list") and not personal:   # never quote an ID, name or phone
            observed += f", e.g. {res['partial_unexpected_list'][:3]}"
    return src.name, label, observed


def value_classes_sql(c, table: str) -> str:
    """One representative value per class of values this column's expectations cannot tell apart."""
    if c.kind in ("id", "uscc", "id_or_uscc", "region"):
        feature = f"{c.name} IS NULL, length({c.name})"
    elif c.kind in ("name", "text"):
        feature = f"{c.name} IS NULL"
    elif c.kind == "phone":
        feature = f"{c.name} IS NULL, regexp_matches({c.name}, '{PHONE_PATTERN}')"
    else:
        return f"SELECT DISTINCT {c.name} FROM {table} WHERE extract_month = $m"
    return f"SELECT any_value({c.name}) FROM {table} WHERE extract_month = $m GROUP BY {feature}"


def value_classes(con, src: Source, m) -> dict:
    """Each column's class representatives (a pandas Series per column)."""
    columns = {}
    for c in src.columns:
        with warnings.catch_warnings():   # DuckDB warns that DB-API Arrow output copies: fine here
            warnings.simplefilter("ignore")
            columns[c.name] = con.execute(value_classes_sql(c, f"stg_{src.name}"), {"m": m}
                                          ).to_arrow_table().column(0).to_pandas()
    return columns


def padded_frame(columns: dict):
    """One frame of unequal columns, each padded by repeating one of its own values (which
    changes no row-level verdict)."""
    import pandas as pd
    height = max((len(v) for v in columns.values()), default=0)
    frame = {}
    for name, v in columns.items():
        if 0 < len(v) < height:
            v = pd.concat([v, pd.Series([v.iloc[0]] * (height - len(v)), dtype=v.dtype)], ignore_index=True)
        frame[name] = v if len(v) else pd.Series([None] * height, dtype=object)
    return pd.DataFrame(frame)


def counts_frame(con, src: Source, m):
    """The month's row and distinct-key counts, over every staged row."""
    key = f"count(DISTINCT hash({', '.join(src.key)}))" if src.key else "count(*)"
    return con.execute(f"""SELECT count(*) AS rows_loaded, {key} AS distinct_keys
                           FROM stg_{src.name} WHERE extract_month = ?""", [m]).df()


def validate_month(con, month: str, raise_on_failure: bool = True) -> list[Check]:
    """Run every source's suite over every staged row of the month; record results."""
    m = month_start(month)
    con.execute("""CREATE TABLE IF NOT EXISTS gate_results (extract_month DATE, source VARCHAR,
                   expectation VARCHAR, success BOOLEAN, observed VARCHAR, detail VARCHAR)""")
    # Every source's columns go into one frame (`<source>__<column>`) and every source's counts
    # into one row, so GX runs two validations a month instead of two per source.
    values, counts, row_exps, table_exps = {}, {}, [], []
    for src in SOURCES.values():
        lf = con.execute("SELECT rows_read FROM load_files WHERE source = ? AND extract_month = ?",
                         [src.name, m]).fetchall()
        if not lf:
            continue
        prev = con.execute("""SELECT rows_read FROM load_files WHERE source = ? AND extract_month < ?
                              ORDER BY extract_month DESC LIMIT 1""", [src.name, m]).fetchall()
        prefix = f"{src.name}__"
        frame = counts_frame(con, src, m)
        counts.update({prefix + c: v for c, v in frame.items()})
        table_exps += table_expectations(src, lf[0][0], prev[0][0] if prev else None, prefix)
        # A delta month with no loaded rows (a header-only file, or every row quarantined) is a
        # valid "nothing this month": there is no value to hold to a row-level expectation.
        if int(frame["rows_loaded"].iloc[0]) > 0:
            values.update({prefix + c: v for c, v in value_classes(con, src, m).items()})
            row_exps += row_expectations(src, prefix)
    checks: dict[tuple[str, str], Check] = {}
    if table_exps:
        import pandas as pd
        ctx = _context()
        runs = [("table", table_exps, pd.DataFrame(counts))]
        if row_exps:
            runs.insert(0, ("values", row_exps, padded_frame(values)))
        for name, exps, frame in runs:
            for er in _run(ctx, name, exps, frame):
                source, label, observed = _describe(er)
                why = (er.expectation_config.meta or {}).get("why", "")
                old = checks.get((source, label))
                if old is None or (old.success and not er.success):
                    checks[(source, label)] = Check(source, label, er.success, observed, why)
    order = list(SOURCES)
    results = sorted(checks.values(), key=lambda c: order.index(c.source))
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM gate_results WHERE extract_month = ?", [m])
    if results:
        con.executemany("INSERT INTO gate_results VALUES (?, ?, ?, ?, ?, ?)",
                        [[m, r.source, r.expectation, r.success, r.observed, r.detail] for r in results])
    con.execute("COMMIT")
    failed = [r for r in results if not r.success]
    if failed and raise_on_failure:
        raise GateFailed("; ".join(f"{r.source}: {r.expectation} failed ({r.observed}) {r.detail}".strip()
                                   for r in failed))
    return results
