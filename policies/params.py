"""Effective-dated policy parameters (openfisca style).

Each ``policies/<code>/parameters.yaml`` holds a ``meta`` block (what kind of grant the policy
makes) and ``parameters``: every amount, duration, threshold, window and ratio, each with a
description, a unit, the document it comes from, and ``values`` keyed by the ISO date the value
took effect.  History is never edited: a change adds a date; ``null`` means "no longer in force".
Analysts change a regional setting by adding a dated value here — no code changes.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

POLICIES_DIR = Path(__file__).resolve().parent

#: Start/end used for the open periods of the periods table (exclusive end).
BEGINNING_OF_TIME = dt.date(1900, 1, 1)
END_OF_TIME = dt.date(9999, 12, 31)

#: unit -> DuckDB type of the column in ``policy_parameters``.
SQL_TYPES = {
    "CNY": "DECIMAL(12,2)",
    "ratio": "DECIMAL(12,6)",
    "months": "INTEGER",
    "years": "INTEGER",
    "persons": "INTEGER",
    "month_of_year": "INTEGER",
    "date": "DATE",
    "list": "VARCHAR[]",
    "text": "VARCHAR",
    "bool": "BOOLEAN",
}


def policy_codes() -> list[str]:
    """Every policy folder (a folder with a rule.sql and parameters.yaml) — adding a policy = adding a folder."""
    return sorted(
        p.name
        for p in POLICIES_DIR.iterdir()
        if p.is_dir() and (p / "rule.sql").exists() and (p / "parameters.yaml").exists()
    )


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@lru_cache(maxsize=None)
def _load(code: str, mtime: float) -> dict:
    with open(POLICIES_DIR / code / "parameters.yaml", encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    for name, spec in doc.get("parameters", {}).items():
        if spec.get("unit") not in SQL_TYPES:
            raise ValueError(f"{code}.{name}: unknown unit {spec.get('unit')!r}")
        for key in ("description", "reference", "values"):
            if key not in spec:
                raise ValueError(f"{code}.{name}: missing {key}")
        spec["values"] = {_as_date(k): v for k, v in spec["values"].items()}
    return doc


def load_policy(code: str) -> dict:
    """The parsed parameters.yaml of one policy (``meta`` + ``parameters``), dates as ``date``."""
    path = POLICIES_DIR / code / "parameters.yaml"
    return _load(code, path.stat().st_mtime)


def _typed(unit: str, value: Any) -> Any:
    if value is None:
        return None
    if unit == "CNY":
        from decimal import Decimal

        return Decimal(str(value)).quantize(Decimal("0.01"))
    if unit == "ratio":
        return Fraction(str(value))
    if unit == "date":
        return _as_date(value)
    if unit == "list":
        return list(value)
    return value


def value_on(spec: dict, on: dt.date) -> Any:
    """The value of one parameter in force on ``on`` (None before its first date or after a null)."""
    current = None
    for start in sorted(spec["values"]):
        if start <= on:
            current = spec["values"][start]
    return _typed(spec["unit"], current)


def parameters_on(code: str, on: dt.date | str) -> dict[str, Any]:
    """All parameter values of ``code`` in force on date ``on``.

    CNY amounts come back as ``Decimal``, ratios as exact ``Fraction``, dates as ``date``.
    """
    day = _as_date(on)
    return {name: value_on(spec, day) for name, spec in load_policy(code)["parameters"].items()}


def parameter_periods(code: str) -> list[dict[str, Any]]:
    """Piecewise-constant periods ``[valid_from, valid_until)`` over every change date of any parameter.

    The first period starts at BEGINNING_OF_TIME so that a date before the rule existed still
    finds a row (with NULL values) — the rule then visibly fails "not in force".
    """
    params = load_policy(code)["parameters"]
    changes = sorted({d for spec in params.values() for d in spec["values"]} | {BEGINNING_OF_TIME})
    periods = []
    for i, start in enumerate(changes):
        until = changes[i + 1] if i + 1 < len(changes) else END_OF_TIME
        periods.append({"valid_from": start, "valid_until": until, **parameters_on(code, start)})
    return periods


def create_parameter_table(con, code: str, table: str = "policy_parameters") -> list[str]:
    """(Re)create temp table ``table`` with one row per parameter period; returns its column names.

    A ratio parameter ``r`` yields ``r`` (DECIMAL, for display) and exact ``r_num``/``r_den``
    (BIGINT) so money is rounded once, half-up, without any float.
    """
    params = load_policy(code)["parameters"]
    cols = ["valid_from DATE", "valid_until DATE"]
    names = ["valid_from", "valid_until"]
    for name, spec in params.items():
        cols.append(f'"{name}" {SQL_TYPES[spec["unit"]]}')
        names.append(name)
        if spec["unit"] == "ratio":
            cols += [f'"{name}_num" BIGINT', f'"{name}_den" BIGINT']
            names += [f"{name}_num", f"{name}_den"]
    con.execute(f"create or replace temp table {table} ({', '.join(cols)})")
    rows = []
    for period in parameter_periods(code):
        row = [period["valid_from"], period["valid_until"]]
        for name, spec in params.items():
            v = period[name]
            if spec["unit"] == "ratio":
                row += [None if v is None else str(float(v)), None if v is None else v.numerator,
                        None if v is None else v.denominator]
            else:
                row.append(v)
        rows.append(row)
    placeholders = ", ".join("?" for _ in names)
    con.executemany(f"insert into {table} values ({placeholders})", rows)
    return names
