"""A warm runner beside the local server: `zhibu run` without the start-up (`zhibu server start`).

A cold `zhibu run` spends ~4 s importing Prefect, Great Expectations, pandas and pyarrow before
it reads a row, and the Great Expectations import, started in the background, slows the load
stage it overlaps. An analyst re-running a small month pays that every time. The warm runner is
a process that has imported them once and waits on a unix socket; each `zhibu run` that finds it
hands over its arguments, working directory, environment and terminal (its stdin/stdout/stderr
file descriptors) and the runner forks a child that runs exactly that command (`zhibu.cli.main`)
on the caller's terminal. The caller waits for the child's exit code and forwards Ctrl-C to it.

The runner is used only when it would run the same thing: the same Python, the same code (the
code version hashes every shipped file, policies included) and the same Prefect settings
(PREFECT_*, GX_* and ZHIBU_* variables, which Prefect reads when it is imported). Otherwise, or
when the socket does not answer, the run starts cold as before: the runner is a speed-up, never a
dependency (ZHIBU_WARM=off runs cold on purpose). Runs report to the local server like any other
run and show in its UI.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

CHILD_FLAG = "ZHIBU_WARM_CHILD"        # set in a forked run: it must not delegate again
_ENV_PREFIXES = ("PREFECT_", "GX_", "ZHIBU_")
_PRELOAD = ("prefect", "great_expectations", "pandas", "pyarrow", "duckdb", "openpyxl", "xlsxwriter",
            "flows.monthly", "schemas.gate", "schemas.loader", "matchers.link", "policies.engine",
            "reports.publish", "zhibu.verification.runner")


def socket_path() -> Path:
    return Path(os.environ["PREFECT_HOME"]) / "zhibu-warm.sock"


def fingerprint() -> str:
    """What a run's behaviour depends on that the runner fixed when it imported its modules."""
    from zhibu.runinfo import code_version
    env = sorted((k, v) for k, v in os.environ.items()
                 if k.startswith(_ENV_PREFIXES) and k != CHILD_FLAG)
    text = json.dumps([sys.executable, code_version(), env])
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- caller side
def delegate(argv: list[str]) -> int | None:
    """Run `zhibu <argv>` in the warm runner on this terminal; its exit code, or None when no
    runner answers or it would not run the same thing (the caller then runs cold)."""
    if os.environ.get(CHILD_FLAG) or os.environ.get("ZHIBU_WARM", "").lower() in ("0", "off", "no"):
        return None
    path = socket_path()
    if not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                              "fingerprint": fingerprint()}).encode()
        socket.send_fds(conn, [len(request).to_bytes(8, "big") + request], [0, 1, 2])
        reader = conn.makefile("r", encoding="utf-8")
        first = json.loads(reader.readline() or "{}")
    except (OSError, ValueError):
        conn.close()
        return None
    with conn:
        if "pid" not in first:           # refused: run cold, and say why it is slower
            print("  预热进程的代码或设置与本次运行不同，本次冷启动 / the warm runner has other code or "
                  "settings: running cold (refresh it: zhibu server stop; zhibu server start)",
                  file=sys.stderr, flush=True)
            return None
        child = int(first["pid"])
        # from here the run is the child's: never None (that would run the month a second time)

        def forward(signum, _frame):
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass
        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            last = json.loads(reader.readline() or '{"exit": 1}')
        except (OSError, ValueError):
            last = {"exit": 1}
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        return int(last.get("exit", 1))


# ---------------------------------------------------------------- runner side
def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    fds: list[int] = []
    data, new_fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    fds += new_fds
    size = int.from_bytes(data[:8], "big")
    body = data[8:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            break
        body += chunk
    return json.loads(body), fds


def _run_child(request: dict, fds: list[int]) -> None:
    """In the forked child: become the caller's `zhibu` process and never return."""
    code = 1
    try:
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[CHILD_FLAG] = "1"
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from zhibu import cli
        cli.TERMINAL = sys.stderr
        code = cli.main(request["argv"])
    except SystemExit as e:             # as the interpreter would: a message goes to stderr
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()        # what a normal exit would run (log handlers' flush)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def serve() -> None:
    """The runner: import once, then fork a child per request (`python -m zhibu.warm`)."""
    import importlib
    for name in _PRELOAD:
        importlib.import_module(name)
    if threading.active_count() > 1:       # forking a threaded process is unsafe: do not serve
        raise SystemExit(f"zhibu warm runner: imports started threads {threading.enumerate()}")
    expected = fingerprint()
    path = socket_path()
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)                  # the caller's terminal and environment: owner only
    server.listen(8)
    signal.signal(signal.SIGTERM, lambda *_: (path.unlink(missing_ok=True), os._exit(0)))
    print(f"zhibu warm runner {os.getpid()} on {path}", flush=True)
    while True:
        conn, _ = server.accept()
        _serve_one(server, conn, expected)


def _serve_one(server: socket.socket, conn: socket.socket, expected: str) -> None:
    """Fork a child for one request (on the main thread); a thread waits for it and reports."""
    request, fds = _recv_request(conn)
    if request.get("fingerprint") != expected or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        with conn:
            conn.sendall(b'{"refused": "other code or settings"}\n')
        return
    pid = os.fork()
    if pid == 0:
        server.close()
        conn.close()
        _run_child(request, fds)
    for fd in fds:
        os.close(fd)

    def wait():
        with conn:
            try:
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            except OSError:
                pass
            _pid, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(json.dumps({"exit": code if code >= 0 else 128 - code}).encode() + b"\n")
            except OSError:
                pass
    threading.Thread(target=wait, daemon=True).start()


if __name__ == "__main__":
    serve()
