"""Run the 核查 checks for one run month and write their findings.

Reads the `lnk_*` views and `eligibility` (see docs/ARCHITECTURE.md), writes
- `verification_findings`: one row per finding (the run month's rows are replaced on re-run);
- `verification_sample`: the firms listed for joint verification and the random spot-check sample;
- `verification_takeup`: per earlier listing month, decisions listed / paid / paid in time.
Each check is one SQL file in this folder; this module only sets up and wires them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

from zhibu.workdays import register_calendar

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent
PARAMETERS_FILE = SQL_DIR / "parameters.yaml"

# Finding checks, in report order. overdue_waiting.sql yields the three overdue_* stage codes,
# handler_conflict.sql the four handler_* codes.
CHECK_FILES = (
    "overdue_waiting.sql",
    "overdue_completion.sql",
    "paid_to_fiscal_staff.sql",
    "paid_after_death.sql",
    "duplicate_one_off.sql",
    "no_contributions.sql",
    "beneficiary_not_linked.sql",
    "handler_conflict.sql",
    "listed_above_payable.sql",
)
CHECK_CODES = (
    "overdue_accept",
    "overdue_review",
    "overdue_payment",
    "overdue_completion",
    "paid_to_fiscal_staff",
    "paid_after_death",
    "duplicate_one_off",
    "no_contributions",
    "beneficiary_not_linked",
    "handler_is_beneficiary",
    "handler_is_legal_rep",
    "handler_same_household",
    "handler_same_phone",
    "listed_above_payable",
)

FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS verification_findings (
    run_month VARCHAR,
    check_code VARCHAR,
    check_name VARCHAR,
    application_id VARCHAR,
    policy_code VARCHAR,
    beneficiary_id_number VARCHAR,
    region_code VARCHAR,
    league_code VARCHAR,
    facts VARCHAR
)
"""

SAMPLE_DDL = """
CREATE TABLE IF NOT EXISTS verification_sample (
    run_month VARCHAR,
    employer_uscc VARCHAR,
    employer_name VARCHAR,
    region_code VARCHAR,
    league_code VARCHAR,
    selection VARCHAR,          -- 'ranking' (top share on amount/persons/months) or 'random'
    reason VARCHAR,             -- Chinese: why the firm is listed
    amount DECIMAL(12, 2),      -- paid over the window
    persons INTEGER,
    months INTEGER,             -- distinct person x subsidy month
    amount_rank INTEGER,
    persons_rank INTEGER,
    months_rank INTEGER,
    firms_ranked INTEGER,
    draw_no INTEGER             -- position in the run month's random order (NULL if ranked)
)
"""

TAKEUP_DDL = """
CREATE TABLE IF NOT EXISTS verification_takeup (
    run_month VARCHAR,
    listing_month VARCHAR,
    decisions INTEGER,
    paid INTEGER,
    paid_within_deadline INTEGER
)
"""


class VerificationInputError(RuntimeError):
    """An input the checks need is missing."""


REQUIRED_INPUTS = (
    "lnk_subsidy_ledger",
    "lnk_fiscal_staff",
    "lnk_deceased",
    "lnk_social_insurance",
    "lnk_hiring_filing",
    "lnk_business_registration",
    "lnk_poverty_alleviation",
    "lnk_employment_registration",
    "lnk_graduates",
    "eligibility",
)


@lru_cache(maxsize=1)
def load_parameters(path: Path = PARAMETERS_FILE) -> dict[str, Any]:
    """Flat {name: value} of the parameters file (`overdue.acceptance_workdays.value` ->
    `acceptance_workdays`), plus `one_off_policies` and `policy_names`."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    flat: dict[str, Any] = {}
    for group in ("overdue", "take_up", "firm_ranking"):
        for name, entry in doc[group].items():
            flat[name] = entry["value"]
    flat["one_off_policies"] = list(doc["policies"]["one_off"])
    flat["policy_names"] = dict(doc["policies"]["names"])
    return flat


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    if not re.fullmatch(r"\d{4}-\d{2}", month or ""):
        raise ValueError(f"run month must be 'YYYY-MM', got {month!r}")
    year, mon = int(month[:4]), int(month[5:])
    if not 1 <= mon <= 12:
        raise ValueError(f"run month must be 'YYYY-MM', got {month!r}")
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


def _months_back(first_day: dt.date, months: int) -> dt.date:
    index = first_day.year * 12 + first_day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8").strip().rstrip(";")


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]):
    """Execute with only the named parameters the statement uses (DuckDB rejects extras)."""
    used = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def _check_inputs(con: duckdb.DuckDBPyConnection) -> None:
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "UNION SELECT view_name FROM duckdb_views()"
        ).fetchall()
    }
    missing = [name for name in REQUIRED_INPUTS if name not in present]
    if missing:
        raise VerificationInputError(f"verification needs {', '.join(missing)} (run link and decide first)")


def _prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Helper macros, the policy table and ver_cases (the ledger with its stages)."""
    for statement in _sql("macros.sql").split(";"):
        if statement.strip():
            con.execute(statement)
    con.execute("CREATE OR REPLACE TEMP TABLE ver_policies (policy_code VARCHAR, policy_name VARCHAR, is_one_off BOOLEAN)")
    codes = sorted(set(params["policy_names"]) | set(params["one_off_policies"]))
    if codes:
        con.executemany(
            "INSERT INTO ver_policies VALUES (?, ?, ?)",
            [(c, params["policy_names"].get(c, c), c in params["one_off_policies"]) for c in codes],
        )
    # eligibility_months (the decide stage's listed amounts per month); an older warehouse or a
    # hand-built one may lack it or its amount columns: then nothing is known to have fallen
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'eligibility_months'").fetchall()}
    if {"payable_amount", "listed_before"} <= columns:
        con.execute("CREATE OR REPLACE TEMP VIEW ver_listed_months AS SELECT * FROM eligibility_months")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW ver_listed_months AS SELECT NULL::VARCHAR AS run_month, "
            "NULL::VARCHAR AS policy_code, NULL::VARCHAR AS beneficiary_id, NULL::VARCHAR AS person_id_number, "
            "NULL::DATE AS subsidy_month, NULL::DECIMAL(12,2) AS amount, NULL::DECIMAL(12,2) AS payable_amount, "
            "NULL::DECIMAL(12,2) AS listed_before WHERE false")
    _execute(con, _sql("cases.sql"), params)
    _execute(con, _sql("ledger_contributions.sql"), params)


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Start a transaction unless the caller already holds one; return whether we own it."""
    try:
        con.execute("BEGIN TRANSACTION")
        return True
    except duckdb.TransactionException:
        return False


def verify_month(con: duckdb.DuckDBPyConnection, month: str) -> dict[str, Any]:
    """Run every 核查 check for run month `month` ('YYYY-MM'; as-of = its last day), replace that
    month's rows in verification_findings / verification_sample / verification_takeup, and
    return a summary: counts per check, the sample, and the take-up figure."""
    month_start, as_of = _month_bounds(month)
    _check_inputs(con)
    params = dict(load_parameters())
    params.update(
        run_month=month,
        month_start=month_start,
        as_of=as_of,
        window_start=_months_back(month_start, params["window_months"] - 1),
        top_percent=f"{params['top_share'] * 100:g}",
    )

    _prepare(con, params)
    first_year, last_year = _execute(con, _sql("calendar_years.sql"), params).fetchone()
    log.info("verification %s: working-day calendar %s-%s", month, first_year, last_year)
    register_calendar(con, first_year, last_year)  # raises CalendarYearNotCovered naming the year

    for ddl in (FINDINGS_DDL, SAMPLE_DDL, TAKEUP_DDL):
        con.execute(ddl)

    # Compute everything first, then swap the month's rows in one transaction.
    check_selects = [
        f"SELECT * FROM (\n{_sql(name)}\n)" for name in CHECK_FILES
    ]
    _execute(
        con,
        "CREATE OR REPLACE TEMP TABLE ver_new_findings AS\n"
        "SELECT $run_month AS run_month, check_code, check_name, application_id, policy_code,\n"
        "       beneficiary_id_number, region_code, left(region_code, 4) || '00' AS league_code, facts\n"
        "FROM (\n" + "\nUNION ALL BY NAME\n".join(check_selects) + "\n)\n"
        "ORDER BY check_code, region_code, application_id",
        params,
    )
    _execute(con, _sql("reported_earlier.sql"), params)
    _execute(
        con,
        "CREATE OR REPLACE TEMP TABLE ver_new_sample AS SELECT $run_month AS run_month, * FROM (\n"
        + _sql("firm_sample.sql")
        + "\n) ORDER BY selection, draw_no, amount_rank, employer_uscc",
        params,
    )
    _execute(
        con,
        "CREATE OR REPLACE TEMP TABLE ver_new_takeup AS SELECT $run_month AS run_month, * FROM (\n"
        + _sql("take_up.sql")
        + "\n)",
        params,
    )

    owns_transaction = _begin(con)
    try:
        for table in ("verification_findings", "verification_sample", "verification_takeup"):
            con.execute(f"DELETE FROM {table} WHERE run_month = ?", [month])
        con.execute(
            "INSERT INTO verification_findings SELECT run_month, check_code, check_name, application_id, "
            "policy_code, beneficiary_id_number, region_code, league_code, facts FROM ver_new_findings"
        )
        con.execute("INSERT INTO verification_sample BY NAME SELECT * FROM ver_new_sample")
        con.execute("INSERT INTO verification_takeup BY NAME SELECT * FROM ver_new_takeup")
        if owns_transaction:
            con.execute("COMMIT")
    except Exception:
        if owns_transaction:
            con.execute("ROLLBACK")
        raise

    summary = _summary(con, month, as_of)
    for table in ("ver_new_findings", "ver_new_sample", "ver_new_takeup"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    log.info("verification %s: %d findings", month, summary["findings_total"])
    return summary


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _summary(con: duckdb.DuckDBPyConnection, month: str, as_of: dt.date) -> dict[str, Any]:
    counts = dict.fromkeys(CHECK_CODES, 0)
    counts.update(
        con.execute(
            "SELECT check_code, count(*) FROM verification_findings WHERE run_month = ? GROUP BY check_code",
            [month],
        ).fetchall()
    )
    ranked, flagged, sampled = con.execute(
        "SELECT coalesce(max(firms_ranked), 0), count(*) FILTER (WHERE selection = 'ranking'), "
        "count(*) FILTER (WHERE selection = 'random') FROM verification_sample WHERE run_month = ?",
        [month],
    ).fetchone()
    by_month = con.execute(
        "SELECT listing_month, decisions, paid, paid_within_deadline FROM verification_takeup "
        "WHERE run_month = ? ORDER BY listing_month",
        [month],
    ).fetchall()
    decisions = sum(r[1] for r in by_month)
    paid = sum(r[2] for r in by_month)
    paid_in_time = sum(r[3] for r in by_month)
    return {
        "run_month": month,
        "as_of": as_of,
        "findings": counts,
        "findings_total": sum(counts.values()),
        "sample": {"firms_ranked": ranked, "ranking": flagged, "random": sampled},
        "take_up": {
            "decisions_listed": decisions,
            "paid": paid,
            "paid_share": _share(paid, decisions),
            "paid_within_deadline": paid_in_time,
            "paid_within_deadline_share": _share(paid_in_time, decisions),
            "deadline_workdays": load_parameters()["paid_within_workdays"],
            "by_listing_month": [
                {"listing_month": m, "decisions": d, "paid": p, "paid_within_deadline": t}
                for m, d, p, t in by_month
            ],
        },
    }
