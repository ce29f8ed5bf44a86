"""Estimated match weights next to the hand-set ones, and how much they move from month to month.

    .venv/bin/python -m benchmarks.linkage_weights --synth-scale 0.02 --months 3 \
        --json benchmarks/results/linkage_weights.json --md benchmarks/results/linkage_weights.md

Months: the own corrupted set (benchmarks/linkage_synth.py) with one population (`--seed`) and
another draw of the row noise per month (noise_seed = seed * 100 + i), each linked by
matchers.link.link_month into one warehouse as run months 2026-10, 2026-11, ... so link_weights
holds one set of person weights per month. Reported per (comparison, level): the hand-set weight,
the estimate and the weight used in each month (log2 m/u, bits; `prior` rows are a blocking
rule's prior log2-odds), and the stability figure: the largest |Δ weight_used| (and |Δ weight_est|)
between consecutive months.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from matchers import weights
from matchers.link import link_month


def month_label(i: int) -> str:
    y, m = divmod(9 + i, 12)      # 2026-10, 2026-11, 2026-12, 2027-01, ...
    return f"{2026 + y}-{m + 1:02d}"


def run(scale: float, seed: int, n_months: int) -> dict:
    from benchmarks import linkage_synth
    con = duckdb.connect()
    months, seconds = [], {}
    for i in range(n_months):
        month = month_label(i)
        linkage_synth.build(con, scale=scale, seed=seed, noise_seed=seed * 100 + i)
        t0 = time.perf_counter()
        link_month(con, month)
        seconds[month] = round(time.perf_counter() - t0, 2)
        months.append(month)
    rows = weights.chart_data(con, months[0])
    table = []
    for r in rows:
        per = {m: next((x for x in weights.chart_data(con, m)
                        if (x["comparison"], x["level"]) == (r["comparison"], r["level"])), None) for m in months}
        table.append({"comparison": r["comparison"], "level": r["level"], "label": r["label"],
                      "weight_hand": r["weight_hand"],
                      "weight_est": {m: (v or {}).get("weight_est") for m, v in per.items()},
                      "weight_used": {m: (v or {}).get("weight_used") for m, v in per.items()},
                      "bounded": {m: (v or {}).get("bounded") for m, v in per.items()}})
    drift_used = {f"{a}→{b}": round(weights.weight_drift(con, a, b), 4) for a, b in zip(months, months[1:])}
    drift_est = {}
    for a, b in zip(months, months[1:]):
        drift_est[f"{a}→{b}"] = round(float(con.execute(
            """SELECT coalesce(max(abs(x.weight_est - y.weight_est)), 0) FROM link_weights x
               JOIN link_weights y USING (stage, comparison, level)
               WHERE x.run_month = ? AND y.run_month = ?""", [a, b]).fetchall()[0][0]), 4)
    info = con.execute("""SELECT any_value(pairs_u), any_value(pairs_em) FROM link_weights
                          WHERE run_month = ?""", [months[-1]]).fetchall()[0]
    return {"data": f"own corrupted set (benchmarks/linkage_synth.py), scale {scale}, seed {seed}, "
                    f"noise_seed seed*100+i per month",
            "months": months, "link_month_seconds": seconds, "random_pairs_u": info[0], "em_pairs": info[1],
            "max_abs_delta_weight_used": drift_used, "max_abs_delta_weight_est": drift_est,
            "max_abs_delta_weight_used_overall": max(drift_used.values(), default=0.0),
            "weights": table}


def markdown(out: dict) -> str:
    months = out["months"]
    lines = [f"# Match weights: hand-set vs estimated vs used ({out['data']})", "",
             f"Random pairs for u: {out['random_pairs_u']}; candidate pairs in EM: {out['em_pairs']} "
             f"(month {months[-1]}).", "",
             "Stability, largest |Δ weight_used| between consecutive months (bits): "
             + ", ".join(f"{k} {v:.3f}" for k, v in out["max_abs_delta_weight_used"].items())
             + "; |Δ weight_est|: " + ", ".join(f"{k} {v:.3f}" for k, v in out["max_abs_delta_weight_est"].items()),
             "", "| comparison | level | hand-set | " + " | ".join(f"est {m}" for m in months)
             + " | " + " | ".join(f"used {m}" for m in months) + " |",
             "|---|---|---:|" + "---:|" * (2 * len(months))]

    def f(v):
        return "" if v is None else f"{v:+.2f}"
    for r in out["weights"]:
        used = [f(r["weight_used"][m]) + (" (bound)" if r["bounded"][m] else "") for m in months]
        lines.append(f"| {r['comparison']} | {r['level']} | {f(r['weight_hand'])} | "
                     + " | ".join(f(r["weight_est"][m]) for m in months) + " | " + " | ".join(used) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synth-scale", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--md", type=Path)
    args = ap.parse_args(argv)
    out = run(args.synth_scale, args.seed, args.months)
    text = json.dumps(out, ensure_ascii=False, indent=1, default=str)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    md = markdown(out)
    if args.md:
        args.md.write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
