"""Run the sentence-named cases of ``policies/<code>/cases.yaml`` against a real DuckDB file.

A case gives only the columns that matter; everything else is NULL. The harness builds the
``lnk_<source>`` inputs of each run month as plain tables, restricted the way the matchers stage
restricts them (rows of extracts <= M; keyed deltas superseded by key; snapshots = latest <= M).

Conveniences (documented so a reviewer can read the YAML literally):
- months are written ``YYYY-MM`` and become the 1st of the month;
- ``extract_month`` defaults to the month of ``credited_date`` for social_insurance, else to
  the case's first run month;
- a social_insurance row may list several ``insurance_type``, ``contribution_month`` and/or
  ``id_number`` values: it stands for one row per combination; ``credited_date`` defaults to the 15th of the
  contribution month, ``insured_type`` to 单位职工;
- ID/USCC companions default to ``<col>_method: exact``, ``<col>_score: 1.0``, ``<col>_raw`` = value.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import yaml

from policies.params import POLICIES_DIR

SOURCES: dict[str, dict] = {
    "employment_registration": {
        "columns": {"id_number": "VARCHAR", "name": "VARCHAR", "registration_type": "VARCHAR",
                    "registration_date": "DATE", "employment_form": "VARCHAR", "employer_uscc": "VARCHAR",
                    "hardship_category": "VARCHAR", "phone": "VARCHAR", "region_code": "VARCHAR"},
        "ids": ["id_number", "employer_uscc"], "kind": "events"},
    "hiring_filing": {
        "columns": {"employer_uscc": "VARCHAR", "employer_name": "VARCHAR", "id_number": "VARCHAR",
                    "name": "VARCHAR", "filing_type": "VARCHAR", "contract_start": "DATE",
                    "contract_end": "DATE", "contract_term_type": "VARCHAR", "filing_date": "DATE",
                    "region_code": "VARCHAR"},
        "ids": ["employer_uscc", "id_number"], "kind": "events"},
    "social_insurance": {
        "columns": {"id_number": "VARCHAR", "name": "VARCHAR", "employer_uscc": "VARCHAR",
                    "insured_type": "VARCHAR", "insurance_type": "VARCHAR", "contribution_month": "DATE",
                    "contribution_base": "DECIMAL(12,2)", "employer_amount": "DECIMAL(12,2)",
                    "individual_amount": "DECIMAL(12,2)", "credited_date": "DATE", "region_code": "VARCHAR"},
        "ids": ["id_number", "employer_uscc"], "kind": "keyed",
        "key": ["id_number", "employer_uscc", "insurance_type", "contribution_month"]},
    "business_registration": {
        "columns": {"uscc": "VARCHAR", "name": "VARCHAR", "entity_type": "VARCHAR",
                    "enterprise_scale": "VARCHAR", "legal_rep_id_number": "VARCHAR",
                    "legal_rep_name": "VARCHAR", "established_date": "DATE", "status": "VARCHAR",
                    "status_date": "DATE", "serious_dishonest": "BOOLEAN", "phone": "VARCHAR",
                    "region_code": "VARCHAR"},
        "ids": ["uscc", "legal_rep_id_number"], "kind": "keyed", "key": ["uscc"]},
    "graduates": {
        "columns": {"id_number": "VARCHAR", "name": "VARCHAR", "school": "VARCHAR", "degree": "VARCHAR",
                    "graduation_date": "DATE", "hardship_types": "VARCHAR[]", "region_code": "VARCHAR",
                    "school_region_code": "VARCHAR", "phone": "VARCHAR"},
        "ids": ["id_number"], "kind": "keyed", "key": ["id_number"]},
    "poverty_alleviation": {
        "columns": {"id_number": "VARCHAR", "name": "VARCHAR", "household_id": "VARCHAR",
                    "population_type": "VARCHAR", "is_labor_force": "BOOLEAN", "phone": "VARCHAR",
                    "region_code": "VARCHAR"},
        "ids": ["id_number"], "kind": "snapshot"},
    "fiscal_staff": {
        "columns": {"id_number": "VARCHAR", "name": "VARCHAR", "work_unit": "VARCHAR",
                    "region_code": "VARCHAR"},
        "ids": ["id_number"], "kind": "snapshot"},
    "deceased": {
        "columns": {"id_number": "VARCHAR", "name": "VARCHAR", "death_date": "DATE"},
        "ids": ["id_number"], "kind": "keyed", "key": ["id_number"]},
    "subsidy_ledger": {
        "columns": {"application_id": "VARCHAR", "policy_code": "VARCHAR", "applicant_type": "VARCHAR",
                    "applicant_id": "VARCHAR", "beneficiary_id_number": "VARCHAR", "subsidy_month": "DATE",
                    "amount": "DECIMAL(12,2)", "apply_date": "DATE", "accept_date": "DATE",
                    "review_date": "DATE", "pay_date": "DATE", "status": "VARCHAR", "channel": "VARCHAR",
                    "handler_id_number": "VARCHAR", "region_code": "VARCHAR"},
        "ids": ["applicant_id", "beneficiary_id_number", "handler_id_number"], "kind": "keyed",
        "key": ["application_id"]},
}

MONTH_COLUMNS = {"contribution_month", "subsidy_month"}


def load_cases(codes: list[str] | None = None) -> list[dict]:
    """Every case of every policy folder, each tagged with its ``policy`` folder."""
    cases = []
    for path in sorted(POLICIES_DIR.glob("*/cases.yaml")):
        if codes and path.parent.name not in codes:
            continue
        with open(path, encoding="utf-8") as fh:
            for case in yaml.safe_load(fh)["cases"]:
                case["policy"] = path.parent.name
                cases.append(case)
    return cases


def _month(value) -> dt.date:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value)
    return dt.date(int(text[:4]), int(text[5:7]), 1)


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def expand_rows(source: str, rows: list[dict], first_run: dt.date) -> list[dict]:
    """Apply the documented conveniences and return full rows (all columns, NULL-filled)."""
    spec = SOURCES[source]
    out = []
    for row in rows or []:
        multi = {k: v for k, v in row.items() if isinstance(v, list) and k in ("insurance_type", "contribution_month", "id_number")
                 and source == "social_insurance"}
        combos = itertools.product(*multi.values()) if multi else [()]
        for combo in combos:
            r = dict(row)
            r.update(dict(zip(multi.keys(), combo)))
            full = {}
            for col, typ in spec["columns"].items():
                v = r.get(col)
                if v is not None:
                    if col in MONTH_COLUMNS:
                        v = _month(v)
                    elif typ == "DATE":
                        v = _date(v)
                    elif typ.startswith("DECIMAL"):
                        v = Decimal(str(v))
                    elif typ == "VARCHAR":
                        v = str(v)
                full[col] = v
            if source == "social_insurance":
                full["insured_type"] = full["insured_type"] or "单位职工"
                if full["credited_date"] is None and full["contribution_month"] is not None:
                    full["credited_date"] = full["contribution_month"] + dt.timedelta(days=14)
            if "extract_month" in r:
                full["extract_month"] = _month(r["extract_month"])
            elif source == "social_insurance" and full["credited_date"] is not None:
                full["extract_month"] = full["credited_date"].replace(day=1)
            else:
                full["extract_month"] = first_run
            for col in spec["ids"]:
                full[f"{col}_raw"] = r.get(f"{col}_raw", full[col])
                full[f"{col}_method"] = r.get(f"{col}_method", "exact" if full[col] else None)
                full[f"{col}_score"] = float(r.get(f"{col}_score", 1.0 if full[col] else 0.0))
            out.append(full)
    return out


def build_history(con, data: dict, first_run: dt.date) -> None:
    """``hist_<source>``: every row of the case with its extract_month (all months)."""
    for source, spec in SOURCES.items():
        cols = [f'"{c}" {t}' for c, t in spec["columns"].items()] + ["extract_month DATE"]
        for c in spec["ids"]:
            cols += [f"{c}_raw VARCHAR", f"{c}_method VARCHAR", f"{c}_score DOUBLE"]
        con.execute(f"create or replace table hist_{source} ({', '.join(cols)})")
        rows = expand_rows(source, (data or {}).get(source, []), first_run)
        if rows:
            names = list(rows[0].keys())
            con.executemany(
                f"insert into hist_{source} ({', '.join(names)}) values ({', '.join('?' * len(names))})",
                [[r[n] for n in names] for r in rows])


def build_inputs(con, month: str) -> None:
    """``lnk_<source>`` tables for run ``month``, restricted as the matchers stage does."""
    m = _month(month)
    for source, spec in SOURCES.items():
        visible = f"select * from hist_{source} where extract_month <= DATE '{m}'"
        if spec["kind"] == "snapshot":
            sql = (f"select * from ({visible}) where extract_month = "
                   f"(select max(extract_month) from hist_{source} where extract_month <= DATE '{m}')")
        elif spec["kind"] == "keyed":
            key = ", ".join(spec["key"])
            sql = (f"select * exclude (rn) from (select *, row_number() over (partition by {key} "
                   f"order by extract_month desc) as rn from ({visible})) where rn = 1")
        else:
            sql = visible
        con.execute(f"create or replace table lnk_{source} as {sql}")
