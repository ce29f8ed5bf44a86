"""`zhibu` command line: thin entry points to the flow and the analyst tools.

A run's terminal shows progress and, on failure, one line (Chinese and English: month, stage,
what failed, what to do, the log file). Tracebacks and Prefect's engine logs go to that log
file (`<warehouse dir>/logs/`, or ZHIBU_LOG_DIR).
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import subprocess
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from zhibu.warehouse import DEFAULT_WAREHOUSE, ROOT, parse_month

SAMPLE = ROOT / "data" / "sample"
TERMINAL = sys.stderr          # where the one-line reason and progress go (the real terminal)


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")        # into the run's log file
    os.environ.setdefault("PREFECT_LOGGING_COLORS", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("ZHIBU_PROGRESS", "1")
    if "PREFECT_HOME" not in os.environ:
        os.environ["PREFECT_HOME"] = str(ROOT / ".venv" / "prefect-home") if (ROOT / ".venv").exists() \
            else str(Path.home() / ".prefect")


def months_between(first: str, last: str) -> list[str]:
    y, m = map(int, parse_month(first).split("-"))
    ly, lm = map(int, parse_month(last).split("-"))
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# ---------------------------------------------------------------- failure line
STAGE_ZH = {"start": "开始前检查", "load": "装载", "validate": "校验", "link": "比对", "decide": "测算",
            "verify": "核查", "publish": "发布"}
ADVICE = {
    "load": ("更正或替换所指文件后重新运行本月", "fix or replace the named file, then run the month again"),
    "validate": ("向报送部门核实所指数据源并更正后重新运行本月",
                 "check the named source with the department that sent it, then run the month again"),
    "link": ("更正复核决定文件中所指的行后重新运行本月",
             "correct the named line of the review-decisions file, then run the month again"),
    "calendar": ("按 docs/calendar.md 录入该年国务院节假日安排后重新运行",
                 "add that year's official holiday schedule as docs/calendar.md describes, then run again"),
    "busy": ("等待另一运行结束，或加 --wait 排队", "wait for the other run to finish, or add --wait"),
    "other": ("查看日志中的详情，处理后重新运行本月（未发布的结果不算已列入，不会遗漏）",
              "see the log for details, then run the month again (nothing unpublished counts as listed)"),
}


def failure_line(exc: BaseException, log_file: Path | None) -> str:
    """One line: month, stage, what failed (file/row/expectation as the stage names it), what to do."""
    from matchers.review import DecisionsFileError
    from zhibu.warehouse import WarehouseBusy
    from zhibu.workdays import CalendarYearNotCovered
    month = stage = None
    cause = exc
    if type(exc).__name__ == "RunFailed":
        month, stage, cause = exc.month, exc.stage, exc.cause
    detail = " ".join(str(cause).split()) or type(cause).__name__
    if len(detail) > 800:            # the log file holds it whole
        detail = detail[:800] + "…"
    if stage is None and log_file is None:       # not a run (explain, policies, …): the reason only
        return f"zhibu: {detail}"
    if isinstance(cause, CalendarYearNotCovered):
        key = "calendar"
    elif isinstance(cause, WarehouseBusy):
        key = "busy"
    elif stage == "link":       # the analyst's file, or something to read in the log
        key = "link" if isinstance(cause, DecisionsFileError) else "other"
    elif stage in ADVICE:
        key = stage
    else:
        key = "other"
    zh, en = ADVICE[key]
    where_zh = f"{month} 在「{STAGE_ZH.get(stage, stage)}」阶段失败" if stage else "运行失败"
    where_en = f"{month} failed at stage {stage}" if stage else "run failed"
    log = f" 日志 log: {log_file}" if log_file else ""
    return f"zhibu: {where_zh} / {where_en}: {detail} — 请{zh} / {en}.{log}"


# ---------------------------------------------------------------- run log and server guard
def _log_dir(warehouse: Path) -> Path:
    return Path(os.environ.get("ZHIBU_LOG_DIR") or Path(warehouse).resolve().parent / "logs")


@contextmanager
def _run_log(path: Path):
    """Send everything written to fd 2 (Python logging, Prefect's console handler, warnings,
    the ephemeral server's output) to `path`; the terminal keeps only what zhibu prints."""
    global TERMINAL
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    logf = open(path, "a", encoding="utf-8")
    os.dup2(logf.fileno(), 2)
    TERMINAL = terminal
    # fd 2 stays on the log file until the process exits: Prefect's exit handlers (server stop,
    # API log flush) write there too, never on the terminal.
    yield terminal


WATCHDOG = r"""
import os, signal, sys, time
r = int(sys.argv[1]); pids = []; buf = b""
while True:                       # EOF when the zhibu process is gone, however it ended
    chunk = os.read(r, 64)
    if not chunk:
        break
    buf += chunk
pids = [int(x) for x in buf.split() if x.strip()]
for pid in pids:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"uvicorn" not in f.read():
                continue
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0); time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
"""


def _guard_ephemeral_server() -> None:
    """Without PREFECT_API_URL the flow reports to Prefect's ephemeral API server (a uvicorn
    child process). Start it here, and a small watchdog that stops it when this process ends
    in any way, SIGKILL included (the watchdog sees its pipe close)."""
    if os.environ.get("PREFECT_API_URL"):
        return
    r, w = os.pipe()
    subprocess.Popen([sys.executable, "-c", WATCHDOG, str(r)], pass_fds=(r,), start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(r)
    from prefect.server.api.server import SubprocessASGIServer
    server = SubprocessASGIServer()
    server.start()
    if server.server_process is not None:
        os.write(w, f"{server.server_process.pid}\n".encode())
    # w stays open (not inherited by children) until this process ends


def _stop_ephemeral_server() -> None:
    if os.environ.get("PREFECT_API_URL"):
        return
    from prefect.server.api.server import SubprocessASGIServer
    if SubprocessASGIServer._instances.get(None) is not None:
        SubprocessASGIServer().stop()


def _check_calendar(months: list[str]) -> None:
    from zhibu.workdays import default_calendar
    cal = default_calendar()
    for m in months:
        cal.check_year(int(m[:4]))


def _run_months(months: list[tuple[str, Path]], args) -> str:
    _quiet_prefect()
    from zhibu import local_server
    local_server.use_if_running()        # `zhibu server start`: no ephemeral server to start
    try:
        _check_calendar([m for m, _ in months])       # before anything is written, log included
        if not getattr(args, "wait", False):          # a busy warehouse fails at once, not after start-up
            from zhibu.warehouse import exclusive
            with exclusive(args.warehouse):
                pass
    except Exception as e:
        from flows.monthly import RunFailed
        raise RunFailed(months[0][0], "start", e) from e
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_file = _log_dir(args.warehouse) / f"zhibu-{months[0][0]}-{stamp}-{os.getpid()}.log"
    args.log_file = log_file
    with _run_log(log_file) as term:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                            force=True)
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        import flows.monthly as monthly_mod
        monthly_mod.TERMINAL = term
        try:
            _guard_ephemeral_server()
            folder = ""
            for i, (month, input_dir) in enumerate(months, start=1):
                print(f"[{i}/{len(months)}] {month}: running load → validate → link → decide → verify → publish",
                      file=term, flush=True)
                folder = monthly_mod.monthly_run(
                    month=month, input_dir=str(input_dir), warehouse=str(args.warehouse),
                    output=str(args.output), without=args.without, wait_for_lock=getattr(args, "wait", False),
                    partitions=args.partitions, dask_address=args.dask_address)
                print(f"[{i}/{len(months)}] {month}: published {folder}", file=term, flush=True)
            return folder
        except BaseException:
            logging.getLogger("zhibu").error("run failed\n%s", traceback.format_exc())
            raise
        finally:
            monthly_mod.TERMINAL = None


def _run_warm(words: list[str]) -> int | None:
    """With `zhibu server start`, a warm runner has the libraries imported: it runs this command
    on this terminal (zhibu/warm.py). None: no runner, or one that would not run the same thing."""
    _quiet_prefect()
    from zhibu import local_server, warm
    local_server.use_if_running()
    return warm.delegate(words)


def cmd_run(args) -> int:
    month = parse_month(args.month)
    if not Path(args.input).is_dir():
        raise SystemExit(f"zhibu: 输入文件夹不存在 / input folder {args.input} does not exist")
    folder = _run_months([(month, Path(args.input))], args)
    print(Path(folder) / "report.html")
    return 0


def cmd_backfill(args) -> int:
    root = Path(args.incoming)
    months = [(m, root / m) for m in months_between(args.from_month, args.to_month)]
    missing = [str(p) for _, p in months if not p.is_dir()]
    if missing:
        raise SystemExit(f"zhibu: 缺少输入文件夹 / missing input folder(s): {', '.join(missing)}")
    folder = _run_months(months, args)
    print(Path(folder) / "report.html")
    return 0


def cmd_demo(args) -> int:
    """The committed sample, every month in order: what `make run` does."""
    incoming = SAMPLE / "incoming"
    if not incoming.is_dir():
        raise SystemExit(f"zhibu: the committed sample is missing ({incoming})")
    months = sorted(p.name for p in incoming.iterdir() if p.is_dir())
    folder = _run_months([(m, incoming / m) for m in months], args)
    report = Path(folder).resolve() / "report.html"
    print(f"报告 / report: {report}")
    return 0


ID_PATTERN = re.compile(r"^(\d{17}[\dX]|[0-9A-HJ-NPQRTUWXY]{18})$")


def cmd_explain(args) -> int:
    """Strictly read-only: the warehouse is attached READ_ONLY (or, while a run holds it, read
    from a snapshot copy); the month's link tables are read as its run wrote them."""
    month = parse_month(args.month)
    key = args.id.strip().upper()
    if not ID_PATTERN.match(key):
        raise SystemExit(f"zhibu: {args.id!r} 不是18位公民身份号码或统一社会信用代码 / "
                         "is not an 18-character citizen ID or USCC")
    from zhibu.warehouse import read_only_view
    with read_only_view(args.warehouse) as con:
        months = {r[0] for r in con.execute(
            "SELECT DISTINCT run_month FROM link_stats").fetchall()} if _has(con, "link_stats") else set()
        if month not in months:
            raise SystemExit(f"zhibu: {month} 尚未运行，无比对结果 / month {month} has not been run on "
                             f"{args.warehouse}")
        from matchers.link import create_link_views
        from policies.explain import explain, render_explanation
        from zhibu.warehouse import create_asof_views
        create_asof_views(con, month)
        create_link_views(con, month)
        pending = _pending_review(con, month, key)
        if not _known(con, key) and not pending:
            print(f"未找到 / not found: {key} 不在 {month} 及以前的任何数据中 "
                  f"(no record of this ID in the extracts up to {month})")
            from matchers.codes import id_valid, uscc_valid
            if not (id_valid(key) or uscc_valid(key)):
                print("注意 / note: 校验位不符，这不是有效的公民身份号码或统一社会信用代码，可能录错了一位 "
                      "(the check character is wrong: probably a typing error)")
            return 0
        print(render_explanation(explain(con, month, key)))
        if pending:
            print(f"待人工复核 / pending review ({len(pending)}):")
            for kind, left_id, left_name, right_id, right_name, score, reason in pending:
                print(f"  {kind}: {left_id or '-'} {left_name or ''} ↔ {right_id} {right_name or ''} "
                      f"score {score:.2f} ({reason})")
    return 0


def _has(con, table: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall()[0][0] > 0


def _known(con, key: str) -> bool:
    """Whether any record up to the month names the ID (as linked or as sent)."""
    from schemas.sources import SOURCES
    for name in SOURCES:
        cols = [r[0] for r in con.execute(f"DESCRIBE lnk_{name}").fetchall()] if _has_view(con, f"lnk_{name}") else []
        idcols = [c for c in cols if (c.endswith("id_number") or c.endswith("uscc") or c in ("uscc", "applicant_id"))]
        for c in idcols:
            if con.execute(f"SELECT 1 FROM lnk_{name} WHERE {c} = ? LIMIT 1", [key]).fetchall():
                return True
    return False


def _has_view(con, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]).fetchall()[0][0] > 0


def _pending_review(con, month: str, key: str) -> list:
    if not _has(con, "review_queue"):
        return []
    return con.execute("""SELECT kind, left_id, left_name, right_id, right_name, score, reason
                          FROM review_queue WHERE run_month = ? AND (left_id = ? OR right_id = ?)
                          ORDER BY score DESC, right_id""", [month, key, key]).fetchall()


def cmd_policies(args) -> int:
    from policies.catalogue import render_catalogue
    for p in render_catalogue(Path(args.out)):
        print(p)
    return 0


def cmd_calendar(args) -> int:
    """Which years the working-day calendar covers; checks the override file."""
    from zhibu.workdays import default_calendar, override_file
    cal = default_calendar()
    print(f"工作日历 / working-day calendar: {cal.covered_description()}")
    print(f"补充文件 / override file: {override_file()}")
    for year, source in sorted(cal.sources.items()):
        print(f"  {year}: {source}")
    if args.year is not None:
        ok = cal.covers(args.year)
        print(f"{args.year}: {'已覆盖 / covered' if ok else '未覆盖 / NOT covered — see docs/calendar.md'}")
        return 0 if ok else 1
    return 0


def cmd_server(args) -> int:
    """A long-lived local Prefect server (zhibu/local_server.py)."""
    _quiet_prefect()
    from zhibu import local_server
    if args.server_cmd == "start":
        try:
            state = local_server.start(args.port)
        except RuntimeError as e:
            raise SystemExit(f"zhibu: 本地服务未能启动 / local server did not start: {e}")
        warm = (f"预热进程 / warm runner: pid {state['warm_pid']}" if state.get("warm_pid")
                else "预热进程未启动 / warm runner did not start: runs start cold")
        print(f"本地 Prefect 服务 / local Prefect server: {state['ui_url']} (pid {state['pid']})；{warm}；"
              "之后的 zhibu run 向它报告并跳过启动时间 / later runs report to it and skip the start-up; "
              "停止 / stop: zhibu server stop")
    elif args.server_cmd == "stop":
        print("已停止 / stopped" if local_server.stop() else "没有在运行的本地服务 / no local server recorded")
    else:
        state = local_server.running()
        print(f"运行中 / running: {state['ui_url']} (pid {state['pid']}"
              + (f", warm runner pid {state['warm_pid']}" if state.get("warm_pid") else "") + ")" if state
              else "未运行 / not running (runs start a temporary server)")
        return 0 if state else 1
    return 0


def cmd_synth(args) -> int:
    from data.synth.cli import run
    return run(args) or 0


def _version() -> str:
    try:
        from importlib.metadata import version
        v = version("zhibu")
    except Exception:
        v = "unknown"
    from zhibu.runinfo import code_version
    return f"zhibu {v} (code {code_version()})"


def build_parser(synth_options: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zhibu", description="直补快办: proactive employment-subsidy matching (Inner Mongolia)",
        epilog="zhibu <command> --help shows a command's options. Exit code 0 on success, else one line why.")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print the traceback of a failure on the terminal (default: only in the log file)")
    p.add_argument("--version", action=_VersionAction, nargs=0,
                   help="print the package version and code version, then exit")
    sub = p.add_subparsers(dest="cmd", metavar="<command>")

    def common(sp):
        sp.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, metavar="FILE",
                        help="DuckDB file that accumulates every month, created if missing; its folder also "
                             "gets logs/ and review_decisions.csv (default: %(default)s)")
        sp.add_argument("--output", type=Path, default=Path("reports"), metavar="DIR",
                        help="where <DIR>/<YYYY-MM>/ is published (default: %(default)s)")
        sp.add_argument("--without", action="append", default=[], metavar="SOURCE",
                        help="run with a source switched off, e.g. deceased; repeatable (default: none)")
        sp.add_argument("--wait", action="store_true",
                        help="wait for another run on the warehouse to finish (default: fail at once)")
        sp.add_argument("--partitions", type=int, default=0, metavar="N",
                        help="run the decide stage as N person-hash partitions on Dask; 0 = single process "
                             "(default: %(default)s)")
        sp.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                        help="scheduler of an existing Dask cluster (default: env ZHIBU_DASK_ADDRESS, else a "
                             "local cluster of 2 worker processes)")

    sp = sub.add_parser("run", help="run one month")
    sp.add_argument("--month", required=True, metavar="YYYY-MM", help="the run month, e.g. 2026-10 (required)")
    sp.add_argument("--input", required=True, metavar="DIR",
                    help="folder holding that month's extracts (csv/xlsx/parquet) (required)")
    common(sp)
    sp.set_defaults(fn=cmd_run)

    sp = sub.add_parser("backfill", help="run months in order")
    sp.add_argument("--from", dest="from_month", required=True, metavar="YYYY-MM", help="first month (required)")
    sp.add_argument("--to", dest="to_month", required=True, metavar="YYYY-MM", help="last month (required)")
    sp.add_argument("--incoming", required=True, metavar="DIR",
                    help="folder holding one sub-folder per month, named YYYY-MM (required)")
    common(sp)
    sp.set_defaults(fn=cmd_backfill)

    sp = sub.add_parser("demo", help="run the committed sample months (what `make run` does)")
    common(sp)
    sp.set_defaults(fn=cmd_demo)

    sp = sub.add_parser("explain", help="why is (or isn't) this person/firm eligible? (read-only)")
    sp.add_argument("--month", required=True, metavar="YYYY-MM", help="a month already run (required)")
    sp.add_argument("--id", required=True, metavar="ID",
                    help="18-character citizen ID (last character digit or X) or USCC (required)")
    sp.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, metavar="FILE",
                    help="the warehouse to read; never created or changed (default: %(default)s)")
    sp.set_defaults(fn=cmd_explain)

    sp = sub.add_parser("policies", help="render the 政策清单 and 政策一卡通")
    sp.add_argument("--out", default="reports/policies", metavar="DIR",
                    help="folder for the HTML and Markdown files (default: %(default)s)")
    sp.set_defaults(fn=cmd_policies)

    sp = sub.add_parser("calendar", help="working-day calendar: years covered, override file (docs/calendar.md)")
    sp.add_argument("--year", type=int, default=None, metavar="YYYY",
                    help="exit 1 unless this year is covered (default: only list)")
    sp.set_defaults(fn=cmd_calendar)

    # ---- review (issue 19): the review queue to Excel and the analysts' decisions back
    def cmd_review(args) -> int:
        from matchers.review_xlsx import ReviewImportError, export_review, import_review, month_of, queue_path
        decisions = Path(args.warehouse).with_name("review_decisions.csv")
        if args.review_cmd == "export":
            month = parse_month(args.month)
            queue = queue_path(args.output, month)
            if not queue.is_file():
                raise SystemExit(f"zhibu: {queue} not found: run month {month} first")
            # beside the month folder, not in it: a re-run replaces the published folder whole
            print(export_review(queue, args.out or Path(args.output) / f"review_{month}.xlsx", month))
            return 0
        month = parse_month(args.month) if args.month else month_of(args.file)
        if not month:
            raise SystemExit("zhibu: cannot tell the workbook's month: pass --month YYYY-MM")
        try:
            n = import_review(args.file, decisions, queue_path(args.output, month))
        except ReviewImportError as e:
            print("\n".join(f"zhibu: {m}" for m in e.errors), file=sys.stderr)
            raise SystemExit(f"zhibu: {len(e.errors)} 行被拒，未导入任何结论 / {len(e.errors)} row(s) rejected, "
                             f"nothing imported into {decisions}: correct the rows and import the file again")
        print(f"{n} decision(s) imported into {decisions}; the next run applies them")
        return 0

    sp = sub.add_parser("review", help="review grey-zone matches in Excel (export / import)")
    rsub = sp.add_subparsers(dest="review_cmd", required=True)
    for name, hlp in (("export", "write the month's review queue to an xlsx (确认/否决 dropdown)"),
                      ("import", "read a filled review xlsx into review_decisions.csv (validated)")):
        rp = rsub.add_parser(name, help=hlp)
        if name == "export":
            rp.add_argument("--month", required=True, help="month YYYY-MM whose review queue to export")
            rp.add_argument("--out", type=Path, default=None,
                            help="xlsx to write (default: <output>/review_<month>.xlsx, beside the month folder)")
        else:
            rp.add_argument("file", type=Path, help="the filled review xlsx")
            rp.add_argument("--month", default=None, help="month YYYY-MM (default: read from the workbook)")
        rp.add_argument("--output", type=Path, default=Path("reports"),
                        help="folder holding <month>/review_queue.parquet (default: %(default)s)")
        rp.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE,
                        help="warehouse; decisions go to review_decisions.csv beside it (default: %(default)s)")
        rp.set_defaults(fn=cmd_review)
    # ---- end review

    sp = sub.add_parser("server", help="a long-lived local Prefect server for faster re-runs (start/stop/status)")
    ssub = sp.add_subparsers(dest="server_cmd", required=True, metavar="start|stop|status")
    st = ssub.add_parser("start", help="start it (idempotent); runs then report to it and show in its UI")
    st.add_argument("--port", type=int, default=4270, metavar="PORT",
                    help="port on 127.0.0.1 (default: %(default)s)")
    ssub.add_parser("stop", help="stop it")
    ssub.add_parser("status", help="exit 0 while it answers, else 1")
    sp.set_defaults(fn=cmd_server)

    sp = sub.add_parser("synth", help="generate synthetic extracts with ground truth")
    if synth_options:       # the generator's imports cost ~0.4 s: only when `synth` is asked for
        try:
            from data.synth.cli import add_arguments
            add_arguments(sp)
        except ImportError:
            pass
    sp.set_defaults(fn=cmd_synth)
    return p


class _VersionAction(argparse.Action):
    """The version is computed only when asked (code_version hashes the code files)."""
    def __call__(self, parser, namespace, values, option_string=None):
        print(_version())
        parser.exit()


def main(argv=None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(synth_options="synth" in words)
    args = parser.parse_args(argv)
    if not getattr(args, "fn", None):          # bare `zhibu`: the help, not an error
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    if args.fn in (cmd_run, cmd_backfill):
        code = _run_warm(words)
        if code is not None:
            return code
    try:
        return args.fn(args)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("zhibu: 已中断 / interrupted", file=TERMINAL)
        return 130
    except Exception as e:  # one-line reason, non-zero exit (outputs.md)
        log_file = getattr(args, "log_file", None)
        if log_file is None and args.verbose:
            traceback.print_exc()
        elif args.verbose and log_file:
            print(Path(log_file).read_text(encoding="utf-8", errors="replace")[-20000:], file=sys.stderr)
        line = failure_line(e, log_file)
        if log_file:
            print(line, file=sys.stderr, flush=True)       # the log file ends with the same line
        print(line, file=TERMINAL, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
