"""A long-lived local Prefect server for analysts who run many months (`zhibu server start`).

Without PREFECT_API_URL every `zhibu run` starts Prefect's ephemeral API server (a uvicorn
process, several seconds on a 2-core machine) and stops it at exit. An analyst re-running months
starts one server once instead: runs report to it, show in its UI, and start in a fraction of the
time. Its address is kept in `<PREFECT_HOME>/zhibu-server.json`; a run uses it only while it
answers (a stale file is ignored, never trusted). `zhibu server stop` ends it. A server configured
by PREFECT_API_URL always wins. Beside it runs a warm runner (zhibu/warm.py) that has the
libraries imported, so a run skips their start-up too; it stops with the server.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DEFAULT_PORT = 4270      # not Prefect's 4200, so a region's shared server keeps its port


def state_file() -> Path:
    return Path(os.environ["PREFECT_HOME"]) / "zhibu-server.json"


def _healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def running() -> dict | None:
    """The recorded server when it answers, else None."""
    try:
        state = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if _healthy(state.get("api_url", "")) else None


def use_if_running() -> str | None:
    """Point this process at the local server (before Prefect is imported); returns its URL."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    state = running()
    if state:
        os.environ["PREFECT_API_URL"] = state["api_url"]
        return state["api_url"]
    return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except (OSError, ProcessLookupError):
        return False


def start_warm_runner(state: dict, timeout: float = 60) -> dict:
    """Start the warm runner (zhibu/warm.py) for this server unless one is alive; recorded in the
    state file. A runner that does not come up is left out, never an error: runs start cold."""
    from zhibu import warm
    if state.get("warm_pid") and _alive(int(state["warm_pid"])) and warm.socket_path().exists():
        return state
    home = Path(os.environ["PREFECT_HOME"])
    log = open(home / "zhibu-warm.log", "ab")
    warm.socket_path().unlink(missing_ok=True)
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "zhibu.warm"], cwd=root,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                            env={**os.environ, "PREFECT_API_URL": state["api_url"]})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and not warm.socket_path().exists():
        time.sleep(0.2)
    if warm.socket_path().exists():
        state = {**state, "warm_pid": proc.pid, "warm_log": log.name}
        state_file().write_text(json.dumps(state), encoding="utf-8")
    return state


def start(port: int = DEFAULT_PORT, timeout: float = 120) -> dict:
    state = running()
    if state:
        return start_warm_runner(state)
    if not _port_free(port):
        raise RuntimeError(f"port {port} is in use by another program: pass --port")
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "zhibu-server.log", "ab")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        env={**os.environ, "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"})
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode}: see {log.name}")
        if _healthy(url):
            state = {"pid": proc.pid, "api_url": url, "ui_url": f"http://127.0.0.1:{port}",
                     "log": log.name}
            state_file().write_text(json.dumps(state), encoding="utf-8")
            return start_warm_runner(state)
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise RuntimeError(f"prefect server did not answer within {timeout:.0f} s: see {log.name}")


def stop() -> bool:
    """Stop the recorded server (its whole process group); False when none was recorded."""
    try:
        state = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if state.get("warm_pid"):
        try:
            os.killpg(int(state["warm_pid"]), signal.SIGTERM)
        except (OSError, ProcessLookupError):
            pass
    pid = int(state.get("pid", 0))
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
    state_file().unlink(missing_ok=True)
    return True
