"""Shared constants and small helpers for the publish stage."""
from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import duckdb

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

LEAGUES: dict[str, str] = {
    "150100": "呼和浩特市",
    "150200": "包头市",
    "150300": "乌海市",
    "150400": "赤峰市",
    "150500": "通辽市",
    "150600": "鄂尔多斯市",
    "150700": "呼伦贝尔市",
    "150800": "巴彦淖尔市",
    "150900": "乌兰察布市",
    "152200": "兴安盟",
    "152500": "锡林郭勒盟",
    "152900": "阿拉善盟",
}

POLICIES: dict[str, str] = {
    "one_time_hiring": "一次性扩岗补助",
    "hiring_social_insurance": "企业吸纳就业社会保险补贴",
    "flexible_social_insurance": "灵活就业社会保险补贴",
    "startup_one_time": "一次性创业补贴",
    "job_search": "求职创业补贴",
    "job_retention_refund": "失业保险稳岗返还",
}

BENEFICIARY_TYPES = {"person": "个人", "firm": "单位"}

MATCH_METHODS = {
    "exact": "精确匹配",
    "id_repaired": "证件号修复",
    "fuzzy": "模糊匹配",
    "reviewed": "人工复核确认",
}

# Rows without an Inner Mongolia 盟市 go to the regional department (outputs.md): no row lands
# in a folder that no bureau receives.
UNASSIGNED_LEAGUE = "150000"
REGIONAL_DEPARTMENT = "自治区人力资源和社会保障厅"

EXCLUSION_REASONS = {
    "fiscal_staff": "财政供养人员",
    "deceased": "已死亡",
    "ledger_granted": "补贴台账中已享受",
    "listed_earlier": "往月已列入名单",
}
# What a bureau's 不予列入 sheet shows (not the routine earlier listings).
BUREAU_EXCLUSION_REASONS = ("fiscal_staff", "deceased", "ledger_granted")

# Canonical column order of eligibility.parquet (outputs.md).
ELIGIBILITY_COLUMNS = [
    "run_month", "policy_code", "beneficiary_type", "beneficiary_id", "beneficiary_name",
    "person_id_number", "person_name", "amount", "period_start", "period_end",
    "region_code", "league_code", "match_method", "match_score", "evidence", "phone",
]

ELIGIBILITY_SORT = [
    "policy_code", "league_code", "region_code", "beneficiary_id", "person_id_number",
    "period_start",
]


def check_month(month: str) -> str:
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return month


def month_first_day(month: str) -> date:
    y, m = month.split("-")
    return date(int(y), int(m), 1)


def league_name(code: str | None) -> str:
    if code is None or code == UNASSIGNED_LEAGUE:
        return f"{REGIONAL_DEPARTMENT}（未归属盟市）"
    return LEAGUES.get(code, f"未知盟市（{code}）")


def policy_name(code: str | None, catalogue: dict | None = None) -> str:
    if catalogue and code in catalogue and catalogue[code].get("政策名称"):
        return str(catalogue[code]["政策名称"])
    return POLICIES.get(code or "", code or "")


def month_match(col: str, month: str) -> str:
    """SQL predicate: `col` (DATE or 'YYYY-MM...' VARCHAR) falls in `month`."""
    check_month(month)
    return f"CAST({col} AS VARCHAR) LIKE '{month}%'"


def month_key(col: str) -> str:
    """SQL expression: 'YYYY-MM' of a DATE or VARCHAR month column."""
    return f"substr(CAST({col} AS VARCHAR), 1, 7)"


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows and rows[0][0])


def table_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [name],
    ).fetchall()
    seen: list[str] = []
    for (c,) in rows:
        if c not in seen:
            seen.append(c)
    return seen


_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_dangerous(value) -> bool:
    """A text a spreadsheet would read as a formula (outputs.md: = + - @, tab, CR)."""
    return isinstance(value, str) and value.startswith(_DANGEROUS_PREFIXES)


def neutralise(value):
    """Neutralise spreadsheet formula injection in a text cell (prefix a quote)."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_PREFIXES):
        return "'" + value
    return value


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
