"""Atomic publication of a month: `<output_root>/<YYYY-MM>/`.

Everything is built in a sibling temp folder, fsynced, then swapped in with one rename
(renameat2 RENAME_EXCHANGE when an earlier result exists). A failure at any point leaves the
previous folder untouched (or nothing) and removes the temp folder.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import time
import uuid
from decimal import Decimal
from pathlib import Path

import duckdb

from . import exports, manifest, notices, parquet_out, payments, report_html, verification_out
from .common import check_month, fsync_dir, fsync_file

log = logging.getLogger(__name__)

TMP_TAG = ".tmp-"
OLD_TAG = ".old-"


def publish_month(
    con: duckdb.DuckDBPyConnection, month: str, output_root: Path, run_info: dict
) -> Path:
    """Write `<output_root>/<month>/` atomically from the warehouse tables; return its path."""
    t0 = time.perf_counter()
    check_month(month)
    run_info = dict(run_info or {})
    output_root = Path(output_root)
    output_root.mkdir(parents=True, exist_ok=True)
    final = output_root / month
    _recover(output_root, month)

    tmp = output_root / f".{month}{TMP_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        summary = build_month(con, month, tmp, run_info)
        timings = dict(run_info.get("timings") or {})
        timings["publish_build"] = round(time.perf_counter() - t0, 3)
        run_info["timings"] = timings
        m = manifest.build_manifest(tmp, month, manifest.read_inputs(con, month), run_info, summary)
        manifest.write_manifest(tmp, m)
        _fsync_tree(tmp)
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("published %s in %.2fs", final, time.perf_counter() - t0)
    return final


def build_month(con: duckdb.DuckDBPyConnection, month: str, out: Path, run_info: dict) -> dict:
    """Write every data output of `month` into folder `out`; return summary counts."""
    policies_dir = run_info.get("policies_dir")
    catalogue = notices.load_catalogue(policies_dir)
    templates = notices.load_templates(policies_dir)

    elig = parquet_out.read_eligibility(con, month)
    parquet_out.write_parquet(elig, out / "eligibility.parquet")
    review = parquet_out.read_review_queue(con, month)
    parquet_out.write_parquet(review, out / "review_queue.parquet")
    quarantine = parquet_out.read_quarantine(con, month)
    parquet_out.write_parquet(quarantine, out / "quarantine.parquet")

    rows = exports.export_rows(elig, catalogue)
    exclusions = parquet_out.read_exclusions(con, month)
    parquet_out.write_parquet(exclusions, out / "exclusions.parquet")
    exports.write_exports(rows, out, month, catalogue, exports.bureau_exclusions(exclusions))
    leagues = exports.leagues_to_export(rows)
    notices.write_push(rows, out, month, leagues, catalogue, templates,
                       notices.home_regions(con, month, rows))
    verification_out.write_verification(con, out, month)
    money_summary = {}
    if payments.has_sources(con, month):      # From list to money (optional sources): reports/money.py
        from . import money
        money_summary = money.write_money_outputs(con, out, month)

    html = report_html.render_report(
        con, month, rows,
        n_review=review.num_rows, n_quarantine=quarantine.num_rows, catalogue=catalogue,
        code_version=run_info.get("code_version"), parameters=_report_parameters(run_info),
    )
    (out / "report.html").write_bytes(html.encode("utf-8"))
    total = sum((Decimal(r["amount"]) for r in rows), Decimal("0.00"))
    return {
        "eligibility_rows": len(rows),
        "beneficiaries": len({(r["beneficiary_type"], r["beneficiary_id"]) for r in rows}),
        "total_amount": f"{total:.2f}",
        "review_queue_rows": review.num_rows,
        "quarantine_rows": quarantine.num_rows,
        **money_summary,
    }


def _report_parameters(run_info: dict) -> dict | None:
    """The report shows a short form of the recorded parameters (full values: manifest.json)."""
    if "calendar" not in run_info:        # a caller that passes its own parameters (tests)
        return run_info.get("parameters")
    from zhibu.runinfo import report_parameters
    return report_parameters(run_info)


# ---------------------------------------------------------------- atomic helpers
def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            fsync_file(Path(dirpath) / f)
        fsync_dir(Path(dirpath))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2). False when unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: filesystem cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, final: Path) -> None:
    parent = final.parent
    if not final.exists():
        os.rename(tmp, final)
        fsync_dir(parent)
        return
    if _exchange(tmp, final):
        fsync_dir(parent)
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous result
        return
    # Fallback: two renames; _recover() restores `old` if we die in between.
    old = parent / f".{final.name}{OLD_TAG}{uuid.uuid4().hex[:8]}"
    os.rename(final, old)
    try:
        os.rename(tmp, final)
    except BaseException:
        os.rename(old, final)
        raise
    fsync_dir(parent)
    shutil.rmtree(old, ignore_errors=True)


def _recover(root: Path, month: str) -> None:
    """Clean up after an interrupted publish of `month`."""
    final = root / month
    olds = sorted(root.glob(f".{month}{OLD_TAG}*"))
    if not final.exists() and olds:
        log.warning("restoring %s from interrupted publish", final)
        os.rename(olds[-1], final)
        olds = olds[:-1]
    for p in olds + sorted(root.glob(f".{month}{TMP_TAG}*")):
        log.warning("removing leftover %s", p)
        shutil.rmtree(p, ignore_errors=True)
