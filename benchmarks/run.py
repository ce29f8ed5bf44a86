"""End-to-end benchmark (issue #9): one regional month at several scales on this machine.

For each scale: generate synthetic extracts (``python -m data.synth ... --formats mixed``, timed;
reused when the same scale/seed/months were generated before), run every month in order through
the user entry point (``zhibu -v run --month M ...`` as a subprocess, fresh warehouse per scale),
and record for the benchmark month (the last one): wall time per stage (``manifest.json`` →
``run.timings``, plus the ``publish`` stage from the ``-v`` log), process wall time, peak RSS
(``/usr/bin/time -v``, else ``getrusage(RUSAGE_CHILDREN)``), input rows, rows/s and the
**scan floor** (DuckDB reading the month's files once: csv via ``read_csv(all_varchar)``, parquet
via ``read_parquet``, xlsx via openpyxl read-only iteration; per file, summed).

Writes ``benchmarks/results/results.json`` (merged with earlier scales), ``results.md`` and
``scaling.png`` (if matplotlib is installed: ``pip install -c constraints.txt '.[bench]'``).
Not part of ``make test``.

    .venv/bin/python -m benchmarks.run --scales 0.1
    .venv/bin/python -m benchmarks.run --scales 0.1 0.3 1 --months 2025-05..2025-06 --seed 1
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
STAGES = ["load", "validate", "link", "decide", "verify", "publish"]
TARGETS = {"wall_s_at_1": 300.0, "rss_gb_at_1": 8.0, "floor_ratio_at_1": 6.0, "scale_ratio": 12.0}
GNU_TIME = "/usr/bin/time"


# ---------------------------------------------------------------- helpers

def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:  # pragma: no cover - informative only
        return f"({e})"


def load_avg() -> str:
    return sh("uptime").split("load average:")[-1].strip()


def expand_months(spec: str) -> list[str]:
    if ".." not in spec:
        return [m for m in spec.split(",") if m]
    a, b = spec.split("..")
    y, m = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    out = []
    while (y, m) <= (yb, mb):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def scale_key(s: float) -> str:
    return f"{s:g}"


def parse_gnu_time(text: str) -> dict:
    out = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        out["peak_rss_kb"] = int(m.group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if m:
        parts = [float(p) for p in m.group(1).split(":")]
        secs = 0.0
        for p in parts:
            secs = secs * 60 + p
        out["elapsed_s"] = secs
    for key, label in (("user_s", "User time (seconds)"), ("sys_s", "System time (seconds)")):
        m = re.search(re.escape(label) + r": ([\d.]+)", text)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"Percent of CPU this job got: (\d+)%", text)
    if m:
        out["cpu_pct"] = int(m.group(1))
    return out


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{t}/children").read_text().split()]
        except OSError:
            pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Every `every` seconds: the largest resident set among the child's process tree, with the
    time of day (to attribute peaks to stages via the log's 'stage X done' lines)."""

    def __init__(self, pid: int, every: float = 1.0):
        import threading
        self.pid, self.every, self.samples = pid, every, []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            rss = max((_rss_kb(p) for p in _descendants(self.pid)), default=0)
            self.samples.append((time.time(), rss))
            self._stop.wait(self.every)

    def stop(self) -> list:
        self._stop.set()
        self._t.join()
        return self.samples


def stage_peaks(samples: list, text: str) -> dict:
    """Peak sampled RSS (GB) per stage: a stage spans from the previous 'stage X done' line (or
    the first sample) to its own; 'after' = after the last done line."""
    if not samples:
        return {}
    day = dt.datetime.fromtimestamp(samples[0][0]).date()
    ends = []
    # Prefect's console lines ("12:00:01.234 | INFO | Flow run 'x' - stage load done in") or the
    # run's own log file beside the warehouse ("2026-12-05 12:00:01,234 prefect.flow_runs INFO stage ...")
    for m in re.finditer(r"(\d\d:\d\d:\d\d[.,]\d+)[^\n]*? stage (\w+) done in", text):
        t = dt.datetime.combine(day, dt.time.fromisoformat(m.group(1).replace(",", "."))).timestamp()
        if t < samples[0][0] - 3600:  # the log line is past midnight
            t += 86400
        ends.append((t, m.group(2)))
    peaks, start = {}, 0.0
    for end, stage in ends + [(float("inf"), "after")]:
        vals = [r for t, r in samples if start <= t < end]
        if vals:
            peaks[stage] = round(max(vals) / 1048576, 2)
        start = end
    return peaks


def run_child(cmd: list[str], log: Path, timeout: float | None, env: dict | None = None,
              samples_out: list | None = None) -> dict:
    """Run cmd (wrapped in /usr/bin/time -v when present), stdout+stderr to log. Kills its own
    process group on timeout. Returns wall, rc, timed_out, peak RSS; the (time, RSS kB) samples
    are appended to `samples_out` when given."""
    use_time = Path(GNU_TIME).exists()
    full = ([GNU_TIME, "-v"] if use_time else []) + cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    timed_out = False
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        p = subprocess.Popen(full, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                             start_new_session=True)
        sampler = RssSampler(p.pid)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGTERM)
            try:
                rc = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                rc = p.wait()
    wall = time.perf_counter() - t0
    samples = sampler.stop()
    if samples_out is not None:
        samples_out.extend(samples)
    res = {"wall_s": round(wall, 3), "rc": rc, "timed_out": timed_out}
    text = log.read_text(encoding="utf-8", errors="replace")
    res["rss_peak_by_stage_gb"] = stage_peaks(samples, text)
    res["rss_sampled_peak_gb"] = round(max((r for _, r in samples), default=0) / 1048576, 2)
    if use_time:
        res.update(parse_gnu_time(text))
    else:
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # ru_maxrss of children is the max over all waited children so far: exact only if it grew
        res["peak_rss_kb"] = after if after > before else None
        res["rss_note"] = "getrusage(RUSAGE_CHILDREN)"
    return res


def stage_log(text: str) -> dict:
    """'stage X done in N.Ns' lines of the -v log."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(?:stage |\d{4}-\d{2} )(\w+) +done in ([\d.]+)s", text)}


# ---------------------------------------------------------------- statement profile (--profile)

class _TimedConnection:
    """Delegates to a DuckDB connection; statements slower than a threshold are appended to a JSONL
    file with their duration and the pipeline code line that issued them. Only `execute`, `sql`,
    `query` and `executemany` are timed (a lazy relation's later consumption is not)."""

    def __init__(self, con, out: Path, threshold: float):
        object.__setattr__(self, "_con", con)
        object.__setattr__(self, "_out", out)
        object.__setattr__(self, "_threshold", threshold)

    def __getattr__(self, name):
        attr = getattr(self._con, name)
        if name not in ("execute", "sql", "query", "executemany"):
            return attr

        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return attr(*a, **kw)
            finally:
                dt_s = time.perf_counter() - t0
                if dt_s >= self._threshold:
                    import traceback
                    where = [f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.name}"
                             for f in traceback.extract_stack()[:-1]
                             if f.filename.startswith(str(ROOT)) and "/benchmarks/" not in f.filename
                             and "/.venv/" not in f.filename]
                    sql = a[0] if a and isinstance(a[0], str) else repr(a[:1])
                    with open(self._out, "a", encoding="utf-8") as f:
                        f.write(json.dumps({"t": round(time.time(), 2), "seconds": round(dt_s, 3),
                                            "where": where[-3:], "sql": " ".join(sql.split())[:600]},
                                           ensure_ascii=False) + "\n")
        return timed

    def __setattr__(self, name, value):
        setattr(self._con, name, value)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._con.__exit__(*exc)


def profile_child(argv: list[str]) -> int:
    """`python -m benchmarks.run --profile-child OUT THRESHOLD -- <zhibu argv>`: the zhibu CLI with
    every warehouse connection wrapped in _TimedConnection (no pipeline code changed)."""
    out, threshold = Path(argv[0]), float(argv[1])
    zargv = argv[argv.index("--") + 1:]
    import zhibu.warehouse as wh
    real = wh.connect

    def connect(*a, **kw):
        return _TimedConnection(real(*a, **kw), out, threshold)
    wh.connect = connect
    import flows.monthly
    flows.monthly.connect = connect
    from zhibu.cli import main as zmain
    return zmain(zargv)


def profile_summary(path: Path, top: int = 12) -> list[dict]:
    if not path.exists():
        return []
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    rows.sort(key=lambda r: -r["seconds"])
    return rows[:top]


# ---------------------------------------------------------------- generation

def generate(scale: float, seed: int, months: list[str], workdir: Path, log_dir: Path) -> tuple[Path, dict]:
    span = f"{months[0]}..{months[-1]}"
    data = workdir / "data" / f"s{scale_key(scale)}-seed{seed}-{span}"
    stamp = data / ".bench-generated.json"
    want = {"scale": scale, "seed": seed, "months": months, "formats": "mixed"}
    if stamp.exists():
        got = json.loads(stamp.read_text())
        if {k: got.get(k) for k in want} == want and all((data / "incoming" / m).is_dir() for m in months):
            got["reused"] = True
            print(f"[bench] S={scale_key(scale)}: reusing {data} (generated in {got['generation']['wall_s']}s)",
                  flush=True)
            return data, got
    if data.exists():
        shutil.rmtree(data)
    data.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SYNTH_TRUTH_PARTS="1")  # record truth as parts: the benchmark needs no merge
    load = load_avg()
    print(f"[bench] S={scale_key(scale)}: generating {span} into {data} (load {load})", flush=True)
    res = run_child([sys.executable, "-m", "data.synth", "--months", span, "--scale", scale_key(scale),
                     "--seed", str(seed), "--out", str(data), "--formats", "mixed"],
                    log_dir / f"generate-s{scale_key(scale)}.log", timeout=None, env=env)
    res["load_before"] = load
    res["load_after"] = load_avg()
    if res["rc"] != 0:
        raise SystemExit(f"generation failed (rc {res['rc']}): see {log_dir}")
    info = dict(want, generation=res, reused=False, data=str(data),
                bytes=sum(f.stat().st_size for f in (data / "incoming").rglob("*") if f.is_file()))
    stamp.write_text(json.dumps(info, indent=1))
    print(f"[bench] S={scale_key(scale)}: generated in {res['wall_s']:.1f}s", flush=True)
    return data, info


# ---------------------------------------------------------------- scan floor

def scan_floor(month_dir: Path, memory_limit: str) -> dict:
    import duckdb
    from schemas.readers import detect_encoding

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    tmp = Path(tempfile.mkdtemp(prefix="zhibu-bench-scan-"))
    files = []
    try:
        for path in sorted(month_dir.iterdir()):
            if not path.is_file():
                continue
            fmt = path.suffix.lstrip(".").lower()
            rec = {"file": path.name, "format": fmt, "bytes": path.stat().st_size}
            t0 = time.perf_counter()
            rows = 0
            if fmt == "csv":
                enc, _ = detect_encoding(path)
                src = path
                if enc.replace("-", "").lower() not in ("utf8", "utf8sig"):
                    # DuckDB reads UTF-8 only (no extension downloads): transcode as the loader does
                    src = tmp / (path.stem + ".utf8.csv")
                    with open(path, "r", encoding=enc, newline="") as s, \
                            open(src, "w", encoding="utf-8", newline="") as d:
                        shutil.copyfileobj(s, d, 1 << 22)
                rec["encoding"] = enc
                rows = drain(con.sql(f"SELECT * FROM read_csv({sql_str(src)}, all_varchar = true, "
                                     "header = true, max_line_size = 10000000)"))
            elif fmt == "parquet":
                rows = drain(con.sql(f"SELECT * FROM read_parquet({sql_str(path)})"))
            elif fmt == "xlsx":
                import openpyxl
                wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
                for ws in wb.worksheets:
                    for _ in ws.iter_rows(values_only=True):
                        rows += 1
                    rows -= 1  # header
                wb.close()
            else:
                continue
            rec["seconds"] = round(time.perf_counter() - t0, 3)
            rec["rows"] = rows
            files.append(rec)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        con.close()
    return {"seconds": round(sum(f["seconds"] for f in files), 3),
            "rows": sum(f["rows"] for f in files), "files": files}


def sql_str(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def drain(result) -> int:
    """Materialise every column of every row (Arrow batches), count rows."""
    n = 0
    reader = (result.to_arrow_reader(1_000_000) if hasattr(result, "to_arrow_reader")
              else result.record_batch(1_000_000))
    for batch in reader:
        n += batch.num_rows
    return n


# ---------------------------------------------------------------- one scale

def bench_scale(scale: float, args, months: list[str]) -> dict:
    sk = scale_key(scale)
    run_dir = args.workdir / "runs" / f"s{sk}-seed{args.seed}"
    log_dir = run_dir / "logs"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    log_dir.mkdir(parents=True)
    data, gen = generate(scale, args.seed, months, args.workdir, log_dir)
    warehouse, output = run_dir / "warehouse.duckdb", run_dir / "reports"
    rec = {"scale": scale, "seed": args.seed, "months": months, "bench_month": months[-1],
           "data": str(data), "input_bytes_all_months": gen.get("bytes"),
           "generation_s": gen["generation"]["wall_s"], "generation_reused": gen["reused"],
           "generation_peak_rss_kb": gen["generation"].get("peak_rss_kb"),
           "generation_load": gen["generation"].get("load_before"),
           "memory_limit": os.environ.get("ZHIBU_MEMORY_LIMIT", "6GB (default)"),
           "started": dt.datetime.now().isoformat(timespec="seconds"), "runs": {}}
    zhibu = str(ROOT / ".venv" / "bin" / "zhibu")
    if not Path(zhibu).exists():
        zhibu = shutil.which("zhibu") or zhibu
    ok = True
    for m in months:
        load = load_avg()
        print(f"[bench] S={sk}: running {m} (load {load}, timeout {args.timeout:.0f}s)", flush=True)
        log = log_dir / f"run-{m}.log"
        prof = log_dir / f"statements-{m}.jsonl"
        pre = ([sys.executable, "-m", "benchmarks.run", "--profile-child", str(prof), str(args.profile_threshold), "--"]
               if args.profile else [zhibu])
        res = run_child([*pre, "-v", "run", "--month", m, "--input", str(data / "incoming" / m),
                         "--warehouse", str(warehouse), "--output", str(output)], log, timeout=args.timeout,
                        env=dict(os.environ, PREFECT_LOGGING_LEVEL="INFO"))  # the flow's 'stage X done' lines
        text = log.read_text(encoding="utf-8", errors="replace")
        res["load_before"], res["load_after"] = load, load_avg()
        res["stages_log"] = stage_log(text)
        if args.profile:
            res["profiled"] = True
            res["slow_statements"] = profile_summary(prof)
        done = [s for s in STAGES if s in res["stages_log"]]
        manifest = output / m / "manifest.json"
        if res["rc"] == 0 and manifest.exists():
            man = json.loads(manifest.read_text(encoding="utf-8"))
            run = man["run"]
            res["code_version"] = man.get("code_version") or run.get("code_version")
            res["timings"] = run["timings"]
            res["input_rows"] = sum(int(f.get("rows_read") or 0) for f in run.get("inputs", []))
            res["rows_loaded"] = sum(int(f.get("rows_loaded") or 0) for f in run.get("inputs", []))
            res["rows_quarantined"] = sum(int(f.get("rows_quarantined") or 0) for f in run.get("inputs", []))
            res["status"] = "ok"
        else:
            ok = False
            res["status"] = "timeout" if res["timed_out"] else f"failed (rc {res['rc']})"
            res["stood_at"] = next((s for s in STAGES if s not in done), "after publish")
            res["tail"] = text.strip().splitlines()[-15:]
        rss = res.get("peak_rss_kb")
        print(f"[bench] S={sk}: {m} {res['status']} in {res['wall_s']:.1f}s, peak RSS "
              f"{(rss or 0) / 1048576:.2f} GB, stages {res['stages_log']}", flush=True)
        rec["runs"][m] = res
        if not ok:
            break
    bm = rec["runs"].get(months[-1])
    if ok and bm:
        load = load_avg()
        print(f"[bench] S={sk}: scan floor of {months[-1]} (load {load})", flush=True)
        rec["scan_floor"] = scan_floor(data / "incoming" / months[-1], args.scan_memory_limit)
        rec["scan_floor"]["load_before"] = load
        stages = {s: bm["timings"].get(s) for s in STAGES if s != "publish"}
        stages["publish"] = bm["stages_log"].get("publish", bm["timings"].get("publish_build"))
        rec["stages"] = stages
        rec["stages_total_s"] = round(sum(v for v in stages.values() if v), 3)
        rec["wall_s"] = bm["wall_s"]
        rec["peak_rss_gb"] = round((bm.get("peak_rss_kb") or 0) / 1048576, 2)
        rec["input_rows"] = bm["input_rows"]
        rec["rows_per_s"] = round(bm["input_rows"] / bm["wall_s"]) if bm["wall_s"] else None
        rec["floor_ratio"] = round(bm["wall_s"] / rec["scan_floor"]["seconds"], 2)
        rec["status"] = "ok"
    else:
        rec["status"] = "incomplete"
    rec["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    return rec


# ---------------------------------------------------------------- reporting

def machine() -> dict:
    import duckdb
    return {"nproc": sh("nproc"), "free_g": sh("free -g"), "cpu": sh("lscpu | grep 'Model name'"),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "kernel": platform.release(), "df_tmp": sh("df -h /tmp | tail -1")}


def judge(results: dict) -> list[tuple[str, str, str]]:
    s1, s01 = results.get("1"), results.get("0.1")
    ok1 = s1 and s1.get("status") == "ok"
    out = []

    def verdict(cond):
        return "PASS" if cond else "FAIL"
    if ok1:
        out.append(("S=1 month end to end ≤ 5 min wall", f"{s1['wall_s']:.0f} s", verdict(s1["wall_s"] <= 300)))
        out.append(("S=1 peak RSS ≤ 8 GB", f"{s1['peak_rss_gb']:.2f} GB", verdict(s1["peak_rss_gb"] <= 8)))
        out.append(("S=1 end to end ≤ 6 × scan floor", f"{s1['floor_ratio']:.1f} ×", verdict(s1["floor_ratio"] <= 6)))
    else:
        why = "not measured" if not s1 else _incomplete(s1)
        for t in ("S=1 month end to end ≤ 5 min wall", "S=1 peak RSS ≤ 8 GB", "S=1 end to end ≤ 6 × scan floor"):
            out.append((t, why, "FAIL" if s1 else "n/a"))
    if ok1 and s01 and s01.get("status") == "ok":
        r = s1["wall_s"] / s01["wall_s"]
        out.append(("time(S=1) ≤ 12 × time(S=0.1)", f"{r:.1f} ×", verdict(r <= 12)))
    else:
        out.append(("time(S=1) ≤ 12 × time(S=0.1)", "not measured" if not s1 else _incomplete(s1),
                    "FAIL" if s1 else "n/a"))
    return out


def _incomplete(rec: dict) -> str:
    for m, r in rec.get("runs", {}).items():
        if r.get("status") != "ok":
            return f"{m}: {r['status']} after {r['wall_s']:.0f} s, in stage {r.get('stood_at')}"
    return rec.get("status", "?")


def fmt_s(v) -> str:
    return "—" if v is None else f"{v:.1f}"


def write_md(doc: dict, path: Path) -> None:
    res = doc["results"]
    mach = doc["machine"]
    scales = sorted(res, key=float)
    L = ["# zhibu end-to-end benchmark (issue #9)", "",
         f"Generated by `benchmarks/run.py` (`make bench`); last updated {doc['updated']}. "
         "Raw numbers: `results.json`; chart: `scaling.png`.", "",
         "## Machine", "",
         f"- nproc: {mach['nproc']}; {mach['cpu'].strip()}",
         f"- Python {mach['python']}, DuckDB {mach['duckdb']}, kernel {mach['kernel']}",
         "- `free -g`:", "", "```", mach["free_g"], "```", "",
         "The machine is shared with other engineers' test runs: the 1-minute load averages "
         "(`uptime`) before/after each measurement are in the tables.", "",
         "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    L += [f"| {t} | {m} | {v} |" for t, m, v in judge(res)]
    L += ["", "## Summary (benchmark month = last month of the run)", "",
          "| scale | input rows | " + " | ".join(STAGES) + " | stages Σ | process wall | scan floor | wall / floor "
          "| peak RSS | rows/s | generation | load (before→after) |",
          "|---" * (len(STAGES) + 10) + "|"]
    for sk in scales:
        r = res[sk]
        if r.get("status") != "ok":
            L.append(f"| {sk} | — | " + " | ".join("—" for _ in STAGES) + f" | — | {_incomplete(r)} | — | — | — | — "
                     f"| {fmt_s(r.get('generation_s'))} s | — |")
            continue
        bm = r["runs"][r["bench_month"]]
        L.append(f"| {sk} | {r['input_rows']:,} | " + " | ".join(fmt_s(r["stages"].get(s)) for s in STAGES)
                 + f" | {r['stages_total_s']:.1f} | **{r['wall_s']:.1f}** | {r['scan_floor']['seconds']:.1f} "
                 f"| {r['floor_ratio']:.1f} × | {r['peak_rss_gb']:.2f} GB | {r['rows_per_s']:,} "
                 f"| {r['generation_s']:.0f} s{' (generated earlier, same scale/seed)' if r['generation_reused'] else ''} "
                 f"| {bm['load_before'].split(',')[0]}→{bm['load_after'].split(',')[0]} |")
    L += ["", "Times in seconds. Stage times are `run.timings` of `<output>/<M>/manifest.json`; `publish` is "
          "the flow's `stage publish done` log line (the manifest only holds `publish_build`, written before "
          "the folder is renamed). Process wall = the `zhibu run` subprocess including interpreter, Prefect "
          "ephemeral API start-up and lock; targets are judged on it. Peak RSS = `/usr/bin/time -v` maximum "
          "resident set of the run process. rows/s = input rows (all sources, `rows_read`) / process wall.", ""]
    for sk in scales:
        r = res[sk]
        if "data" not in r:
            L += [f"## Scale {sk}", "", f"- {r.get('status')}", ""]
            continue
        L += [f"## Scale {sk}", "",
              f"- data: `{r['data']}` (months {', '.join(r['months'])}; seed {r['seed']}; "
              f"{(r.get('input_bytes_all_months') or 0) / 1e9:.2f} GB of extracts for all months)",
              f"- generation: {fmt_s(r.get('generation_s'))} s, peak RSS "
              f"{(r.get('generation_peak_rss_kb') or 0) / 1048576:.2f} GB, load {r.get('generation_load')}"
              f"{' (reused from an earlier run)' if r.get('generation_reused') else ''}",
              f"- ZHIBU_MEMORY_LIMIT: {r['memory_limit']}", "",
              "| month | status | process wall | peak RSS | " + " | ".join(STAGES) + " | load before | load after "
              "| sampled peak RSS by stage (GB) | code version |",
              "|---" * (len(STAGES) + 8) + "|"]
        for m, run in r["runs"].items():
            st = dict(run.get("stages_log", {}))
            L.append(f"| {m} | {run['status']}{' (stood at ' + run['stood_at'] + ')' if run.get('stood_at') else ''} "
                     f"| {run['wall_s']:.1f} | {(run.get('peak_rss_kb') or 0) / 1048576:.2f} GB | "
                     + " | ".join(fmt_s(st.get(s)) for s in STAGES)
                     + f" | {run['load_before']} | {run['load_after']} "
                     f"| {', '.join(f'{k} {v}' for k, v in (run.get('rss_peak_by_stage_gb') or {}).items()) or '—'} "
                     f"| {run.get('code_version') or '—'} |")
        if r.get("scan_floor"):
            sf = r["scan_floor"]
            L += ["", f"Scan floor of {r['bench_month']}: {sf['seconds']:.1f} s for {sf['rows']:,} rows "
                  f"(load before {sf['load_before']}):", "",
                  "| file | format | MB | rows | seconds |", "|---|---|---|---|---|"]
            L += [f"| {f['file']} | {f['format']}{' ' + f['encoding'] if f.get('encoding') else ''} "
                  f"| {f['bytes'] / 1e6:.1f} | {f['rows']:,} | {f['seconds']:.2f} |" for f in sf["files"]]
        for m, run in r["runs"].items():
            if run.get("slow_statements"):
                L += ["", f"Slowest warehouse statements of {m} (`--profile`, ≥ threshold; where = issuing code):", "",
                      "| seconds | where | statement (start) |", "|---|---|---|"]
                L += [f"| {q['seconds']:.1f} | {'<br>'.join(q['where'][-2:])} | `{q['sql'][:160].replace('|', '¦')}` |"
                      for q in run["slow_statements"]]
        for m, run in r["runs"].items():
            if run.get("tail"):
                L += ["", f"Last log lines of {m}:", "", "```", *run["tail"], "```"]
        L.append("")
    if doc.get("notes"):
        L += ["## Notes", "", *doc["notes"], ""]
    L += ["## Reproduce", "", "```",
          "make bench BENCH_ARGS=--profile             # all default scales (0.1 0.3 1), as measured here",
          "# or step by step (what produced these tables):",
          ".venv/bin/python -m benchmarks.run --scales 1 --generate-only          # S=1 data ahead (~15 min)",
          ".venv/bin/python -m benchmarks.run --scales 0.1 0.3 --profile --months 2025-05..2025-06 --seed 1 "
          "--workdir /tmp/zhibu-bench",
          ".venv/bin/python -m benchmarks.run --scales 1 --profile --timeout 1500",
          "# logs: /tmp/zhibu-bench/runs/s<S>-seed1/logs/{run-M.log,statements-M.jsonl}", "```", ""]
    path.write_text("\n".join(L), encoding="utf-8")


def write_png(doc: dict, path: Path) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no chart (pip install -c constraints.txt '.[bench]')"
    res = {k: v for k, v in doc["results"].items() if v.get("status") == "ok"}
    if not res:
        return "no complete scale: no chart"
    scales = sorted(res, key=float)
    fig, ax = plt.subplots(figsize=(8, 5))
    bottom = [0.0] * len(scales)
    x = range(len(scales))
    for s in STAGES:
        vals = [res[k]["stages"].get(s) or 0 for k in scales]
        ax.bar(x, vals, bottom=bottom, label=s)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.plot(x, [res[k]["wall_s"] for k in scales], "k_", markersize=40, mew=2, label="process wall")
    ax.plot(x, [res[k]["scan_floor"]["seconds"] for k in scales], "r_", markersize=40, mew=2, label="scan floor")
    ax.axhline(300, color="grey", ls="--", lw=1, label="5 min target (S=1)")
    ax.set_xticks(list(x), [f"S={k}\n{res[k]['input_rows'] / 1e6:.1f} M rows" for k in scales])
    ax.set_ylabel("seconds (benchmark month)")
    ax.set_title("zhibu: wall time per stage vs scale")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--profile-child":
        return profile_child(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", nargs="+", default=["0.1", "0.3", "1"],
                    help="scales (space or comma separated), default 0.1 0.3 1")
    ap.add_argument("--months", default="2025-05..2025-06", help="A..B; the benchmark month is the last")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/zhibu-bench"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1500, help="seconds per month run (default 25 min)")
    ap.add_argument("--scan-memory-limit", default="4GB")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--fresh", action="store_true", help="forget earlier scales in results.json")
    ap.add_argument("--profile", action="store_true",
                    help="run the CLI with the warehouse connection wrapped to log slow statements "
                         "(logs/statements-M.jsonl); same code path, negligible overhead")
    ap.add_argument("--profile-threshold", type=float, default=1.0, help="seconds (default 1)")
    ap.add_argument("--generate-only", action="store_true",
                    help="only generate (or reuse) the data of each scale, e.g. ahead of a long run")
    args = ap.parse_args(argv)
    scales = [float(s) for part in args.scales for s in part.split(",") if s]
    months = expand_months(args.months)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    print(f"[bench] scales {scales}, months {months}, workdir {args.workdir}; df /tmp: "
          f"{sh('df -h /tmp | tail -1')}", flush=True)

    jpath = args.results / "results.json"
    doc = json.loads(jpath.read_text()) if jpath.exists() and not args.fresh else {}
    doc.setdefault("results", {})
    doc.setdefault("notes", [])
    doc["machine"] = machine()
    if args.generate_only:
        log_dir = args.workdir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for s in scales:
            generate(s, args.seed, months, args.workdir, log_dir)
        return 0
    rc = 0
    for s in scales:
        try:
            rec = bench_scale(s, args, months)
        except SystemExit as e:
            rec = {"scale": s, "status": f"error: {e}", "runs": {}, "months": months}
            rc = 1
        if rec.get("status") != "ok":
            rc = 1
        if jpath.exists() and not args.fresh:  # another bench process may have written meanwhile
            doc["results"] = json.loads(jpath.read_text()).get("results", {})
        doc["results"][scale_key(s)] = rec
        doc["updated"] = dt.datetime.now().isoformat(timespec="seconds")
        jpath.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
        note = write_png(doc, args.results / "scaling.png")
        write_md(doc, args.results / "results.md")
        if note:
            print(f"[bench] {note}", flush=True)
        print(f"[bench] S={scale_key(s)}: {rec.get('status')}; wrote {args.results}", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
