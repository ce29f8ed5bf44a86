"""The monthly run as a Prefect flow: load → validate → link → decide → verify → publish.

Wiring only: each task calls the stage that lives in schemas/, matchers/, policies/,
zhibu/verification or reports/. Every stage replaces its own month's rows in one transaction,
so a run interrupted anywhere is simply run again.
"""
from __future__ import annotations

import os
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
from zhibu.warehouse import DEFAULT_WAREHOUSE, connect, create_asof_views, exclusive, parse_month

STAGES = ("load", "validate", "link", "decide", "verify", "publish")


def progress(text: str, end: str = "\r") -> None:
    """Terminal progress for long stages (the CLI turns it on; logs carry no personal data)."""
    if os.environ.get("ZHIBU_PROGRESS") and sys.stderr.isatty():
        print(text, end=end, file=sys.stderr, flush=True)
    elif os.environ.get("ZHIBU_PROGRESS") and end == "\n":
        print(text, file=sys.stderr, flush=True)


def _fail_point(stage: str) -> None:
    """Test hook: ZHIBU_FAIL_AT=<stage> interrupts the run just before that stage commits."""
    if os.environ.get("ZHIBU_FAIL_AT") == stage:
        raise RuntimeError(f"injected failure at stage {stage}")


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def load(con, month: str, input_dir: str, disabled: list[str]) -> list:
    """Read the month's extracts into the warehouse (file I/O: retried)."""
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
    """Link people and firms; route doubt to the review queue."""
    from matchers.link import link_month
    create_asof_views(con, month)
    _fail_point("link")
    return link_month(con, month, Path(decisions_file) if decisions_file else None)


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


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def publish(con, month: str, output: str, run_info: dict) -> str:
    """Write the month folder atomically (file I/O: retried)."""
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
    decisions = decisions_file or str(Path(warehouse).with_name("review_decisions.csv"))
    _import_in_background("great_expectations", "matchers.link", "policies.engine")
    with exclusive(warehouse, wait=wait_for_lock):
        con = connect(warehouse)
        try:
            def timed(stage, fn, *args):
                progress(f"  {month} {stage:<8} …")
                t = time.perf_counter()
                out = fn(*args)
                timings[stage] = round(time.perf_counter() - t, 3)
                logger.info("stage %s done in %.1fs", stage, timings[stage])
                progress(f"  {month} {stage:<8} done in {timings[stage]:.1f}s", end="\n")
                return out

            loads = timed("load", load, con, month, input_dir, disabled)
            timed("validate", validate, con, month)
            link_stats = timed("link", link, con, month, decisions if Path(decisions).exists() else None)
            if partitions:
                from flows.partitioned import decide_partitioned
                _fail_point("decide")
                decided = timed("decide", decide_partitioned, con, month,
                                Path(warehouse).parent / "partitions", partitions, dask_address)
            else:
                decided = timed("decide", decide, con, month)
            verified = timed("verify", verify, con, month)
            info = runinfo.build(month, input_dir, warehouse, disabled, loads, timings,
                                 {"link": link_stats, "decide": decided, "verify": verified})
            folder = timed("publish", publish, con, month, output, info)
            # Only now do this month's decisions count as listed (a failure before this line
            # leaves them to the next run: policies.md, "Listed by an earlier run").
            from policies.engine import mark_published
            mark_published(con, month, runinfo.sha256_file(Path(folder) / "manifest.json"))
        finally:
            con.close()
    _artifacts(month, folder, decided, loads)
    logger.info("month %s published to %s", month, folder)
    return folder


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
