"""The CLI as a user meets it (real subprocesses): one line on failure with the log file, no
retries of a bad file, no orphan Prefect server after SIGKILL, read-only explain, help."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from conftest import SAMPLE, copy_warehouse
from test_flows import data_hashes

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}


def zhibu(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "zhibu.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**ENV, **(env or {})})


def _failure_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    fails = [line for line in lines if line.startswith("zhibu:")]
    assert len(fails) == 1, stderr
    # everything else on the terminal is progress, never a traceback or an engine log
    others = [line for line in lines if not line.startswith("zhibu:")]
    assert all(line.startswith(("[", "  ")) for line in others), others
    assert "Traceback" not in stderr
    return fails[0]


def test_failure_is_one_line_naming_month_stage_and_log(tmp_path):
    m = "2025-03"
    r = zhibu("run", "--month", m, "--input", str(SAMPLE / "incoming" / m), "--warehouse", str(tmp_path / "wh.duckdb"),
              "--output", str(tmp_path / "out"), env={"ZHIBU_FAIL_AT": "verify"})
    assert r.returncode == 1
    line = _failure_line(r.stderr)
    assert f"{m} 在「核查」阶段失败" in line and f"{m} failed at stage verify" in line and "请" in line
    log = Path(line.split("日志 log: ")[1].strip())
    assert log.is_file() and "Traceback" in log.read_text(encoding="utf-8")
    assert not (tmp_path / "out" / m).exists()


def test_bad_file_fails_once_without_retries(tmp_path):
    m = "2025-03"
    inp = tmp_path / m
    import shutil
    shutil.copytree(SAMPLE / "incoming" / m, inp)
    bad = next(p for p in sorted(inp.iterdir()) if p.suffix == ".csv")
    bad.write_bytes(b"")
    t = time.monotonic()
    r = zhibu("run", "--month", m, "--input", str(inp), "--warehouse", str(tmp_path / "wh.duckdb"),
              "--output", str(tmp_path / "out"))
    elapsed = time.monotonic() - t
    assert r.returncode == 1
    line = _failure_line(r.stderr)
    assert "failed at stage load" in line and bad.name in line and "empty file" in line
    log = Path(line.split("日志 log: ")[1].strip()).read_text(encoding="utf-8")
    assert "Retrying" not in log and "AwaitingRetry" not in log     # Prefect's retry messages
    assert elapsed < 60, elapsed


def test_sigkill_leaves_no_prefect_server(tmp_path):
    m = "2025-03"
    p = subprocess.Popen([sys.executable, "-m", "zhibu.cli", "run", "--month", m, "--input",
                          str(SAMPLE / "incoming" / m), "--warehouse", str(tmp_path / "wh.duckdb"),
                          "--output", str(tmp_path / "out")], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(p.pid)
    servers = []
    deadline = time.monotonic() + 120
    while not servers and time.monotonic() < deadline:
        servers = [c for c in proc.children(recursive=True) if "uvicorn" in " ".join(c.cmdline())]
        time.sleep(0.2)
    assert servers, "the run started no Prefect server"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    gone, alive = psutil.wait_procs(servers, timeout=15)
    assert not alive, f"orphan server(s) left: {[s.pid for s in alive]}"


def test_calendar_year_missing_stops_before_anything_is_written(tmp_path):
    inp = tmp_path / "2027-01"
    inp.mkdir()
    wh = tmp_path / "w" / "wh.duckdb"
    r = zhibu("run", "--month", "2027-01", "--input", str(inp), "--warehouse", str(wh),
              "--output", str(tmp_path / "out"), env={"ZHIBU_WORKDAYS_OVERRIDE": str(tmp_path / "none.yaml")})
    assert r.returncode == 1
    line = _failure_line(r.stderr)
    assert "2027" in line and "docs/calendar.md" in line
    assert not wh.parent.exists() and not (tmp_path / "out").exists()


def test_explain_is_read_only_and_works_while_a_run_holds_the_warehouse(sample_run, sample_months, tmp_path):
    from zhibu.runinfo import sha256_file
    from zhibu.warehouse import exclusive
    wh = copy_warehouse(sample_run[0], tmp_path)
    last = sample_months[-1]
    con = duckdb.connect(str(wh), read_only=True)
    key = con.execute("SELECT right_id FROM review_queue WHERE run_month = ? ORDER BY ALL LIMIT 1", [last]).fetchone()[0]
    con.close()
    before = sha256_file(wh)
    # a run holds the warehouse: its lock and DuckDB's write lock
    with exclusive(wh):
        writer = duckdb.connect(str(wh))
        try:
            t = time.monotonic()
            r = zhibu("explain", "--month", last, "--id", key, "--warehouse", str(wh))
            elapsed = time.monotonic() - t
        finally:
            writer.close()
    assert r.returncode == 0, r.stderr
    assert "【" in r.stdout and "待人工复核 / pending review" in r.stdout and key in r.stdout
    print(f"explain during a run: {elapsed:.2f}s")
    assert sha256_file(wh) == before

    t = time.monotonic()
    r = zhibu("explain", "--month", last, "--id", key, "--warehouse", str(wh))
    print(f"explain: {time.monotonic() - t:.2f}s")
    assert r.returncode == 0 and sha256_file(wh) == before

    r = zhibu("explain", "--month", last, "--id", "150102199003071234", "--warehouse", str(wh))
    assert r.returncode == 0 and "未找到" in r.stdout
    r = zhibu("explain", "--month", last, "--id", "abc", "--warehouse", str(wh))
    assert r.returncode != 0 and "abc" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    typo = tmp_path / "typo" / "wh.duckdb"
    r = zhibu("explain", "--month", last, "--id", key, "--warehouse", str(typo))
    assert r.returncode != 0 and "does not exist" in r.stderr and not typo.parent.exists()
    assert sha256_file(wh) == before


def test_help_version_and_bare_command():
    r = zhibu()
    assert r.returncode == 0 and "usage: zhibu" in r.stdout and "required" not in r.stderr
    r = zhibu("--version")
    assert r.returncode == 0 and r.stdout.startswith("zhibu ") and "code" in r.stdout
    for sub in ("run", "backfill", "demo", "explain", "policies", "calendar"):
        text = zhibu(sub, "--help").stdout
        opts = [line for line in text.splitlines() if line.strip().startswith("--")]
        assert opts
        body = " ".join(text.split("options:")[1].split())
        for opt in ("--month", "--input", "--warehouse", "--output", "--partitions", "--id", "--out"):
            if f"{opt} " in text.split("options:")[0] or f"[{opt}" in text:
                assert f"{opt}" in body
        # every option says its default or that it is required
        for chunk in body.split(" --")[1:]:
            if chunk.startswith(("help", "version")):
                continue
            assert "default" in chunk or "required" in chunk, chunk


def test_a_local_server_started_once_serves_later_runs_and_stops(tmp_path):
    """`zhibu server start`: runs report to it (visible in its UI) and start no ephemeral server;
    its warm runner runs them with the same outputs as a cold run, failures and Ctrl-C included;
    `zhibu server stop` leaves nothing running; a stale record is ignored."""
    import json
    import urllib.request
    home = {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    port = str(_free_port())
    start = zhibu("server", "start", "--port", port, env=home, timeout=180)
    assert start.returncode == 0, start.stderr
    state = json.loads((tmp_path / "prefect-home" / "zhibu-server.json").read_text(encoding="utf-8"))
    try:
        assert zhibu("server", "status", env=home).returncode == 0
        m = "2025-03"
        proc = subprocess.Popen([sys.executable, "-m", "zhibu.cli", "run", "--month", m, "--input",
                                 str(SAMPLE / "incoming" / m), "--warehouse", str(tmp_path / "wh.duckdb"),
                                 "--output", str(tmp_path / "out")], env={**ENV, **home},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children = set()
        while proc.poll() is None:       # the run starts no uvicorn of its own
            try:
                children |= {" ".join(c.cmdline()) for c in psutil.Process(proc.pid).children(recursive=True)}
            except psutil.Error:
                pass
            time.sleep(0.2)
        assert proc.returncode == 0, proc.stderr.read()
        assert not [c for c in children if "uvicorn" in c], children
        req = urllib.request.Request(state["api_url"] + "/flow_runs/filter", data=b"{}",
                                     headers={"content-type": "application/json"})
        runs = json.loads(urllib.request.urlopen(req, timeout=10).read())
        assert [r["state_name"] for r in runs] == ["Completed"]

        # the warm runner (zhibu/warm.py) ran it: another process, the same outputs as a cold run
        assert state.get("warm_pid") and psutil.pid_exists(state["warm_pid"]), state
        warm_manifest = json.loads((tmp_path / "out" / m / "manifest.json").read_text(encoding="utf-8"))
        assert warm_manifest["run"]["pid"] != proc.pid
        cold = zhibu("run", "--month", m, "--input", str(SAMPLE / "incoming" / m), "--warehouse",
                     str(tmp_path / "cold.duckdb"), "--output", str(tmp_path / "cold"),
                     env={**home, "ZHIBU_WARM": "off"})
        assert cold.returncode == 0, cold.stderr
        cold_manifest = json.loads((tmp_path / "cold" / m / "manifest.json").read_text(encoding="utf-8"))
        assert cold_manifest["run"]["pid"] != warm_manifest["run"]["pid"]
        assert data_hashes(tmp_path / "out" / m) == data_hashes(tmp_path / "cold" / m)

        # its failures read as a cold run's: the message and the exit code reach the caller
        bad = zhibu("run", "--month", m, "--input", str(tmp_path / "nowhere"), "--warehouse",
                    str(tmp_path / "wh.duckdb"), "--output", str(tmp_path / "out"), env=home)
        assert bad.returncode == 1 and "nowhere" in bad.stderr, bad.stderr

        # Ctrl-C at the caller interrupts the run in the runner and releases the warehouse
        proc = subprocess.Popen([sys.executable, "-m", "zhibu.cli", "run", "--month", m, "--input",
                                 str(SAMPLE / "incoming" / m), "--warehouse", str(tmp_path / "wh.duckdb"),
                                 "--output", str(tmp_path / "out")], env={**ENV, **home},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode in (130, 1), err
        assert "中断" in err or "interrupt" in err.lower(), err
        assert [p for p in psutil.Process(state["warm_pid"]).children()
                if p.status() != psutil.STATUS_ZOMBIE] == []
        duckdb.connect(str(tmp_path / "wh.duckdb")).close()      # no run holds it
    finally:
        assert zhibu("server", "stop", env=home).returncode == 0
    assert not psutil.pid_exists(state["pid"]) or psutil.Process(state["pid"]).status() == psutil.STATUS_ZOMBIE
    assert not psutil.pid_exists(state["warm_pid"]) or \
        psutil.Process(state["warm_pid"]).status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / "prefect-home" / "zhibu-warm.sock").exists()
    assert zhibu("server", "status", env=home).returncode == 1


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_busy_warehouse_fails_at_once_before_any_server_starts(tmp_path):
    from zhibu.warehouse import exclusive
    wh = tmp_path / "wh.duckdb"
    m = "2025-03"
    with exclusive(wh):
        t = time.monotonic()
        r = zhibu("run", "--month", m, "--input", str(SAMPLE / "incoming" / m), "--warehouse", str(wh),
                  "--output", str(tmp_path / "out"))
        elapsed = time.monotonic() - t
    assert r.returncode == 1
    line = _failure_line(r.stderr)
    assert "in use by another run" in line and "--wait" in line
    assert elapsed < 20, elapsed       # imports only: no Prefect server was started for it


def test_link_stage_advice_names_the_decisions_file_only_when_it_is_the_cause():
    """An engine error at the link stage must not send the analyst to a decisions file that is fine."""
    from flows.monthly import RunFailed
    from matchers.review import DecisionsFileError
    from zhibu.cli import failure_line
    bad_line = failure_line(RunFailed("2026-12", "link", DecisionsFileError("decisions file d.csv line 3: …")),
                            Path("x.log"))
    assert "复核决定文件" in bad_line and "d.csv line 3" in bad_line
    engine = failure_line(RunFailed("2026-12", "link", duckdb.BinderException('column "regions" not found')),
                          Path("x.log"))
    assert "复核决定文件" not in engine and "查看日志" in engine and "failed at stage link" in engine
