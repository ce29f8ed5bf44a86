"""核查 recall on the generator's planted ledger cases, from a warehouse the real flow filled.

    .venv/bin/zhibu demo            # or zhibu backfill over generated months
    .venv/bin/python -m benchmarks.verification_recall --data data/sample --warehouse data/warehouse.duckdb

A planted finding must be reported by the run of its month; clean ledger rows must produce none.
Still-pending overdue cases are reported again each month while they wait (until_month).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("data/sample"))
    ap.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    args = ap.parse_args(argv)
    truth = pd.read_parquet(args.data / "truth" / "expected_findings.parquet")
    con = duckdb.connect(str(args.warehouse), read_only=True)
    found = con.execute("SELECT run_month, check_code, application_id FROM verification_findings").df()
    found_keys = set(zip(found.run_month.astype(str), found.check_code, found.application_id))
    planted = truth[truth.check_code != "none"]
    per_check = {}
    for code, rows in planted.groupby("check_code"):
        keys = set(zip(rows.run_month.astype(str), rows.check_code, rows.application_id))
        per_check[code] = {"planted": len(keys), "found": len(keys & found_keys),
                           "recall": round(len(keys & found_keys) / len(keys), 4)}
    clean = set(truth.loc[truth.check_code == "none", "application_id"])
    on_clean = int(found.application_id.isin(clean).sum())
    print(json.dumps({"per_check": per_check, "clean_ledger_rows": len(clean),
                      "findings_on_clean_rows": on_clean}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
