"""What a run records about itself for manifest.json.

Everything that shapes the result is deterministic and lies outside the manifest's `run`
section: the code version, the extracts (file name + sha256, never the folder they lay in), the
policy parameter values in force, the verification settings, the working-day calendar in use and
the review-decisions file with its sha256 (outputs.md, "Reproducible means"). Paths, host,
timings, memory/thread settings and the partitioning go to `run` only.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import os
import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("schemas", "matchers", "policies", "reports", "flows", "zhibu")
CODE_SUFFIXES = (".py", ".sql", ".yaml", ".csv", ".txt")
# Folders under the code directories that hold outputs, never code: published months
# (`reports/2026-10/`, the default --output), their temp/old twins, and rendered catalogues.
_OUTPUT_DIR = re.compile(r"^(\.?\d{4}-\d{2}(\..*)?|\..*|__pycache__|policies)$")


def _code_files() -> list[Path]:
    """The shipped code: git's view (tracked + untracked-not-ignored) when in a checkout, else a
    walk that skips output folders. Either way no published output is ever hashed, so running a
    month into the default `reports/` does not change the code version of the next run."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                              *CODE_DIRS], cwd=ROOT, capture_output=True, timeout=10)
        if out.returncode == 0 and out.stdout:
            files = [ROOT / p for p in out.stdout.decode().split("\0") if p]
            return sorted(p for p in files if p.suffix in CODE_SUFFIXES and p.is_file()
                          and not _in_output_dir(p))
    except (OSError, subprocess.SubprocessError):
        pass
    return sorted(p for d in CODE_DIRS for p in (ROOT / d).rglob("*")
                  if p.is_file() and p.suffix in CODE_SUFFIXES and not _in_output_dir(p))


def _in_output_dir(p: Path) -> bool:
    rel = p.relative_to(ROOT).parts
    # reports/policies is an output folder; policies/ (top level) is code.
    return any(_OUTPUT_DIR.match(part) and not (i == 0) for i, part in enumerate(rel[:-1]))


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Git commit when available, plus a hash of the shipped code so uncommitted edits show.

    Computed once per process: it names the code this process loaded, even if the checkout
    changes while it runs."""
    h = hashlib.sha256()
    for p in _code_files():
        h.update(p.relative_to(ROOT).as_posix().encode())
        h.update(p.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{commit or 'nogit'}+code.{h.hexdigest()[:12]}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _plain(o):
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    return str(o)       # Decimal '1500.00', Fraction '1/2'


def policy_parameters(month: str) -> dict:
    """Every policy's parameter values in force at the month's end: {code: {name: value}}."""
    from policies.engine import month_bounds
    from policies.params import parameters_on, policy_codes
    as_of = month_bounds(month)[1]
    return {code: _plain(parameters_on(code, as_of)) for code in policy_codes()}


def verification_settings() -> dict:
    from zhibu.verification.runner import load_parameters
    return _plain(load_parameters())


def analyst_settings() -> dict | None:
    """zhibu/settings.py values in force (settings.yaml), when this checkout has them."""
    try:
        from zhibu.settings import current
    except ImportError:
        return None
    return _plain(current())


def review_decisions(decisions_file: str | Path | None) -> dict | None:
    """The review-decisions file that shaped the linking (name, sha256, lines), or None."""
    if not decisions_file or not Path(decisions_file).is_file():
        return None
    p = Path(decisions_file)
    lines = sum(1 for line in p.read_text(encoding="utf-8-sig").splitlines()[1:] if line.strip())
    return {"file": p.name, "sha256": sha256_file(p), "decisions": lines}


def calendar_status(month: str) -> dict:
    """Working-day calendar in force and whether next year's official schedule is on file.

    From October on (the State Council publishes the next year's notice in Nov/Dec) a missing
    next year is a warning in the report: runs from January on would stop at their start."""
    from zhibu.workdays import default_calendar, override_file
    cal = default_calendar()
    year, mon = map(int, month.split("-"))
    next_missing = not cal.covers(year + 1)
    warn = mon >= 10 and next_missing
    override = override_file()
    return {
        "covered": cal.covered_description(),
        "override_sources": {str(y): src for y, src in sorted(cal.sources.items())},
        "override_sha256": sha256_file(override) if override.exists() else None,
        "next_year": year + 1,
        "next_year_covered": not next_missing,
        "warning": (f"{year + 1}年工作日历（国务院办公厅节假日安排通知）尚未录入，{year + 1}年1月起的运行将在开始时停止；"
                    f"请按 docs/calendar.md 把通知录入 zhibu/workdays_override.yaml。 / The official {year + 1} "
                    f"holiday schedule is not on file: runs from {year + 1}-01 will stop at their start; add it to "
                    f"zhibu/workdays_override.yaml as docs/calendar.md describes.") if warn else None,
    }


def build(month, input_dir, warehouse, disabled, loads, timings, stage_stats, *,
          decisions_file=None, partitions: int = 0, memory_limit: str | None = None) -> dict:
    from zhibu.warehouse import settings
    loads = [_plain(f) for f in loads]
    return {
        "month": month,
        "code_version": code_version(),
        "parameters": {
            "month": month,
            "without": sorted(disabled),
            # the input folder by content only: the same files anywhere on disk give the same bytes
            "input_files": sorted(({"file": f.get("file_name"), "source": f.get("source"), "sha256": f.get("sha256")}
                                   for f in loads), key=lambda d: (d["file"] or "", d["source"] or "")),
            "review_decisions": review_decisions(decisions_file),
            "policy_parameters": policy_parameters(month),
            "verification": verification_settings(),
            "settings": analyst_settings(),
        },
        "calendar": calendar_status(month),
        # --- the `run` section: may differ between runs of the same inputs ---------------------
        "input": str(Path(input_dir).resolve()),
        "warehouse": str(Path(warehouse).resolve()),
        "review_decisions_path": str(Path(decisions_file).resolve()) if decisions_file else None,
        "inputs": loads,
        "stage_stats": _plain(stage_stats),
        "timings": dict(timings),
        # the memory limit in force (ZHIBU_MEMORY_LIMIT, or sized to the month: zhibu.warehouse)
        "settings": {**settings(), **({"memory_limit": memory_limit} if memory_limit else {})},
        "partitions": partitions,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
    }


def report_parameters(run_info: dict) -> dict:
    """The short form the report's 参数 table shows (the full values are in manifest.json)."""
    p = run_info.get("parameters") or {}
    rd = p.get("review_decisions")
    digest = hashlib.sha256(repr(sorted(p.get("policy_parameters", {}).items())).encode()).hexdigest()[:12]
    out = {
        "运行月份": p.get("month"),
        "停用数据源": "、".join(p.get("without") or []) or "无",
        "输入文件": f"{len(p.get('input_files') or [])} 个（文件名与 sha256 见 manifest.json）",
        "政策参数": f"{len(p.get('policy_parameters') or {})} 项政策，按月末生效值（摘要 {digest}，明细见 manifest.json）",
        "人工复核决定": f"{rd['file']}（{rd['decisions']} 条，sha256 {rd['sha256'][:12]}）" if rd else "无",
    }
    cal = run_info.get("calendar") or {}
    if cal:
        out["工作日历"] = cal.get("covered")
        if cal.get("warning"):
            out["工作日历提示"] = cal["warning"]      # reports/report_html.py CALENDAR_WARNING_KEY
    return out
