"""The sentence-named cases, end to end: written as real month folders and run through the real
loader, gate, as-of views and linking (not the harness's ready-made ``lnk_`` tables).

A case's rows become contract CSV files (Chinese headers, extracts.md) in ``<root>/<YYYY-MM>/``:
delta rows in the folder of their extract month, snapshots repeated in every folder from their
extract month on (the latest ≤ M, as the harness reads them), every required source present
(header only when it has nothing that month). A row's ``<col>_raw`` is what the file carries, so
a mistyped ID in a case is repaired by the matchers, not assumed.

Months before the case's first run are history: loaded only (they set the data horizon, as a
region's earlier months do). Each run month then goes load → gate → link → decide → verify and
is marked published, as the flow does once its folder is written.

Cases state only the columns that matter. A required value a case leaves out is filled the way
the source would carry it: the person's name / region from another row of the same ID, the firm's
name from its registration, else a neutral placeholder (documented here so the YAML still reads
literally).
"""
from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

from policies.case_harness import _month, expand_rows
from policies.case_harness import SOURCES as CASE_SOURCES
from schemas.sources import SOURCES

PLACEHOLDER = {"name": "测试", "region_code": "150102", "employer_name": "测试单位"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _known_values(rows: dict[str, list[dict]]) -> tuple[dict, dict, dict]:
    """name and region per citizen ID, name per USCC, from every row of the case."""
    names, regions, firms = {}, {}, {}
    for source, items in rows.items():
        for r in items:
            pid = r.get("id_number") or r.get("legal_rep_id_number")
            pname = r.get("name") if source != "business_registration" else r.get("legal_rep_name")
            if pid and pname:
                names.setdefault(pid, pname)
            if pid and r.get("region_code"):
                regions.setdefault(pid, r["region_code"])
            if source == "business_registration" and r.get("uscc") and r.get("name"):
                firms.setdefault(r["uscc"], r["name"])
            if r.get("employer_uscc") and r.get("employer_name"):
                firms.setdefault(r["employer_uscc"], r["employer_name"])
    return names, regions, firms


def _file_row(source: str, r: dict, known: tuple[dict, dict, dict]) -> dict:
    names, regions, firms = known
    out = {}
    for col in SOURCES[source].columns:
        v = r.get(f"{col.name}_raw", r.get(col.name)) if col.name in CASE_SOURCES[source]["ids"] \
            else r.get(col.name)
        if v is None and (col.required or col.name == "name"):
            pid = r.get("id_number") or r.get("applicant_id")
            if col.name in ("name", "legal_rep_name"):
                v = names.get(pid or r.get("legal_rep_id_number"))
            elif col.name == "region_code":
                v = regions.get(pid) or regions.get(r.get("legal_rep_id_number"))
            elif col.name == "employer_name":
                v = firms.get(r.get("employer_uscc"))
            if v is None and col.required:
                v = PLACEHOLDER.get(col.name)
        out[col.header] = _text(v)
    return out


def write_case_months(case: dict, root: Path) -> tuple[list[str], list[str]]:
    """Write the case's month folders under `root`; returns (history months, run months)."""
    runs = [str(m) for m in case["runs"]]
    first_run = _month(runs[0])
    data = case.get("data") or {}
    rows = {s: expand_rows(s, data.get(s, []), first_run) for s in CASE_SOURCES}
    known = _known_values(rows)
    extract_months = {r["extract_month"] for items in rows.values() for r in items}
    history = sorted(m.strftime("%Y-%m") for m in extract_months if m < first_run)
    months = history + runs
    for month in months:
        m = _month(month)
        folder = root / month
        folder.mkdir(parents=True, exist_ok=True)
        for source, spec in SOURCES.items():
            if source not in CASE_SOURCES:
                continue
            items = rows[source]
            if spec.kind == "snapshot":
                seen = [r["extract_month"] for r in items if r["extract_month"] <= m]
                month_rows = [r for r in items if seen and r["extract_month"] == max(seen)]
            else:
                month_rows = [r for r in items if r["extract_month"] == m]
            if not month_rows and not spec.required:
                continue
            headers = [c.header for c in spec.columns]
            with open(folder / f"{source}.csv", "w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=headers)
                w.writeheader()
                for r in month_rows:
                    w.writerow(_file_row(source, r, known))
    return history, runs


def run_case_months(con, case: dict, root: Path, check) -> None:
    """Load the history months, then run each run month through the real stages; `check(con,
    month, expected)` judges each run month (the same check as the harness's)."""
    from matchers.link import link_month
    from policies.engine import decide_month, mark_published
    from schemas.gate import validate_month
    from schemas.loader import load_month
    from zhibu.verification import verify_month
    from zhibu.warehouse import create_asof_views

    history, runs = write_case_months(case, root)
    for month in history:
        load_month(con, month, root / month)
    for month in runs:
        load_month(con, month, root / month)
        validate_month(con, month)
        create_asof_views(con, month)
        link_month(con, month, None)
        decide_month(con, month)
        verify_month(con, month)
        mark_published(con, month, None)
        expected = (case.get("expect") or {}).get(month)
        if expected is not None:
            check(con, month, expected)
