"""Start-up profile (issue 20): the committed sample month end to end, and `zhibu explain`.

Three ways to run the same month (median of --repeat runs each, real `zhibu` subprocesses):
  cold    no server: each run starts Prefect's ephemeral API and imports every library
  server  `zhibu server start` with its warm runner switched off (ZHIBU_WARM=off)
  warm    `zhibu server start`: the run is handed to the warm runner (zhibu/warm.py)
then `zhibu explain` of a listed beneficiary on the warehouse the runs wrote. Targets: the
sample month <= 6 s wall, explain <= 2 s.

    .venv/bin/python -m benchmarks.startup

Writes ``benchmarks/results/startup.json`` and ``startup.md``. Not part of ``make test``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import RESULTS, ROOT, load_avg, machine

ZHIBU = str(ROOT / ".venv" / "bin" / "zhibu")
SAMPLE = ROOT / "data" / "sample" / "incoming"
TARGET_RUN_S, TARGET_EXPLAIN_S = 6.0, 2.0


def _timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"[startup] {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return round(wall, 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _beneficiary(out: Path, month: str) -> str:
    import duckdb
    return duckdb.sql(f"select beneficiary_id from read_parquet('{out / month / 'eligibility.parquet'}') "
                      "order by beneficiary_id limit 1").fetchall()[0][0]


def measure(month: str, repeat: int, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(work / "prefect-home")
    run = [ZHIBU, "run", "--month", month, "--input", str(SAMPLE / month),
           "--warehouse", str(work / "wh.duckdb"), "--output", str(work / "out")]
    res: dict = {"month": month, "repeat": repeat, "load_avg_before": load_avg(), "modes": {}}
    res["modes"]["cold"] = [_timed(run, {**env, "ZHIBU_WARM": "off"}) for _ in range(repeat)]
    subprocess.run([ZHIBU, "server", "start", "--port", str(_free_port())], env=env, check=True,
                   capture_output=True, timeout=300)
    try:
        res["modes"]["server"] = [_timed(run, {**env, "ZHIBU_WARM": "off"}) for _ in range(repeat)]
        res["modes"]["warm"] = [_timed(run, env) for _ in range(repeat)]
    finally:
        subprocess.run([ZHIBU, "server", "stop"], env=env, capture_output=True, timeout=120)
    who = _beneficiary(work / "out", month)
    res["explain"] = [_timed([ZHIBU, "explain", "--month", month, "--id", who,
                              "--warehouse", str(work / "wh.duckdb")], env) for _ in range(repeat)]
    res["load_avg_after"] = load_avg()
    return res


def write_md(doc: dict, path: Path) -> None:
    r = doc["result"]
    med = {k: statistics.median(v) for k, v in r["modes"].items()}
    lines = ["# Start-up profile", "", f"Machine: {doc['machine'].get('nproc', '?')} cores; "
             f"load average before {r['load_avg_before']}, after {r['load_avg_after']}", "",
             f"`.venv/bin/python -m benchmarks.startup` — sample month {r['month']}, "
             f"median of {r['repeat']} (each run re-runs the month on the same warehouse)", "",
             "| how | runs (s) | median s | target |", "|---|---|---|---|"]
    labels = {"cold": "cold (ephemeral Prefect API, every import)",
              "server": "`zhibu server start`, warm runner off (ZHIBU_WARM=off)",
              "warm": "`zhibu server start` (warm runner)"}
    for k, v in r["modes"].items():
        lines.append(f"| {labels[k]} | {', '.join(map(str, v))} | {med[k]} | "
                     f"{'met' if med[k] <= TARGET_RUN_S else 'not met'} (≤ {TARGET_RUN_S:g} s) |")
    e = statistics.median(r["explain"])
    lines.append(f"| `zhibu explain` | {', '.join(map(str, r['explain']))} | {e} | "
                 f"{'met' if e <= TARGET_EXPLAIN_S else 'not met'} (≤ {TARGET_EXPLAIN_S:g} s) |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2025-03")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="zhibu-startup-"))
    try:
        doc = {"machine": machine(), "result": measure(args.month, args.repeat, work)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "startup.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    write_md(doc, args.results / "startup.md")
    print((args.results / "startup.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
