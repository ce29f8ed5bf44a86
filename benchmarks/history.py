"""History profile (issue 20): does a month cost the same when the warehouse holds years?

One warehouse is fed generated months in order (``zhibu run`` per month, as a subprocess, like
``benchmarks.run``); for the months asked for (default 2, 12 and 24) it records wall time per
stage and peak RSS, and judges month N against month 2 (target: within 1.2x in wall and RSS).
Every month is run (history must be built), but only the reported ones are kept in the table.

    .venv/bin/python -m benchmarks.history --scale 0.1 --months 2025-01..2026-12 --report 2 12 24

Writes ``benchmarks/results/history.json``, ``history.md`` and ``history.png`` (matplotlib).
Not part of ``make test``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
from pathlib import Path

from benchmarks.run import (RESULTS, ROOT, STAGES, expand_months, generate, load_avg, machine, run_child,
                            scale_key, stage_log, stage_peaks)

TARGET_RATIO = 1.2


def warm_page_cache(folder: Path) -> None:
    """Read the month's files once before it runs, so every month (and its control) starts with
    its extracts in the page cache. Without it the load stage of an S=1 month varied by ~10 s with
    what else the machine had read since (its 2.3 GB contributions file evicted or not)."""
    for f in sorted(folder.glob("*")):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass


def run_month(month: str, data: Path, warehouse: Path, output: Path, log_dir: Path, timeout: float) -> dict:
    """`zhibu -v run` of one month as a subprocess: wall, stages, peak RSS (in all and per stage),
    the rows its files held, the load average before and after."""
    log_dir.mkdir(parents=True, exist_ok=True)
    warm_page_cache(data / "incoming" / month)
    load = load_avg()
    log = log_dir / f"run-{month}.log"
    own_logs = warehouse.parent / "logs"          # where `zhibu run` writes its own log
    samples, before = [], set(own_logs.glob("zhibu-*.log"))
    zhibu = str(ROOT / ".venv" / "bin" / "zhibu")
    res = run_child([zhibu, "-v", "run", "--month", month, "--input", str(data / "incoming" / month),
                     "--warehouse", str(warehouse), "--output", str(output)], log, timeout=timeout,
                    env=dict(os.environ, PREFECT_LOGGING_LEVEL="INFO"), samples_out=samples)
    text = log.read_text(encoding="utf-8", errors="replace")
    # the run's own log (beside the warehouse) has the times that place RSS samples in stages
    run_logs = sorted(set(own_logs.glob("zhibu-*.log")) - before)
    run_log = run_logs[-1].read_text(encoding="utf-8", errors="replace") if run_logs else ""
    return {"month": month, "rc": res["rc"], "wall_s": res["wall_s"], "stages": stage_log(text),
            "peak_rss_gb": round((res.get("peak_rss_kb") or 0) / 1048576, 2),
            "rss_peak_by_stage_gb": stage_peaks(samples, run_log) if run_log else {},
            "rows_read": sum(int(n) for n in re.findall(r" read \S+: (\d+) rows", run_log)),
            "load_before": load, "load_after": load_avg(), "tail": text.strip().splitlines()[-10:]}


def run_history(scale: float, months: list[str], report: list[int], workdir: Path, seed: int,
                timeout: float, control: bool = True) -> dict:
    """Feed `months` in order to one warehouse; keep the `report` months (1-based) and, with
    `control`, each one's control run."""
    sk = scale_key(scale)
    run_dir = workdir / "history" / f"s{sk}-seed{seed}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    log_dir = run_dir / "logs"
    log_dir.mkdir(parents=True)
    data, gen = generate(scale, seed, months, workdir, log_dir)
    warehouse, output = run_dir / "warehouse.duckdb", run_dir / "reports"
    rec = {"scale": scale, "seed": seed, "months": months, "started": dt.datetime.now().isoformat(timespec="seconds"),
           "runs": {}}
    for i, m in enumerate(months, start=1):
        res = run_month(m, data, warehouse, output, log_dir, timeout)
        print(f"[history] S={sk} month {i} ({m}): rc {res['rc']} in {res['wall_s']:.1f}s, "
              f"peak {res['peak_rss_gb']:.2f} GB, load {res['load_before']}, stages {res['stages']}", flush=True)
        rec.setdefault("every_month", []).append({k: res[k] for k in ("rc", "wall_s", "stages", "peak_rss_gb", "rows_read")}
                                                 | {"n": i, "month": m})
        if res["rc"] != 0:
            rec["failed_at"] = {"month": m, "tail": res["tail"]}
            break
        if i in report:
            rec["runs"][str(i)] = {k: v for k, v in res.items() if k not in ("rc", "tail")} | {
                "warehouse_gb": round(warehouse.stat().st_size / 2**30, 2)}
    # The control: the generated months grow (more people insured each month), so month N is also
    # a bigger month than month 2. Month N's own files run on a warehouse that holds only month
    # N-1 (one month of history, as month 2 has); N against its control is the cost of history.
    if control and not rec.get("failed_at"):
        for k in sorted(rec["runs"], key=int):
            i = int(k)
            if i <= 2:          # month 1 or 2 has (at most) one month of history: it is its own control
                rec["runs"][k]["control"] = {k2: rec["runs"][k][k2] for k2 in ("month", "wall_s", "stages", "peak_rss_gb")}
                continue
            cdir = run_dir / f"control-{i}"
            for m in months[i - 2:i]:
                res = run_month(m, data, cdir / "warehouse.duckdb", cdir / "reports", log_dir / f"control-{i}", timeout)
                if res["rc"] != 0:
                    rec["runs"][k]["control"] = {"failed": res["tail"]}
                    break
            else:
                rec["runs"][k]["control"] = {k2: v for k2, v in res.items() if k2 not in ("rc", "tail")}
                print(f"[history] S={sk} control for month {i} ({m}, one month of history): {res['wall_s']:.1f}s, "
                      f"peak {res['peak_rss_gb']:.2f} GB, stages {res['stages']}", flush=True)
            shutil.rmtree(cdir / "reports", ignore_errors=True)
    rec["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    base = rec["runs"].get(str(min(report)))
    if base:
        for k, r in rec["runs"].items():
            r["wall_vs_base"] = round(r["wall_s"] / base["wall_s"], 2)
            c = r.get("control") or {}
            if c.get("wall_s"):
                r["wall_vs_control"] = round(r["wall_s"] / c["wall_s"], 2)
                r["rss_vs_control"] = round(r["peak_rss_gb"] / c["peak_rss_gb"], 2) if c.get("peak_rss_gb") else None
            r["rss_vs_base"] = round(r["peak_rss_gb"] / base["peak_rss_gb"], 2) if base["peak_rss_gb"] else None
    return rec


def write_md(doc: dict, path: Path) -> None:
    lines = ["# History profile", "", f"Machine: {doc['machine']['nproc']} cores, {doc['machine']['cpu']}, DuckDB {doc['machine']['duckdb']}", "",
             "`.venv/bin/python -m benchmarks.history " + " ".join(doc["argv"]) + "`", ""]
    for rec in doc["scales"]:
        base = min((int(k) for k in rec["runs"]), default=2)
        lines += [f"## S={scale_key(rec['scale'])}, months {rec['months'][0]}..{rec['months'][-1]}", "",
                  "| month | run month | wall s | " + " | ".join(STAGES)
                  + f" | peak RSS GB | warehouse GB | wall / month {base} | RSS / month {base} | load avg |",
                  "|---" * (len(STAGES) + 8) + "|"]
        for k, r in sorted(rec["runs"].items(), key=lambda kv: int(kv[0])):
            st = " | ".join(f"{r['stages'].get(s, float('nan')):.1f}" for s in STAGES)
            lines.append(f"| {k} | {r['month']} | {r['wall_s']:.1f} | {st} | {r['peak_rss_gb']:.2f} | "
                         f"{r['warehouse_gb']:.2f} | {r.get('wall_vs_base')} | {r.get('rss_vs_base')} | {r['load_before']} |")
        controls = [(k, r) for k, r in sorted(rec["runs"].items(), key=lambda kv: int(kv[0])) if r.get("control", {}).get("wall_s")]
        if controls:
            lines += ["", "**History's own cost.** The generated months grow (more people insured each month), so a "
                      "later month is also a bigger month. Its control runs the same month's files on a warehouse "
                      "holding only the month before (one month of history, as month 2 has):", "",
                      "| month | rows read | wall s | control wall s | wall / control | peak RSS GB | control RSS GB | "
                      "RSS / control | control stages |", "|---" * 9 + "|"]
            for k, r in controls:
                c = r["control"]
                cst = ", ".join(f"{s_} {c['stages'].get(s_, float('nan')):.1f}" for s_ in STAGES)
                lines.append(f"| {k} | {r.get('rows_read', '')} | {r['wall_s']:.1f} | {c['wall_s']:.1f} | "
                             f"{r.get('wall_vs_control')} | {r['peak_rss_gb']:.2f} | {c['peak_rss_gb']:.2f} | "
                             f"{r.get('rss_vs_control')} | {cst} |")
        peaks = [(k, r["rss_peak_by_stage_gb"]) for k, r in sorted(rec["runs"].items(), key=lambda kv: int(kv[0]))
                 if r.get("rss_peak_by_stage_gb")]
        if peaks:
            lines += ["", "Peak RSS sampled within each stage (GB, once a second):", "",
                      "| month | " + " | ".join(STAGES) + " | after |", "|---" * (len(STAGES) + 2) + "|"]
            for k, pk in peaks:
                lines.append(f"| {k} | " + " | ".join(str(pk.get(st, "")) for st in (*STAGES, "after")) + " |")
        every = rec.get("every_month", [])
        if every:
            lines += ["", "Every month (wall and the stages that read history, seconds; peak RSS GB):", "",
                      "| month | " + " | ".join(str(r["n"]) for r in every) + " |",
                      "|---" * (len(every) + 1) + "|"]
            for label, get in (("wall", lambda r: f"{r['wall_s']:.0f}"),
                               *((st, (lambda st: lambda r: f"{r['stages'].get(st, float('nan')):.1f}")(st))
                                 for st in ("load", "link", "decide", "verify", "publish")),
                               ("RSS", lambda r: f"{r['peak_rss_gb']:.2f}"),
                               ("rows read, M", lambda r: f"{r['rows_read'] / 1e6:.2f}" if r.get("rows_read") else "")):
                lines.append(f"| {label} | " + " | ".join(get(r) for r in every) + " |")
        if rec.get("failed_at"):
            lines += ["", f"Stopped: {rec['failed_at']['month']} failed:", "", "```", *rec["failed_at"]["tail"], "```"]
        lines.append("")
        lines.append(f"Target: every reported month within {TARGET_RATIO}x of the first in wall and peak RSS "
                     "(and, judged without the growth of the months themselves, of its control).")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_png(doc: dict, path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(9, 4.5))
    rss_ax = ax.twinx()
    for rec in doc["scales"]:
        every = rec.get("every_month") or [{"n": int(k), **v} for k, v in sorted(rec["runs"].items(), key=lambda kv: int(kv[0]))]
        xs = [r["n"] for r in every]
        sk = scale_key(rec["scale"])
        ax.plot(xs, [r["wall_s"] for r in every], marker="o", label=f"S={sk} wall")
        for st in ("link", "decide"):
            ax.plot(xs, [r["stages"].get(st) for r in every], marker=".", linestyle="--", label=f"S={sk} {st}")
        rss_ax.plot(xs, [r["peak_rss_gb"] for r in every], color="grey", linestyle=":", label=f"S={sk} peak RSS")
    ax.set_xlabel("month of the warehouse's history (1 = first month loaded)")
    ax.set_ylabel("seconds")
    rss_ax.set_ylabel("peak RSS, GB")
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = rss_ax.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, nargs="+", default=[0.1])
    ap.add_argument("--months", default="2025-01..2026-12", help="A..B, run in order on one warehouse")
    ap.add_argument("--report", type=int, nargs="+", default=[2, 12, 24], help="which months (1-based) to report")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/zhibu-bench"))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--timeout", type=float, default=1500)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--no-control", dest="control", action="store_false",
                    help="skip the control runs (each reported month on a warehouse with one month of history)")
    ap.add_argument("--name", default="history", help="file stem of the results (history_s1 for an S=1 profile)")
    args = ap.parse_args(argv)
    months = expand_months(args.months)
    doc = {"machine": machine(), "argv": sys.argv[1:] if argv is None else argv, "scales": []}
    for s in args.scale:
        doc["scales"].append(run_history(s, months, [r for r in args.report if r <= len(months)],
                                         args.workdir, args.seed, args.timeout, args.control))
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{args.name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    write_md(doc, args.results / f"{args.name}.md")
    write_png(doc, args.results / f"{args.name}.png")
    print(f"[history] wrote {args.results / (args.name + '.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
