"""Linkage accuracy: precision / recall of ID and USCC repair per corruption kind, and timing.

    # project generator output (data/synth): OUT/incoming/<month>/ + OUT/truth/record_truth.parquet
    .venv/bin/python -m benchmarks.linkage_accuracy --data OUT --month 2026-10
    # own corrupted set (benchmarks/linkage_synth.py), any scale (1.0 = 5M persons, 20M SI rows)
    .venv/bin/python -m benchmarks.linkage_accuracy --synth-scale 0.05

Definitions (per source row × ID column, evaluated on the lnk_<source> views):
  linked      the written ID failed the check and lnk gives a value
  correct     linked value = the true ID
  repairable  the written ID failed the check and the true ID is seen valid somewhere as of M
  precision = correct / linked;  recall = correct / repairable
  merged      valid written IDs whose lnk value differs (must be 0), and linked values that
              stand for more than one true person (must be 0)
Targets: precision >= 0.999, recall >= 0.99 on repairable records, nothing merged.
Per corruption kind (`by_corruption`, person IDs; issue 17): "ID typo + name variant", each
variant separately (id_typo_digit+name_homophone / +name_traditional / +name_mongol_no_dot /
+name_mongol_other_dot): recall >= 0.99 at precision 1.000; every decoy kind (decoy_*: see
linkage_synth) at 0 wrong links. `review` counts the rows whose (bad ID, name) is in the review
queue (shown to an analyst, not linked).
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb

from matchers.link import link_month

PERSON_COLS = {"social_insurance": ["id_number"], "graduates": ["id_number"], "hiring_filing": ["id_number"],
               "employment_registration": ["id_number"], "poverty_alleviation": ["id_number"],
               "fiscal_staff": ["id_number"], "deceased": ["id_number"],
               "business_registration": ["legal_rep_id_number"],
               "subsidy_ledger": ["beneficiary_id_number", "applicant_id", "handler_id_number"]}
FIRM_COLS = {"social_insurance": ["employer_uscc"], "hiring_filing": ["employer_uscc"],
             "employment_registration": ["employer_uscc"], "business_registration": ["uscc"],
             "subsidy_ledger": ["applicant_id"]}


def _name_cols() -> dict[tuple[str, str], str]:
    from matchers import levels
    return {(c.source, c.column): c.name for c in levels.PERSON_ID_COLUMNS if c.name}


_NAME_COLS = _name_cols()


def _has(con, rel: str) -> bool:
    try:
        con.execute(f"DESCRIBE {rel}").fetchall()
        return True
    except duckdb.Error:
        return False


def build_eval(con, truth_sql: str) -> dict:
    """eval_rows(source, col, kind, written, truth, id_noise, name_noise, pred, method, valid_written, name).

    Truth rows are matched to lnk rows by (source, month, file, line). The generator counts the
    header as line 1 for every format; a loader may number Parquet rows from 1: the line offset
    (0 or 1) is chosen per (source, month, file) by the majority of raw values that agree.
    Returns the offsets used."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW truth AS {truth_sql}")
    parts, offsets = [], {}
    for source in sorted(set(PERSON_COLS) | set(FIRM_COLS)):
        if not _has(con, f"lnk_{source}"):
            continue
        cols = {r[0] for r in con.execute(f"DESCRIBE lnk_{source}").fetchall()}
        src_cols = [c for c in sorted(set(PERSON_COLS.get(source, [])) | set(FIRM_COLS.get(source, [])))
                    if f"{c}_raw" in cols]
        if not src_cols:
            continue
        # materialise the lnk columns once (keeps the joins below simple for the planner)
        keep = ", ".join(f"{c}, {c}_raw, {c}_method, coalesce({c}_valid, false) AS {c}_valid" for c in src_cols)
        # the name sent with each person-ID column (the review queue is keyed by bad ID + name)
        name_of = {c: n for c in src_cols for n in [_NAME_COLS.get((source, c))] if n and n in cols}
        keep += "".join(f", {n} AS {c}__name" for c, n in name_of.items())
        con.execute(f"""CREATE OR REPLACE TEMP TABLE m_{source} AS SELECT source_file, source_line,
                        strftime(extract_month, '%Y-%m') AS month, {keep} FROM lnk_{source}""")
        probes = " UNION ALL ".join(
            f"""SELECT t.month, t.file, o.o, (l.{c}_raw = t.written)::INT AS hit
                FROM m_{source} l CROSS JOIN (VALUES (0), (1)) o(o)
                JOIN truth t ON t.source = '{source}' AND t.col = '{c}' AND t.line = l.source_line + o.o
                 AND t.file = l.source_file AND t.month = l.month""" for c in src_cols)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE off_{source} AS
            SELECT month, file, arg_max(o, hits) AS o
            FROM (SELECT month, file, o, sum(hit) AS hits FROM ({probes}) GROUP BY ALL) GROUP BY ALL""")
        offsets[source] = sorted(con.execute(f"SELECT DISTINCT o FROM off_{source}").fetchall())
        for col in src_cols:
            parts.append(f"""
                SELECT t.source, t.col, t.kind, t.written, t.truth, t.id_noise, t.name_noise,
                       l.{col} AS pred, l.{col}_raw AS raw, l.{col}_method AS method, l.{col}_valid AS valid_written,
                       {f"l.{col}__name" if col in name_of else "NULL::VARCHAR"} AS name
                FROM (SELECT l.*, f.o FROM m_{source} l
                      JOIN off_{source} f ON f.file = l.source_file AND f.month = l.month) l
                JOIN truth t ON t.source = '{source}' AND t.col = '{col}' AND t.line = l.source_line + l.o
                 AND t.file = l.source_file AND t.month = l.month""")
    con.execute("CREATE OR REPLACE TEMP TABLE eval_rows AS " + parts[0])
    for part in parts[1:]:
        con.execute("INSERT INTO eval_rows " + part)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE known_valid AS
        SELECT DISTINCT kind, pred AS code FROM eval_rows WHERE valid_written AND pred IS NOT NULL
    """)
    return {k: [x[0] for x in v] for k, v in offsets.items()}


def report(con) -> dict:
    rows = con.execute("""
        WITH e AS (
            SELECT e.*, k.code IS NOT NULL AS repairable FROM eval_rows e
            LEFT JOIN known_valid k ON k.kind = e.kind AND k.code = e.truth
            WHERE NOT valid_written AND written IS NOT NULL
        )
        SELECT kind, id_noise, name_noise, count(*) AS rows, coalesce(sum(repairable::INT), 0) AS repairable,
               count(pred) AS linked, coalesce(sum((pred = truth)::INT), 0) AS correct,
               coalesce(sum((pred IS NOT NULL AND pred <> truth)::INT), 0) AS wrong
        FROM e GROUP BY ALL ORDER BY ALL
    """).fetchall()
    out = {"by_kind": [], "totals": {}}
    totals: dict[str, list[int]] = {}
    for kind, idn, nn, n, rep, linked, correct, wrong in rows:
        out["by_kind"].append({"kind": kind, "id_noise": idn, "name_noise": nn, "rows": n, "repairable": rep,
                               "linked": linked, "correct": correct, "wrong": wrong,
                               "precision": round(correct / linked, 5) if linked else None,
                               "recall": round(correct / rep, 5) if rep else None})
        t = totals.setdefault(kind, [0, 0, 0, 0, 0])
        for i, v in enumerate((n, rep, linked, correct, wrong)):
            t[i] += v
    for kind, (n, rep, linked, correct, wrong) in totals.items():
        p = correct / linked if linked else 1.0
        r = correct / rep if rep else 1.0
        out["totals"][kind] = {"invalid_rows": n, "repairable": rep, "linked": linked, "correct": correct,
                               "wrong": wrong, "precision": round(p, 5), "recall": round(r, 5),
                               "f1": round(2 * p * r / (p + r), 5) if p + r else 0.0}
    changed = con.execute("SELECT count(*) FROM eval_rows WHERE valid_written AND pred IS DISTINCT FROM raw").fetchall()[0][0]
    valid_not_truth = con.execute("SELECT count(*) FROM eval_rows WHERE valid_written AND pred <> truth").fetchall()[0][0]
    merged = con.execute("""SELECT count(*) FROM (SELECT kind, pred FROM eval_rows WHERE pred IS NOT NULL
                            GROUP BY ALL HAVING count(DISTINCT truth) > 1)""").fetchall()[0][0]
    methods = con.execute("SELECT kind, coalesce(method, 'unlinked'), count(*) FROM eval_rows "
                          "WHERE NOT valid_written AND written IS NOT NULL GROUP BY ALL ORDER BY ALL").fetchall()
    out["by_corruption"], out["targets_issue17"], out["by_corruption_source"] = by_corruption(con)
    out["valid_ids_changed"] = changed
    out["valid_written_ids_not_equal_truth"] = valid_not_truth   # loader normalisation, not linkage
    out["linked_values_standing_for_several_true_ids"] = merged
    out["invalid_rows_by_method"] = [{"kind": k, "method": m, "rows": n} for k, m, n in methods]
    return out


COMBO_KINDS = ("id_typo_digit+name_homophone", "id_typo_digit+name_traditional",
               "id_typo_digit+name_mongol_no_dot", "id_typo_digit+name_mongol_other_dot")


def by_corruption(con) -> tuple[list[dict], dict, list[dict]]:
    """Person-ID rows with a bad written ID per corruption kind (ID noise [+ name noise] or the
    decoy kind), and the issue-17 targets."""
    review = "false"
    if _has(con, "review_queue") and "name" in {r[0] for r in con.execute("DESCRIBE eval_rows").fetchall()}:
        review = ("EXISTS (SELECT 1 FROM review_queue q WHERE q.kind = 'person' AND q.left_id = e.written "
                  "AND q.left_name IS NOT DISTINCT FROM e.name)")
    rows = con.execute(f"""
        WITH e AS (
            SELECT e.*, k.code IS NOT NULL AS repairable,
                   CASE WHEN e.id_noise LIKE 'decoy%' OR e.name_noise IN ('none', 'no_name') THEN e.id_noise
                        ELSE e.id_noise || '+' || e.name_noise END AS corruption
            FROM eval_rows e LEFT JOIN known_valid k ON k.kind = e.kind AND k.code = e.truth
            WHERE e.kind = 'person' AND NOT e.valid_written AND e.written IS NOT NULL
        )
        SELECT corruption, count(*), coalesce(sum(repairable::INT), 0), count(pred),
               coalesce(sum((pred = truth)::INT), 0), coalesce(sum((pred IS NOT NULL AND pred <> truth)::INT), 0),
               count(*) FILTER (WHERE pred IS NULL AND {review})
        FROM e GROUP BY ALL ORDER BY ALL
    """).fetchall()
    out = []
    for kind, n, rep, linked, correct, wrong, in_review in rows:
        out.append({"corruption": kind, "rows": n, "repairable": rep, "linked": linked, "correct": correct,
                    "wrong": wrong, "review": in_review, "unlinked": n - linked - in_review,
                    "precision": round(correct / linked, 5) if linked else None,
                    "recall": round(correct / rep, 5) if rep else None})
    got = {r["corruption"]: r for r in out}
    by_source = con.execute(f"""
        WITH e AS (
            SELECT e.*, CASE WHEN e.id_noise LIKE 'decoy%' OR e.name_noise IN ('none', 'no_name') THEN e.id_noise
                             ELSE e.id_noise || '+' || e.name_noise END AS corruption
            FROM eval_rows e WHERE e.kind = 'person' AND NOT e.valid_written AND e.written IS NOT NULL
        )
        SELECT corruption, source, count(*), count(pred), count(*) FILTER (WHERE pred = truth),
               count(*) FILTER (WHERE pred <> truth), count(*) FILTER (WHERE pred IS NULL AND {review})
        FROM e WHERE corruption LIKE '%+%' OR corruption LIKE 'decoy%' GROUP BY ALL ORDER BY ALL""").fetchall()
    out_source = [{"corruption": k, "source": src, "rows": n, "linked": lk, "correct": c, "wrong": w, "review": rv}
                  for k, src, n, lk, c, w, rv in by_source]
    targets = {}
    for kind in COMBO_KINDS:
        r = got.get(kind)
        targets[kind] = None if r is None else {
            "recall": r["recall"], "precision": r["precision"],
            "pass": (r["recall"] or 0) >= 0.99 and r["wrong"] == 0}
    for kind, r in got.items():
        if kind.startswith("decoy"):
            targets[kind] = {"wrong": r["wrong"], "pass": r["wrong"] == 0}
    return out, targets, out_source


def run_own(scale: float, seed: int, db: str, reuse: bool = False) -> dict:
    from benchmarks import linkage_synth
    con = duckdb.connect(db)
    t0 = time.perf_counter()
    if reuse:   # a --db file built before by linkage_synth.build (asof_* and bench_truth are kept)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("asof_social_insurance", "bench_truth")}
    else:
        counts = linkage_synth.build(con, scale=scale, seed=seed)
    t1 = time.perf_counter()
    stats = link_month(con, "2026-10")
    t2 = time.perf_counter()
    build_eval(con, """SELECT source, col, kind, written, truth, id_noise, name_noise,
                       source_line AS line, source || '.csv' AS file, '2026-10' AS month FROM bench_truth""")
    out = {"data": f"own corrupted set (benchmarks/linkage_synth.py), scale {scale}, seed {seed}",
           "rows": counts, "seconds": {"generate": round(t1 - t0, 2), "link_month": round(t2 - t1, 2)},
           "link_stats": stats}
    out.update(report(con))
    return out


def run_generator_output(data: Path, month: str, db: str, reuse: bool = False) -> dict:
    from schemas.loader import load_month
    from zhibu.warehouse import connect, create_asof_views
    if db == ":memory:":
        db = str(Path(tempfile.mkdtemp(prefix="linkage_acc_")) / "warehouse.duckdb")
    con = connect(db)   # the warehouse connection (installs the loader's SQL macros)
    months = sorted(p.name for p in (data / "incoming").iterdir() if p.is_dir() and p.name <= month)
    t0 = time.perf_counter()
    for m in months if not reuse else []:   # --reuse: the --db warehouse already holds these months
        load_month(con, m, data / "incoming" / m)
    t1 = time.perf_counter()
    create_asof_views(con, month)
    stats = link_month(con, month)
    t2 = time.perf_counter()
    truth = data / "truth" / "record_truth.parquet"
    if not truth.exists():     # SYNTH_TRUTH_PARTS=1 leaves the truth in parts
        truth = data / "truth" / "record_truth" / "*.parquet"
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{truth}')").fetchall()}
    # noise: ';'-joined kinds of the ID cell and its name cell; split into the ID kind and the name kind
    noise = "coalesce(noise, '')" if "noise" in cols else "''"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE gen_truth AS
        SELECT source, field AS col, kind, value_written AS written, value_true AS truth,
               coalesce(nullif(regexp_extract({noise}, '((id|uscc)_[a-z0-9_]+)', 1), ''), 'none') AS id_noise,
               coalesce(nullif(regexp_extract({noise}, '((name|firm)_[a-z0-9_]+)', 1), ''), 'none') AS name_noise,
               line, file, month
        FROM read_parquet('{truth}') WHERE month <= '{month}' AND bad IS NULL""")
    offsets = build_eval(con, "SELECT * FROM gen_truth")
    out = {"data": f"project generator output {data}", "months": months, "line_offsets_used": offsets,
           "seconds": {"load": round(t1 - t0, 2), "link_month": round(t2 - t1, 2)}, "link_stats": stats}
    out.update(report(con))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="generator output folder (incoming/ + truth/)")
    ap.add_argument("--month", default=None, help="run month YYYY-MM (default: last month in incoming/)")
    ap.add_argument("--synth-scale", type=float, default=None, help="use the own corrupted set at this scale")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", default=":memory:", help="DuckDB file for the run (default in memory)")
    ap.add_argument("--json", type=Path, help="also write the result here")
    ap.add_argument("--reuse", action="store_true", help="--db already holds a generated set: skip generating")
    args = ap.parse_args(argv)
    if args.data:
        month = args.month or sorted(p.name for p in (args.data / "incoming").iterdir() if p.is_dir())[-1]
        out = run_generator_output(args.data, month, args.db, args.reuse)
    else:
        out = run_own(args.synth_scale if args.synth_scale is not None else 0.02, args.seed, args.db, args.reuse)
    text = json.dumps(out, ensure_ascii=False, indent=1, default=str)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
