"""`make deploy` against a real `prefect server start`, from a fresh copy of the checkout.

The server runs on a free port with its own PREFECT_HOME (SQLite); `make deploy` creates the
`zhibu-local` pool, registers prefect.yaml's deployments and starts a worker; the worker then
runs the analyst deployment over a sample month (no ZHIBU_HOME or other variable set), and a run
over a missing input folder fails once, without retries.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_checkout(dst: Path) -> Path:
    """What a clone of the committed tree holds (git archive HEAD); the venv is shared."""
    dst.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dst)], input=archive, check=True)
    (dst / ".venv").symlink_to(ROOT / ".venv")
    # the shared venv stands for `make install` having run in this checkout: its stamp must be
    # newer than the copy's pyproject.toml / constraints.txt (or make would build a new venv)
    stamp = (ROOT / ".venv" / ".installed").stat().st_mtime
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(dst / name, (stamp - 1, stamp - 1))
    return dst


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _wait(pred, timeout: float, what: str, step: float = 1.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def _api(client: httpx.Client, method: str, path: str, **kw):
    r = client.request(method, path, **kw)
    r.raise_for_status()
    return r.json()


def _run_deployment(client, dep_id: str, params: dict, timeout: float) -> dict:
    fr = _api(client, "POST", f"/deployments/{dep_id}/create_flow_run", json={"parameters": params})

    def done():
        st = _api(client, "GET", f"/flow_runs/{fr['id']}")
        return st if st["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None
    return _wait(done, timeout, f"flow run {fr['name']}", step=2)


def test_make_deploy_against_real_server(tmp_path):
    t0 = time.monotonic()
    checkout = _fresh_checkout(tmp_path / "checkout")
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "ZHIBU_")) and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", GX_ANALYTICS_ENABLED="false")
    server_log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = None
    try:
        client = httpx.Client(base_url=api_url, timeout=30)

        def healthy():
            try:
                return client.get("/health").status_code == 200
            except httpx.HTTPError:
                return False
        _wait(healthy, 120, "prefect server health")

        denv = dict(env, PREFECT_API_URL=api_url)
        worker_log = open(tmp_path / "deploy.log", "wb")
        worker = subprocess.Popen(["make", "deploy"], cwd=checkout, env=denv, stdout=worker_log,
                                  stderr=subprocess.STDOUT, start_new_session=True)

        def deployed():
            deps = _api(client, "POST", "/deployments/filter", json={})
            return {d["name"]: d for d in deps} if len(deps) >= 2 else None
        deps = _wait(deployed, 120, "the deployments of prefect.yaml")
        assert set(deps) == {"monthly", "analyst-rerun"}
        assert all(d["work_pool_name"] == "zhibu-local" for d in deps.values())
        pool = _api(client, "GET", "/work_pools/zhibu-local")
        assert pool["type"] == "process"
        # flows load from this checkout, not from an environment variable
        (step,) = deps["analyst-rerun"]["pull_steps"]
        assert step["prefect.deployments.steps.set_working_directory"]["directory"] == str(checkout.resolve())

        month = "2025-03"
        ok = _run_deployment(client, deps["analyst-rerun"]["id"],
                             {"month": month, "input_dir": f"data/sample/incoming/{month}"}, 300)
        log = (tmp_path / "deploy.log").read_text(errors="replace")
        assert ok["state"]["type"] == "COMPLETED", log[-3000:]
        assert (checkout / "reports" / month / "report.html").is_file()
        assert (checkout / "data" / "warehouse.duckdb").is_file()

        bad = _run_deployment(client, deps["analyst-rerun"]["id"],
                              {"month": "2025-04", "input_dir": "incoming/does-not-exist"}, 180)
        assert bad["state"]["type"] == "FAILED"
        assert bad["run_count"] <= 1
        tasks = _api(client, "POST", "/task_runs/filter",
                     json={"flow_runs": {"id": {"any_": [bad["id"]]}}})
        assert all(t["run_count"] <= 1 for t in tasks), \
            [(t["name"], t["run_count"]) for t in tasks if t["run_count"] > 1]
        assert not (checkout / "reports" / "2025-04").exists()
    finally:
        if worker is not None:
            _stop(worker)
        _stop(server)
        print(f"deployment test: {time.monotonic() - t0:.1f}s")
