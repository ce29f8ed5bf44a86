"""The monthly run as a Prefect flow: load → validate → link → decide → verify → publish.

Wiring only: each task calls the stage that lives in schemas/, matchers/, policies/,
zhibu/verification or reports/. Every stage replaces its own month's rows in one transaction,
so a run interrupted anywhere is simply run again.
"""
from __future__ import annotations

import errno
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE

from zhibu import runinfo
from zhibu.warehouse import DEFAULT_WAREHOUSE, connect, create_asof_views, exclusive, month_memory_limit, parse_month

STAGES = ("load", "validate", "link", "decide", "verify", "publish")


# Where progress lines go: the CLI points this at the terminal when it sends everything else
# (engine logs, tracebacks) to the run's log file.
TERMINAL = None


def progress(text: str, end: str = "\r") -> None:
    """Terminal progress for long stages (the CLI turns it on; logs carry no personal data)."""
    if not os.environ.get("ZHIBU_PROGRESS"):
        return
    out = TERMINAL or sys.stderr
    if out.isatty() or end == "\n":
        print(text, end=end if out.isatty() else "\n", file=out, flush=True)


class RunFailed(RuntimeError):
    """A month's run stopped at one stage; `cause` is the stage's own exception."""

    def __init__(self, month: str, stage: str, cause: BaseException):
        self.month, self.stage, self.cause = month, stage, cause
        super().__init__(f"{month} failed at stage {stage}: {type(cause).__name__}: {cause}")

    def __reduce__(self):
        return RunFailed, (self.month, self.stage, self.cause)


def _fail_point(stage: str) -> None:
    """Test hook: ZHIBU_FAIL_AT=<stage> interrupts the run just before that stage commits."""
    if os.environ.get("ZHIBU_FAIL_AT") == stage:
        raise RuntimeError(f"injected failure at stage {stage}")


# OS errors that can pass on their own (a network filesystem hiccup); a missing file, a bad
# file, a failed expectation or a permission problem fails the same way every time.
TRANSIENT_ERRNOS = {errno.EIO, errno.EAGAIN, errno.ETIMEDOUT, errno.ESTALE, errno.EBUSY, errno.EINTR,
                    errno.ECONNRESET, errno.ENOSPC}


def is_transient(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retry_only_transient(task, task_run, state) -> bool:
    """Prefect retry condition: retry genuine I/O errors only (outputs.md: a deterministic
    failure is not retried)."""
    try:
        state.result()
    except BaseException as exc:     # the task's exception
        return is_transient(exc)
    return False


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5, retry_condition_fn=retry_only_transient)
def load(con, month: str, input_dir: str, disabled: list[str]) -> list:
    """Read the month's extracts into the warehouse (transient I/O errors retried)."""
    from schemas.loader import load_month
    _fail_point("load")
    return load_month(con, month, Path(input_dir), disabled=disabled)


@task(cache_policy=NO_CACHE)
def validate(con, month: str) -> list:
    """Great Expectations gate over every staged row of the month."""
    from schemas.gate import validate_month
    _fail_point("validate")
    return validate_month(con, month)


@task(cache_policy=NO_CACHE)
def link(con, month: str, decisions_file: str | None) -> dict:
    """Link people and firms; route doubt to the review queue. Analyst decisions apply only to
    pairs the matcher proposed (matchers/review.py)."""
    from matchers.link import link_month
    from matchers.review import check_proposed, read_decisions, record_proposed
    create_asof_views(con, month)
    if decisions_file:
        check_proposed(con, read_decisions(decisions_file), decisions_file)
    _fail_point("link")
    stats = link_month(con, month, Path(decisions_file) if decisions_file else None)
    record_proposed(con)
    return stats


@task(cache_policy=NO_CACHE)
def decide(con, month: str) -> dict:
    """Evaluate every policy as of the month's end."""
    from policies.engine import decide_month
    _fail_point("decide")
    return decide_month(con, month)


@task(cache_policy=NO_CACHE)
def verify(con, month: str) -> dict:
    """核查: overdue processing and irregular payments in the ledger."""
    from zhibu.verification import verify_month
    _fail_point("verify")
    return verify_month(con, month)


@task(cache_policy=NO_CACHE)
def pay(con, month: str) -> dict:
    """From list to money (optional sources): confirmations, the payment batch, tracking."""
    from reports.payments import pay_month
    _fail_point("pay")
    return pay_month(con, month)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5, retry_condition_fn=retry_only_transient)
def publish(con, month: str, output: str, run_info: dict) -> str:
    """Write the month folder atomically (transient I/O errors retried)."""
    from reports.publish import publish_month
    _fail_point("publish")
    return str(publish_month(con, month, Path(output), run_info))


def _import_in_background(*modules: str) -> None:
    """Import the later stages' libraries (Great Expectations alone takes ~3 s) in a thread while
    the load stage waits on DuckDB; a stage that needs one before it is ready waits on the
    import lock, so this only ever moves time, never changes behaviour."""
    import importlib
    import threading

    def run():
        for m in modules:
            try:
                importlib.import_module(m)
            except Exception:      # the stage's own import will raise it where it matters
                pass
    threading.Thread(target=run, name="zhibu-preload", daemon=True).start()


@flow(name="zhibu-monthly", log_prints=False)
def monthly_run(month: str, input_dir: str, warehouse: str = str(DEFAULT_WAREHOUSE),
                output: str = "reports", without: list[str] | None = None,
                decisions_file: str | None = None, wait_for_lock: bool = False,
                partitions: int = 0, dask_address: str | None = None) -> str:
    """One month of 直补快办: returns the published folder.

    partitions > 0 runs the decide stage as person-hash partitions on a Dask cluster
    (dask_address, or a LocalCluster) — same result as the single-process run.
    """
    month = parse_month(month)
    logger = get_run_logger()
    timings: dict[str, float] = {}
    disabled = sorted(without or [])
    # Absolute paths: Dask workers started elsewhere read the partitions by this path.
    warehouse = str(Path(warehouse).resolve())
    output = str(Path(output).resolve())
    decisions = decisions_file or str(Path(warehouse).with_name("review_decisions.csv"))
    decisions = decisions if Path(decisions).exists() else None
    try:
        preflight(month, input_dir)      # before anything is written (lock file included)
    except Exception as e:
        raise RunFailed(month, "start", e) from e
    _import_in_background("great_expectations", "matchers.link", "policies.engine")
    try:
        lock = exclusive(warehouse, wait=wait_for_lock)
        lock.__enter__()
    except Exception as e:
        raise RunFailed(month, "start", e) from e
    scratch = Path(warehouse).parent / "partitions" / month
    try:
        memory_limit = month_memory_limit(input_dir)
        logger.info("DuckDB memory limit %s (ZHIBU_MEMORY_LIMIT, or sized to the month's files)", memory_limit)
        con = connect(warehouse, memory_limit=memory_limit)
        try:
            def timed(stage, fn, *args):
                progress(f"  {month} {stage:<8} …")
                t = time.perf_counter()
                try:
                    out = fn(*args)
                except Exception as e:
                    if _interrupted(e):     # Ctrl-C landed inside a query: say so, not what failed after it
                        raise KeyboardInterrupt from e
                    raise RunFailed(month, stage, e) from e
                timings[stage] = round(time.perf_counter() - t, 3)
                logger.info("stage %s done in %.1fs", stage, timings[stage])
                progress(f"  {month} {stage:<8} done in {timings[stage]:.1f}s", end="\n")
                return out

            loads = timed("load", load, con, month, input_dir, disabled)
            timed("validate", validate, con, month)
            link_stats = timed("link", link, con, month, decisions)
            if partitions:
                from flows.partitioned import decide_partitioned

                def decide_on_dask(con, month):
                    _fail_point("decide")
                    return decide_partitioned(con, month, scratch.parent, partitions, dask_address)
                decided = timed("decide", decide_on_dask, con, month)
            else:
                decided = timed("decide", decide, con, month)
            verified = timed("verify", verify, con, month)
            stage_stats = {"link": link_stats, "decide": decided, "verify": verified}
            from reports.payments import has_sources
            if has_sources(con, month):     # only with the optional sources: without them nothing changes
                stage_stats["pay"] = timed("pay", pay, con, month)
            info = runinfo.build(month, input_dir, warehouse, disabled, loads, timings, stage_stats,
                                 decisions_file=decisions, partitions=partitions, memory_limit=memory_limit)
            folder = timed("publish", publish, con, month, output, info)
            # Only now do this month's decisions count as listed (a failure before this line
            # leaves them to the next run: policies.md, "Listed by an earlier run").
            from policies.engine import mark_published
            try:
                mark_published(con, month, runinfo.sha256_file(Path(folder) / "manifest.json"))
            except Exception as e:
                raise RunFailed(month, "publish", e) from e
        finally:
            con.close()
    finally:
        # Partition scratch holds unmasked personal data: never left on disk.
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
        _rmdir_if_empty(scratch.parent)
        lock.__exit__(None, None, None)
    _artifacts(month, folder, decided, loads)
    logger.info("month %s published to %s", month, folder)
    return folder


def _interrupted(error: BaseException | None) -> bool:
    """Whether Ctrl-C interrupted a DuckDB query on the way to `error`: DuckDB reports it as
    its own exception, and a clean-up statement that ran after it may fail on the aborted
    transaction and hide it (seen: 'Current transaction is aborted' at the load stage)."""
    import duckdb
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (KeyboardInterrupt, duckdb.InterruptException)) or \
                (isinstance(error, RuntimeError) and "Query interrupted" in str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


def preflight(month: str, input_dir: str) -> None:
    """Checks that need nothing written: the working-day calendar covers the run's year."""
    from zhibu.workdays import default_calendar
    default_calendar().check_year(int(month[:4]))


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


@flow(name="zhibu-monthly-scheduled")
def scheduled_monthly_run(incoming_root: str = "incoming", month: str | None = None,
                          warehouse: str = str(DEFAULT_WAREHOUSE), output: str = "reports") -> str:
    """The scheduled entry: by default the month before today in Asia/Shanghai."""
    if month is None:
        import datetime as dt
        from zoneinfo import ZoneInfo
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return monthly_run(month=month, input_dir=str(Path(incoming_root) / month),
                       warehouse=warehouse, output=output, wait_for_lock=True)


def _artifacts(month: str, folder: str, decided: dict, loads: list) -> None:
    per_policy = decided.get("per_policy", decided) if isinstance(decided, dict) else {}
    rows = [{"policy_code": k, "new_rows": v} for k, v in sorted(per_policy.items()) if isinstance(v, int)]
    if rows:
        create_table_artifact(key=f"eligibility-{month}".lower(), table=rows,
                              description=f"{month} new decisions per policy")
    lines = [f"# 直补快办 {month}", "", f"Published: `{folder}`", "",
             "| source | read | loaded | quarantined |", "|---|---:|---:|---:|"]
    lines += [f"| {f.source} | {f.rows_read} | {f.rows_loaded} | {f.rows_quarantined} |" for f in loads]
    create_markdown_artifact(key=f"run-summary-{month}".lower(), markdown="\n".join(lines),
                             description="monthly run summary")


if __name__ == "__main__":
    print(monthly_run(sys.argv[1], sys.argv[2]))
