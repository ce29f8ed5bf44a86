"""The person-ID repair task side by side: matchers.persons vs Splink (DuckDB backend).

    pip install -c constraints.txt -e '.[bench]'      # Splink 5 is in the bench extra (make bench)
    .venv/bin/python -m benchmarks.linkage_splink --synth-scale 0.02 --json benchmarks/results/linkage_splink.json
    # --bench-python PY runs Splink under another interpreter (a throwaway venv); '' skips it

Task: every distinct (bad citizen ID, name) record of the own corrupted set
(benchmarks/linkage_synth.py, with its planted "ID typo + name variant" rows and decoys) is to be
linked to its person among the valid IDs seen in any source. Both systems get the same left
records (bad ID, name as loaded, birth date and sex from the ID, county, phone, employer) and the
same right records (each valid ID with its most frequent name, county, phone and employer).
Splink runs as a subprocess (this file in `--worker` mode; its wall time includes start-up):
  blocking  substr(id,1,9) | substr(id,10,9) | name + birth   (the usual "half the ID" blocks)
  compare   id Damerau-Levenshtein ≤1/≤2, name Jaro-Winkler ≥.9/≥.7, birth, sex, county, phone,
            employer
  training  λ from name+birth, u by random sampling, m by EM on two blocks
  decide    best candidate per left record with match probability ≥ 0.99
matchers: the production path (one-edit candidate generation + levels.py + bands); links only.
Record-level precision / recall / F1 against the truth, wall time of each (training included).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCEPT = 0.99


# ---------------------------------------------------------------------------------------------
# Splink side (runs under the bench venv; imports only duckdb + splink)
# ---------------------------------------------------------------------------------------------
def splink_worker(work: Path) -> None:
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    import splink.comparison_library as cl

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE left_records AS SELECT * FROM read_parquet('{work / 'left.parquet'}')")
    con.execute(f"CREATE TABLE right_records AS SELECT * FROM read_parquet('{work / 'right.parquet'}')")
    db_api = DuckDBAPI(con)
    left = db_api.register("left_records", dataset_display_name="bad_ids")
    right = db_api.register("right_records", dataset_display_name="valid_ids")
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("substr(id_number, 1, 9)"),
            block_on("substr(id_number, 10, 9)"),
            block_on("name", "birth"),
        ],
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("id_number", [1, 2]),
            cl.JaroWinklerAtThresholds("name", [0.9, 0.7]),
            cl.ExactMatch("birth"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("region"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("employer"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match([block_on("name", "birth")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("substr(id_number, 1, 9)"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    t1 = time.perf_counter()
    preds = linker.inference.predict(threshold_match_probability=0.5)
    rel = preds.as_duckdbpyrelation()
    con.register("preds_rel", rel)
    cols = {r[0] for r in con.execute("DESCRIBE preds_rel").fetchall()}
    l_ds = "source_dataset_l" if "source_dataset_l" in cols else None
    # orient pairs as (bad record, valid id)
    orient = (f"CASE WHEN source_dataset_l = 'bad_ids' THEN unique_id_l ELSE unique_id_r END" if l_ds else "unique_id_l")
    other = (f"CASE WHEN source_dataset_l = 'bad_ids' THEN unique_id_r ELSE unique_id_l END" if l_ds else "unique_id_r")
    n_pairs = con.execute("SELECT count(*) FROM preds_rel").fetchall()[0][0]
    con.execute(f"""
        COPY (SELECT {orient} AS left_id, {other} AS right_id, match_probability FROM preds_rel)
        TO '{work / 'splink_pairs.parquet'}' (FORMAT parquet)""")
    t2 = time.perf_counter()
    (work / "splink_timing.json").write_text(json.dumps({
        "load_and_train_seconds": round(t1 - t0, 2), "predict_seconds": round(t2 - t1, 2),
        "total_seconds": round(t2 - t0, 2), "pairs_scored_over_0.5": n_pairs}))


# ---------------------------------------------------------------------------------------------
# Driver (project venv)
# ---------------------------------------------------------------------------------------------
def _prf(correct: int, linked: int, repairable: int) -> dict:
    p = correct / linked if linked else 1.0
    r = correct / repairable if repairable else 1.0
    return {"linked": linked, "correct": correct, "wrong": linked - correct, "repairable": repairable,
            "precision": round(p, 5), "recall": round(r, 5), "f1": round(2 * p * r / (p + r), 5) if p + r else 0.0}


def run(scale: float, seed: int, bench_python: str | None) -> dict:
    import duckdb

    from benchmarks import linkage_synth
    from matchers.persons import match_persons, occurrences_sql
    from matchers.review import Decisions

    work = Path(tempfile.mkdtemp(prefix="linkage_splink_"))
    con = duckdb.connect()
    linkage_synth.build(con, scale=scale, seed=seed)

    t0 = time.perf_counter()
    ours = match_persons(con, Decisions(), "2026-10")
    ours_seconds = time.perf_counter() - t0

    # the same records for both systems
    con.execute("""
        CREATE TEMP TABLE left_records AS
        SELECT row_number() OVER (ORDER BY raw_id, name NULLS FIRST) AS unique_id, raw_id AS id_number, name,
               substr(raw_id, 7, 8) AS birth, CASE WHEN substr(raw_id, 17, 1) IN ('1','3','5','7','9') THEN 'm' ELSE 'f' END AS sex,
               regions[1] AS region, phones[1] AS phone, employers[1] AS employer
        FROM _p_residue""")
    con.execute(f"""
        CREATE TEMP TABLE right_records AS
        SELECT row_number() OVER (ORDER BY id) + 100000000000 AS unique_id, id AS id_number, mode(name) AS name,
               substr(id, 7, 8) AS birth, CASE WHEN substr(id, 17, 1) IN ('1','3','5','7','9') THEN 'm' ELSE 'f' END AS sex,
               mode(region) AS region, min(phone) AS phone, mode(employer) AS employer
        FROM ({occurrences_sql(con, only="valid")}) GROUP BY id""")
    con.execute(f"COPY left_records TO '{work / 'left.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY right_records TO '{work / 'right.parquet'}' (FORMAT parquet)")

    # truth per left record: the true ID of the rows that carry (bad ID, name), and its corruption
    # kind (as linkage_accuracy.by_corruption: ID noise [+ name noise], or the decoy kind)
    con.execute("""
        CREATE TEMP TABLE left_truth AS
        WITH t AS (
            SELECT *, CASE WHEN id_noise LIKE 'decoy%' OR name_noise IN ('none', 'no_name') THEN id_noise
                           ELSE id_noise || '+' || name_noise END AS corruption
            FROM bench_truth WHERE kind = 'person'
        ), rows AS (
            SELECT s.id_number AS raw_id, s.name, t.truth, t.corruption FROM asof_social_insurance s
            JOIN t ON t.source = 'social_insurance' AND t.col = 'id_number' AND t.source_line = s.source_line
            UNION ALL
            SELECT s.id_number, s.name, t.truth, t.corruption FROM asof_graduates s
            JOIN t ON t.source = 'graduates' AND t.col = 'id_number' AND t.source_line = s.source_line
            UNION ALL
            SELECT s.id_number, s.name, t.truth, t.corruption FROM asof_hiring_filing s
            JOIN t ON t.source = 'hiring_filing' AND t.col = 'id_number' AND t.source_line = s.source_line
            UNION ALL
            SELECT s.beneficiary_id_number, NULL, t.truth, t.corruption FROM asof_subsidy_ledger s
            JOIN t ON t.source = 'subsidy_ledger' AND t.col = 'beneficiary_id_number'
                   AND t.source_line = s.source_line
        )
        SELECT l.unique_id, l.id_number AS raw_id, l.name, any_value(r.truth) AS truth,
               any_value(r.truth) IN (SELECT code FROM _p_known) AS repairable,
               min(r.corruption) AS corruption
        FROM left_records l JOIN rows r ON r.raw_id = l.id_number AND r.name IS NOT DISTINCT FROM l.name
        GROUP BY ALL""")
    con.execute(f"""CREATE TEMP TABLE ours_best AS
                    SELECT t.unique_id AS left_id, o.person_id FROM {ours.links} o
                    JOIN left_records t ON t.id_number = o.raw_id AND t.name IS NOT DISTINCT FROM o.name""")
    n_left = con.execute("SELECT count(*) FROM left_records").fetchall()[0][0]
    n_right = con.execute("SELECT count(*) FROM right_records").fetchall()[0][0]
    result = {
        "data": f"own corrupted set (benchmarks/linkage_synth.py), scale {scale}, seed {seed}",
        "task": "link each distinct (bad citizen ID, name) record to a valid ID; record-level figures",
        "left_records_bad_ids": n_left, "right_records_valid_ids": n_right,
        "matchers": {"seconds": round(ours_seconds, 2), **_scores(con, "ours_best")},
    }

    if bench_python:
        t1 = time.perf_counter()
        proc = subprocess.run([bench_python, str(Path(__file__).resolve()), "--worker", str(work)],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t1
        if proc.returncode != 0:
            result["splink"] = {"python": bench_python, "error": proc.stderr[-3000:]}
        else:
            timing = json.loads((work / "splink_timing.json").read_text())
            con.execute(f"""
                CREATE TEMP TABLE splink_best AS
                SELECT p.left_id, r.id_number AS person_id, p.match_probability
                FROM read_parquet('{work / 'splink_pairs.parquet'}') p
                JOIN right_records r ON r.unique_id = p.right_id
                WHERE p.match_probability >= {ACCEPT}
                QUALIFY row_number() OVER (PARTITION BY p.left_id ORDER BY p.match_probability DESC, r.id_number) = 1""")
            result["splink"] = {"python": bench_python, "seconds": round(wall, 2), **timing,
                                **_scores(con, "splink_best")}
    result["work_dir"] = str(work)
    return result


def _scores(con, best: str) -> dict:
    """Overall precision / recall / F1 / wrong links, wrong links on records whose ID cannot be
    repaired (true owner never seen valid), and per corruption kind."""
    o = con.execute(f"""
        SELECT count(*) FILTER (WHERE s.person_id IS NOT NULL), count(*) FILTER (WHERE s.person_id = t.truth),
               count(*) FILTER (WHERE t.repairable),
               count(*) FILTER (WHERE NOT t.repairable), count(*) FILTER (WHERE NOT t.repairable AND s.person_id IS NOT NULL)
        FROM left_truth t LEFT JOIN {best} s ON s.left_id = t.unique_id""").fetchall()[0]
    kinds = con.execute(f"""
        SELECT t.corruption, count(*), count(*) FILTER (WHERE t.repairable),
               count(s.person_id), count(*) FILTER (WHERE s.person_id = t.truth),
               count(*) FILTER (WHERE s.person_id <> t.truth)
        FROM left_truth t LEFT JOIN {best} s ON s.left_id = t.unique_id GROUP BY ALL ORDER BY ALL""").fetchall()
    return {**_prf(o[1], o[0], o[2]), "unrepairable_records": o[3], "unrepairable_linked_wrongly": o[4],
            "by_corruption": {k: {"records": n, "repairable": rep, "linked": lk, "correct": c, "wrong": w,
                                  "recall": round(c / rep, 5) if rep else None}
                              for k, n, rep, lk, c, w in kinds}}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="matchers vs Splink on the person-ID repair task")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--synth-scale", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bench-python", default=sys.executable,
                    help="python that has splink (default: this one, with the bench extra; '' = skip Splink)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.worker:
        splink_worker(args.worker)
        return
    out = run(args.synth_scale, args.seed, args.bench_python or None)
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        main()
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        main()
