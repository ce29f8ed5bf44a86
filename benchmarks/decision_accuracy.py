"""Decision accuracy on the generator's planted scenarios, end to end (load → link → decide).

    .venv/bin/python -m benchmarks.decision_accuracy --data data/sample [--output /tmp/acc]

Runs every month of DATA/incoming through the real flow into a fresh warehouse, then compares
each month's eligibility.parquet with DATA/truth/expected_decisions.parquet: a planted
`eligible` row must be listed in its run month (same policy, beneficiary, person); a planted
near-miss must not be listed. Reports precision, recall, F1 and the share listed with the exact
amount and period, per policy.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd


def score(truth: pd.DataFrame, listed: pd.DataFrame) -> dict:
    key = ["run_month", "policy_code", "beneficiary_id", "person_id_number"]
    truth = truth.copy()
    # A firm-level decision with no person (稳岗返还) is judged on the firm alone.
    firm_only = set(listed.loc[listed.person_id_number.isna(), "policy_code"])
    truth.loc[truth.policy_code.isin(firm_only), "person_id_number"] = ""
    listed = listed.assign(person_id_number=listed.person_id_number.fillna(""))
    truth["amount"] = truth["amount"].map(lambda v: None if pd.isna(v) or v == "" else Decimal(str(v)))
    listed = listed.copy()
    listed["amount"] = listed["amount"].map(lambda v: Decimal(str(v)))
    planted_keys = set(map(tuple, truth[key].astype(str).values))
    positives = truth[truth.expected_outcome == "eligible"]
    out = {}
    for policy in sorted(set(truth.policy_code) | set(listed.policy_code)):
        pos = positives[positives.policy_code == policy]
        lst = listed[listed.policy_code == policy]
        # Only rows about planted persons/firms are judged: background rows have no truth.
        judged = lst[[tuple(r) in planted_keys or
                      any((r[1], r[2], r[3]) == (k[1], k[2], k[3]) for k in planted_keys)
                      for r in lst[key].astype(str).values]]
        pos_keys = {tuple(r) for r in pos[key].astype(str).values}
        lst_keys = {tuple(r) for r in judged[key].astype(str).values}
        tp = pos_keys & lst_keys
        exact = 0
        for k in tp:
            t = pos[(pos[key].astype(str) == pd.Series(k, index=key)).all(axis=1)].iloc[0]
            g = judged[(judged[key].astype(str) == pd.Series(k, index=key)).all(axis=1)].iloc[0]
            same_period = str(t.get("period_start") or "") in ("", "None", "nan", str(g.period_start or "")) or \
                str(t.period_start) == str(g.period_start)
            if t.amount == g.amount and same_period:
                exact += 1
        p = len(tp) / len(lst_keys) if lst_keys else 1.0
        r = len(tp) / len(pos_keys) if pos_keys else 1.0
        out[policy] = {"planted_eligible": len(pos_keys), "listed_about_planted": len(lst_keys),
                       "true_positive": len(tp), "precision": round(p, 4), "recall": round(r, 4),
                       "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                       "exact_amount_share": round(exact / len(tp), 4) if tp else None,
                       "missed": sorted("/".join(k) for k in pos_keys - lst_keys)[:10],
                       "unexpected": sorted("/".join(k) for k in lst_keys - pos_keys)[:10]}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("data/sample"))
    ap.add_argument("--output", type=Path, default=None)
    args = ap.parse_args(argv)
    from flows.monthly import monthly_run
    work = args.output or Path(tempfile.mkdtemp(prefix="zhibu-acc-"))
    wh = work / "wh.duckdb"
    for p in (wh, Path(str(wh) + ".wal")):
        p.unlink(missing_ok=True)
    months = sorted(p.name for p in (args.data / "incoming").iterdir() if p.is_dir())
    t = time.perf_counter()
    listed = []
    for m in months:
        folder = Path(monthly_run(month=m, input_dir=str(args.data / "incoming" / m), warehouse=str(wh),
                                  output=str(work / "out")))
        listed.append(pd.read_parquet(folder / "eligibility.parquet"))
    elapsed = time.perf_counter() - t
    truth = pd.read_parquet(args.data / "truth" / "expected_decisions.parquet")
    result = score(truth, pd.concat(listed, ignore_index=True))
    print(json.dumps({"months": months, "seconds": round(elapsed, 1), "per_policy": result},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
