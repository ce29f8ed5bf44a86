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
# 核查 checks (zhibu/verification/runner.py CHECK_CODES) in Chinese; a check with no finding is
# still listed with 0.
CHECK_NAMES = {
    "overdue_accept": "超期未受理",
    "overdue_review": "超期未审核",
    "overdue_payment": "超期未拨付",
    "overdue_completion": "超期办结（超过20个工作日）",
    "paid_to_fiscal_staff": "向财政供养人员发放",
    "paid_after_death": "死亡后仍发放",
    "duplicate_one_off": "一次性补贴重复发放",
    "no_contributions": "无社保缴费支撑",
    "beneficiary_not_linked": "受益人身份无法比对",
    "handler_is_beneficiary": "经办人即受益人",
    "handler_is_legal_rep": "经办人为受益单位法定代表人",
    "handler_same_household": "经办人与受益人同户",
    "handler_same_phone": "经办人与受益人电话相同",
    "listed_above_payable": "已列入金额高于应补金额",
}


def check_codes(present=()) -> list[str]:
    """Every check the verification stage runs, in its order, then any other code present."""
    try:
        from zhibu.verification.runner import CHECK_CODES
        base = list(CHECK_CODES)
    except Exception:  # the stage's module unavailable: the known list
        base = list(CHECK_NAMES)
    return base + sorted({c for c in present if c and c not in base})


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


# ---------------------------------------------------------------- where a person/firm belongs
FIRM_POLICIES = ("one_time_hiring", "hiring_social_insurance", "job_retention_refund")

# (table, id column, name column, region column, date column): the records that place a person
# or firm in a county. The latest record (extract month, then its own date) decides.
_PLACING_RECORDS = [
    ("stg_employment_registration", "id_number", "name", "region_code", "registration_date"),
    ("stg_graduates", "id_number", "name", "region_code", "graduation_date"),
    ("stg_social_insurance", "id_number", "name", "region_code", "contribution_month"),
    ("stg_fiscal_staff", "id_number", "name", "region_code", None),
    ("stg_poverty_alleviation", "id_number", "name", "region_code", None),
    ("stg_subsidy_ledger", "beneficiary_id_number", None, "region_code", "apply_date"),
    ("stg_business_registration", "uscc", "name", "region_code", "established_date"),
    ("stg_deceased", "id_number", "name", None, "death_date"),
]


def league_of_region(region_code: str | None) -> str:
    """盟市 of a county code; anything outside Inner Mongolia's 12 → the regional department."""
    if region_code and len(region_code) >= 4:
        lg = region_code[:4] + "00"
        if lg in LEAGUES:
            return lg
    return UNASSIGNED_LEAGUE


def latest_records_sql(con: duckdb.DuckDBPyConnection, month: str, ids_sql: str) -> str | None:
    """SELECT id, region_code, name: each ID's latest placing record up to `month` (one row per
    id; region/name from the latest record that has one). None when no source table exists.
    `ids_sql` is a query returning one column `id`."""
    check_month(month)
    parts = []
    for i, (t, idc, namec, regc, datec) in enumerate(_PLACING_RECORDS):
        if not table_exists(con, t):
            continue
        cols = set(table_columns(con, t))
        need = {idc, "extract_month"} | ({regc} if regc else set())
        if not need <= cols:
            continue
        name = f"CAST({namec} AS VARCHAR)" if namec and namec in cols else "NULL"
        reg = f"CAST({regc} AS VARCHAR)" if regc else "NULL"
        d = f"CAST({datec} AS VARCHAR)" if datec and datec in cols else "NULL"
        parts.append(
            f"SELECT CAST({idc} AS VARCHAR) AS id, {reg} AS region_code, {name} AS name, "
            f"CAST(extract_month AS VARCHAR) AS em, {d} AS d, {i} AS src FROM {t} "
            f"WHERE CAST({idc} AS VARCHAR) IN (SELECT id FROM ({ids_sql})) "
            f"AND {month_key('extract_month')} <= '{month}'")
    if not parts:
        return None
    recs = " UNION ALL ".join(parts)
    order = "em DESC, d DESC NULLS LAST, src, region_code, name"
    return (
        f"WITH recs AS ({recs}), "
        f"r AS (SELECT id, region_code, row_number() OVER (PARTITION BY id ORDER BY {order}) AS k "
        f"      FROM recs WHERE region_code IS NOT NULL), "
        f"n AS (SELECT id, name, row_number() OVER (PARTITION BY id ORDER BY {order}) AS k "
        f"      FROM recs WHERE name IS NOT NULL), "
        f"i AS (SELECT DISTINCT id FROM recs) "
        f"SELECT i.id, r.region_code, n.name FROM i "
        f"LEFT JOIN r ON r.id = i.id AND r.k = 1 LEFT JOIN n ON n.id = i.id AND n.k = 1")
