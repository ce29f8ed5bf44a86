"""Orchestration: build the background, plant the scenarios, render every source × month with
noise, write the files and the truth."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import time
from pathlib import Path

from .db import Con

from . import background as B
from . import noise as NZ
from . import scenarios as SC
from .firms import build_entities
from .ids import sql_macros
from .population import build_persons_raw, finalize_persons, role_counts
from .schema import ENUM_BAD_VALUE, FORMAT_PLAN, ID_NAME_PAIRS, REQUIRED, SOURCES
from .writers import write

XLSX_MAX_ROWS = 300_000
# Row order: the staging table is sorted once by a hash of the row key (a shuffled, deterministic
# order) and the rendered table keeps it (line = rowid + 2). SYNTH_SHUFFLE=1 is the older, slower
# path (a line-number table joined back and a sort of the wide rendered table).
SHUFFLE = os.environ.get("SYNTH_SHUFFLE", "0") == "1"
plan_used: dict = {}
NAMED_SCALES = {"sample": 0.0005, "tiny": 0.0002}
EXT = {"csv": "csv", "xlsx": "xlsx", "parquet": "parquet"}


def parse_months(spec) -> list[str]:
    """'2025-03..2025-06' or '2025-03,2025-04' or a list."""
    if isinstance(spec, (list, tuple)):
        items = []
        for s in spec:
            items += parse_months(s)
        return items
    spec = spec.strip()
    if ".." in spec:
        a, b = spec.split("..")
        y, m = map(int, a.split("-"))
        y2, m2 = map(int, b.split("-"))
        out = []
        while (y, m) <= (y2, m2):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    return [s.strip() for s in spec.split(",") if s.strip()]


def parse_scale(s) -> float:
    if isinstance(s, str):
        return NAMED_SCALES[s] if s in NAMED_SCALES else float(s)
    return float(s)


def _file_plan(source: str, mi: int, formats: str, seed: int) -> tuple[str, str]:
    if formats == "mixed":
        plan = FORMAT_PLAN[source]
        return plan[(mi + seed) % len(plan)]
    if formats in ("csv", "csv-utf8"):
        return ("csv", "utf-8")
    if formats == "parquet":
        return ("parquet", "")
    if formats == "xlsx":
        return ("xlsx", "")
    raise ValueError(f"unknown formats={formats!r}")


def generate(months, scale, seed: int, out: Path, formats: str = "mixed",
             noise: NZ.NoiseConfig | None = None, threads: int | None = None, payments: bool = False) -> dict:
    """Generate ``OUT/incoming/<month>/<source>.<ext>`` and ``OUT/truth/*.parquet``.
    ``payments``: also the optional sources confirmations and social_security_cards, with their
    truth (plant_payments.py); off by default, so the committed sample is unchanged.

    Returns a summary dict (rows per file, timings, scenario counts)."""
    t0 = time.time()
    timings: dict = {}
    months = parse_months(months)
    scale = parse_scale(scale)
    cfg = noise or NZ.NoiseConfig()
    out = Path(out)
    mdates = [dt.date(int(m[:4]), int(m[5:7]), 1) for m in months]
    if (out / "incoming").exists():
        for m in months:
            shutil.rmtree(out / "incoming" / m, ignore_errors=True)
    shutil.rmtree(out / "truth", ignore_errors=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    tmpdb = out / ".synth_work.duckdb"
    for p in (tmpdb, Path(str(tmpdb) + ".wal")):
        if p.exists():
            p.unlink()
    tmpdir = out / ".synth_tmp"
    shutil.rmtree(tmpdir, ignore_errors=True)
    tmpdir.mkdir(parents=True)
    con = Con(":memory:", str(tmpdir))
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    # the work database is in memory and spills to OUT/.synth_tmp beyond this
    con.execute(f"SET memory_limit = '{os.environ.get('SYNTH_MEMORY_LIMIT', '8GB')}'")
    for m in sql_macros():
        con.execute(m)

    counts = role_counts(scale, len(months))
    counts["_scale"] = scale
    ctx = B.Ctx(seed=seed, months=mdates, ranges={}, counts=counts)
    ref = mdates[0]
    ctx.ranges = build_persons_raw(con, seed, {k: v for k, v in counts.items() if not k.startswith("_")}, ref, ref.year)
    n_bg_persons = max(e for _, e in ctx.ranges.values())
    build_entities(con, seed, counts["legal_rep"], ref, mdates, ctx.ranges["legal_rep"][0])
    n_bg_entities = con.execute("SELECT count(*) FROM entities").fetchone()[0]
    # planted scenarios (Python, small): their persons join the ID assignment
    t1 = time.time()
    plant = SC.build(ctx, n_bg_persons, n_bg_entities)
    plant.register_persons(con)
    finalize_persons(con, seed)
    plant.resolve_ids(con)
    plant.register(con)
    timings["scenarios"] = round(time.time() - t1, 2)
    B.build_employees(con, ctx)
    counts["_n_employers"] = con.execute("SELECT count(*) FROM employers").fetchone()[0]
    timings["background_tables"] = round(time.time() - t0, 2)
    con.execute("CREATE OR REPLACE TABLE bg_ledger (month VARCHAR, application_id VARCHAR, policy_code VARCHAR, beneficiary_id_number VARCHAR)")

    truth_parts_dir = tmpdir / "truth_parts"
    truth_parts_dir.mkdir()
    truth_parts: list[Path] = []
    con.execute("""CREATE OR REPLACE TABLE expected_quarantine (source VARCHAR, month VARCHAR, file VARCHAR,
        line BIGINT, reason VARCHAR, field VARCHAR, value_written VARCHAR)""")
    files = []
    for mi, (m, md) in enumerate(zip(months, mdates)):
        for source in SOURCES:
            t2 = time.time()
            fmt, enc = _file_plan(source, mi, formats, seed)
            path = out / "incoming" / m / f"{source}.{EXT[fmt]}"
            n = _render_file(con, ctx, cfg, source, mi, m, md, fmt, enc, path, plant, truth_parts_dir, truth_parts)
            fmt, enc, path = plan_used[(source, m)]
            files.append({"month": m, "source": source, "file": str(path.relative_to(out)), "format": fmt,
                          "encoding": enc or None, "rows": n, "bytes": path.stat().st_size,
                          "seconds": round(time.time() - t2, 2)})

    t3 = time.time()
    truth = out / "truth"
    con.execute(f"""COPY (SELECT pidx, role, id_number, name, CASE WHEN male THEN '男' ELSE '女' END AS sex,
        birth_date, region_code, left(region_code, 4) || '00' AS league_code, phone, hh AS household_index,
        planted FROM (SELECT *, false AS planted FROM persons WHERE pidx < {plant.first_pidx}
                      UNION ALL BY NAME SELECT *, true AS planted FROM persons WHERE pidx >= {plant.first_pidx})
        ORDER BY pidx) TO '{truth / 'persons.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")
    con.execute(f"""COPY (SELECT e.uscc, e.name, e.entity_type, e.enterprise_scale, p.id_number AS legal_rep_id_number,
        e.established_date, e.final_status, e.status_date, e.serious_dishonest, e.region_code, e.phone,
        e.eidx >= {plant.first_eidx} AS planted
        FROM entities e JOIN persons p ON p.pidx = e.legal_rep_pidx ORDER BY e.eidx)
        TO '{truth / 'firms.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")
    if os.environ.get("SYNTH_TRUTH_PARTS") == "1":
        # big scales: skip the (slow) merge, keep one part per file × identifier column
        (truth / "record_truth").mkdir()
        for i, p in enumerate(truth_parts):
            shutil.move(str(p), truth / "record_truth" / f"part-{i:05d}.parquet")
    else:
        parts = ", ".join(f"'{p}'" for p in truth_parts)
        con.execute(f"""COPY (SELECT * FROM read_parquet([{parts}]))
            TO '{truth / 'record_truth.parquet'}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)""")
    con.execute(f"""COPY (SELECT * FROM expected_quarantine ORDER BY month, source, line, field)
        TO '{truth / 'expected_quarantine.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")
    plant.write_truth(con, truth)
    timings["truth"] = round(time.time() - t3, 2)
    summary = {
        "months": months, "scale": scale, "seed": seed, "formats": formats, "noise": cfg.as_dict(),
        "files": files, "scenario_counts": plant.counts(),
        "persons": con.execute("SELECT count(*) FROM persons").fetchone()[0],
        "entities": con.execute("SELECT count(*) FROM entities").fetchone()[0],
    }
    con.close()
    shutil.rmtree(tmpdir, ignore_errors=True)
    timings["total"] = round(time.time() - t0, 2)
    summary["timings"] = timings
    # manifest without timings, so that it is reproducible byte for byte
    man = {k: v for k, v in summary.items() if k != "timings"}
    man["files"] = [{k: v for k, v in f.items() if k != "seconds"} for f in files]
    (truth / "manifest.json").write_text(json.dumps(man, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    if payments:
        from .plant_payments import plant_payments
        summary["payments"] = plant_payments(out, months, seed)
    return summary


def _render_file(con, ctx, cfg, source, mi, m, md, fmt, enc, path, plant, truth_parts_dir, truth_parts) -> int:
    seed = ctx.seed
    cols = SOURCES[source]
    rng = random.Random(f"{seed}:{source}:{m}")
    date_styles = NZ.DATE_STYLES + (["excel_serial"] if fmt == "xlsx" else [])
    dominant = rng.choice(date_styles + (["excel_serial"] * 3 if fmt == "xlsx" and source == "graduates" else []))
    if fmt == "xlsx" and source == "graduates":
        dominant = "excel_serial"
    month_dom = rng.choice(["compact", "dash"])
    fseed = seed * 1000 + mi * 10 + list(SOURCES).index(source)

    bg = B.SOURCE_SQL[source](ctx, mi, md)
    names = [c for c, _, _ in cols]
    sel = ", ".join(names)
    con.execute(f"""CREATE OR REPLACE TABLE stg AS
        SELECT pk, planted, force, {sel} FROM ({bg})
        UNION ALL SELECT pk, planted, force, {sel} FROM planted_{source} WHERE month = '{m}'
        {"" if SHUFFLE else f"ORDER BY hash(pk, 'ord', {fseed}), pk"}""")
    # line numbers, header = line 1
    if SHUFFLE:
        # a shuffled order (sorting the narrow key only; w is then sorted by line)
        con.execute(f"""CREATE OR REPLACE TABLE ln AS
            SELECT pk, row_number() OVER (ORDER BY hash(pk, 'ord', {fseed}), pk) + 1 AS line FROM stg""")
    bad = _choose_bad_rows(con, source, cfg, fseed, rng)

    kinds, applied, hashed = [], [], []
    for c, h, t in cols:
        k = None
        if t == "id":
            k = NZ.id_kind(c, cfg, fseed, allow_scientific=(c == "id_number" and fmt != "parquet"))
            a = NZ.id_apply(c, f"k_{c}", fseed)
        elif t == "applicant":
            k = (f"CASE WHEN applicant_type = '个人' THEN ({NZ.id_kind(c, cfg, fseed, False)}) "
                 f"ELSE ({NZ.uscc_kind(c, cfg, fseed)}) END")
            a = (f"CASE WHEN applicant_type = '个人' THEN ({NZ.id_apply(c, f'k_{c}', fseed)}) "
                 f"ELSE ({NZ.uscc_apply(c, f'k_{c}', fseed)}) END")
        elif t == "uscc":
            k = NZ.uscc_kind(c, cfg, fseed)
            a = NZ.uscc_apply(c, f"k_{c}", fseed)
        elif t == "name":
            k = NZ.name_kind(c, cfg, fseed)
            a = NZ.name_apply(c, f"k_{c}", fseed)
        elif t == "firm_name":
            k = NZ.firm_name_kind(c, cfg, fseed)
            a = NZ.firm_name_apply(c, f"k_{c}", fseed)
        elif t == "phone":
            k = NZ.phone_kind(c, cfg, fseed)
            a = NZ.phone_apply(c, f"k_{c}")
        elif t == "date":
            k = NZ.date_kind(c, cfg, fseed, dominant, date_styles)
            a = NZ.date_apply(c, f"k_{c}")
        elif t == "month":
            k = NZ.month_kind(c, cfg, fseed, month_dom)
            a = NZ.month_apply(c, f"k_{c}")
        elif t == "money":
            k = NZ.money_kind(c, cfg, fseed)
            a = NZ.money_apply(c, f"k_{c}")
        elif t == "bool":
            a = f"CASE WHEN {c} THEN '是' WHEN NOT {c} THEN '否' END"
        else:
            a = f"{c}::VARCHAR"
        if k is not None:
            hashed.append(c)
            kinds.append(f"CASE WHEN {c} IS NULL THEN NULL ELSE ({k}) END AS k_{c}")
        applied.append((c, t, a))
    wcols, ncols = [], []
    for c, t, a in applied:
        if c in bad["fields"]:
            a = f"CASE {bad['cases'][c]} ELSE ({a}) END"
        wcols.append(f"({a}) AS w_{c}")
        if t in ("id", "applicant", "uscc", "name", "firm_name", "phone", "money"):
            # a kind that changed nothing (e.g. swapping two equal digits) is no noise
            ncols.append(f"CASE WHEN w_{c} IS NOT DISTINCT FROM {c}::VARCHAR OR bad_field = '{c}' THEN NULL ELSE k_{c} END AS n_{c}")
        elif t in ("date", "month"):
            # the canonical forms (2025-03-15, 2025-03) are not noise; a planted bad date is no style
            ncols.append(f"CASE WHEN k_{c} IN ('date_iso', 'month_dash') OR bad_field = '{c}' THEN NULL ELSE k_{c} END AS n_{c}")
    extra = rng.random() < cfg.extra_column_probability
    extra_col = (f", CASE hash(pk, 'rmk', {fseed}) % 20 WHEN 0 THEN '补录' WHEN 1 THEN '已核实' "
                 f"WHEN 2 THEN '系统导入' END AS w__extra") if extra else ""
    keep_true = sorted({c for c, _, t in cols if t in ("id", "applicant", "uscc", "name", "firm_name")}
                       | ({"application_id", "policy_code", "applicant_type"} if source == "subsidy_ledger" else set()))
    wnames = [f"w_{c}" for c in names] + (["w__extra"] if extra else [])
    con.execute(f"""CREATE OR REPLACE TABLE w AS
        SELECT pk, planted, line, bad, bad_field, {', '.join(keep_true)}, {', '.join(wnames)}, {', '.join(ncols)}
        FROM (
          SELECT *, {', '.join(wcols)} {extra_col}
          FROM (
            SELECT *, {', '.join(kinds) if kinds else 'NULL AS k__none'}
            FROM (
              SELECT s.*, {'ln.line' if SHUFFLE else 's.rowid + 2 AS line'}, {bad['bad_expr']} AS bad,
                {bad['field_expr']} AS bad_field,
                {', '.join(NZ.hash_columns(hashed, fseed)) if hashed else 'NULL AS h__none'}
              FROM stg s {'JOIN ln USING (pk)' if SHUFFLE else ''}
            )
          )
        )
        {"ORDER BY line" if SHUFFLE else ""}""")
    con.execute("DROP TABLE stg")
    con.execute("DROP TABLE IF EXISTS ln")

    n_rows = con.execute("SELECT count(*) FROM w").fetchone()[0]
    if fmt == "xlsx" and n_rows > XLSX_MAX_ROWS:
        # a sheet holds 1,048,576 rows, and xlsxwriter is slow: big files go out as CSV
        fmt, enc = "csv", "utf-8-sig"
        path = path.with_suffix(".csv")
    plan_used[(source, m)] = (fmt, enc, path)
    order = list(range(len(cols)))
    rng.shuffle(order)
    sel_cols = [(f"w_{cols[j][0]}", cols[j][1]) for j in order]
    if extra:
        sel_cols.insert(rng.randrange(len(sel_cols) + 1), ("w__extra", "备注"))
    # w is stored in line order; a plain scan keeps it (preserve_insertion_order)
    query = "SELECT " + ", ".join(f'{c} AS "{h}"' for c, h in sel_cols) + " FROM w"
    date_headers = {h for c, h, t in cols if t == "date"}
    id_headers = {h for c, h, t in cols if c == "id_number"}
    write(con, query, [h for _, h in sel_cols], path, fmt, enc, date_headers, id_headers)

    # truth: one part per file and identifier column, merged (in this order) at the end
    rel = str(path.name)
    other_noise = [f"n_{c}" for c, _, t in cols if t in ("date", "month", "money", "phone")]
    row_noise = f"nullif(concat_ws(';', {', '.join(other_noise)}), '')" if other_noise else "NULL"
    for idc, namec in ID_NAME_PAIRS[source].items():
        t = [tt for c, _, tt in cols if c == idc][0]
        kind = "'firm'" if t == "uscc" else ("CASE WHEN applicant_type = '单位' THEN 'firm' ELSE 'person' END" if t == "applicant" else "'person'")
        nw = f"w_{namec}" if namec else "NULL"
        nt = f"{namec}" if namec else "NULL"
        nn = f"n_{namec}" if namec else "NULL"
        part = truth_parts_dir / f"{len(truth_parts):05d}.parquet"
        truth_parts.append(part)
        con.execute(f"""COPY (SELECT '{source}' AS source, '{m}' AS month, '{rel}' AS file, line, '{idc}' AS field,
            {kind} AS kind, w_{idc} AS value_written, {idc} AS value_true,
            {f"'{namec}'" if namec else 'NULL'}::VARCHAR AS name_field, {nw}::VARCHAR AS name_written,
            {nt}::VARCHAR AS name_true, nullif(concat_ws(';', n_{idc}, {nn}), '') AS noise, {row_noise} AS row_noise,
            planted, bad FROM w WHERE {idc} IS NOT NULL) TO '{part}' (FORMAT parquet, COMPRESSION zstd)""")
    if source == "subsidy_ledger":
        con.execute(f"""INSERT INTO bg_ledger SELECT '{m}', application_id, policy_code, beneficiary_id_number
            FROM w WHERE NOT planted AND bad IS NULL""")
    sci = "id_number" if any(c == "id_number" for c, _, _ in cols) else None
    con.execute(f"""INSERT INTO expected_quarantine SELECT '{source}', '{m}', '{rel}', line, bad, bad_field, NULL FROM w WHERE bad IS NOT NULL""")
    if sci:
        con.execute(f"""INSERT INTO expected_quarantine SELECT '{source}', '{m}', '{rel}', line, 'id_scientific_notation',
            'id_number', w_id_number FROM w WHERE n_id_number = 'id_scientific' AND bad IS NULL""")
    con.execute("DROP TABLE w")
    return n_rows


def _choose_bad_rows(con, source, cfg, fseed, rng) -> dict:
    """Pick background rows to break (one field each): they are expected in quarantine."""
    none = {"fields": set(), "cases": {}, "bad_expr": "NULL::VARCHAR", "field_expr": "NULL::VARCHAR"}
    n = cfg.bad_rows_per_file
    if n <= 0:
        return none
    cols = SOURCES[source]
    # a few per file, fewer in tiny files (at most one in twenty rows, at least one)
    avail = con.execute("SELECT count(*) FROM stg WHERE NOT planted").fetchone()[0]
    n = min(n, max(1, avail // 20))
    pks = [r[0] for r in con.execute(f"""SELECT pk FROM stg WHERE NOT planted
        ORDER BY hash(pk, 'bad', {fseed}), pk LIMIT {n}""").fetchall()]
    if not pks:
        return none
    dates = [c for c, _, t in cols if t == "date" and c in REQUIRED[source]] or [c for c, _, t in cols if t == "date"]
    kinds = ["missing_required"]
    if dates:
        kinds.append("bad_date")
    if source in ENUM_BAD_VALUE:
        kinds.append("bad_enum")
    cases: dict[str, str] = {}
    bexpr, fexpr = [], []
    for j, pk in enumerate(pks):
        kind = kinds[j % len(kinds)]
        if kind == "missing_required":
            field = REQUIRED[source][rng.randrange(len(REQUIRED[source]))]
            val = "NULL"
        elif kind == "bad_date":
            field = dates[rng.randrange(len(dates))]
            val = "'" + rng.choice(["2025-02-30", "2025/13/01", "20251341", "2025年2月30日"]) + "'"
        else:
            field, v = ENUM_BAD_VALUE[source]
            val = f"'{v}'"
        cases[field] = cases.get(field, "") + f" WHEN pk = {pk} THEN {val}"
        bexpr.append(f"WHEN pk = {pk} THEN '{kind}'")
        fexpr.append(f"WHEN pk = {pk} THEN '{field}'")
    return {"fields": set(cases), "cases": cases, "bad_expr": "CASE " + " ".join(bexpr) + " END",
            "field_expr": "CASE " + " ".join(fexpr) + " END"}
