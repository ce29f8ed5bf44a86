"""The life of every listed decision (tracking.parquet; outputs.md, "From list to money").

Per decision listed by a published month (and this month's new ones): notified, answered
(确认申领 / 放弃 / 信息有误 / no answer), batched, applied and paid in the ledger, and the working
days from confirmation to payment (the official calendar, zhibu/workdays.py). States:
  已发放        the ledger shows it paid (by the as-of date)
  放弃          the beneficiary gave it up
  信息有误待核  the beneficiary says the facts are wrong: it goes to the review queue's analysts
  超期未发放    confirmed more than `payment_workdays` working days ago and not paid → a 核查 finding
  已确认待发放  confirmed, within the deadline
  超期未确认    no answer `confirmation_workdays` working days after the listing month's end → one
                reminder (再次告知), in the first run past the deadline only
  待确认        listed, no answer yet
Writes `payment_tracking` (the month's rows replaced), adds the month's 超期未发放 rows to
verification_findings and the 信息有误 answers to review_queue (kind `info_wrong`).
"""
from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import yaml

log = logging.getLogger(__name__)

SETTINGS_FILE = Path(__file__).with_name("tracking.yaml")
OVERDUE_CHECK = "overdue_unpaid_confirmed"
OVERDUE_CHECK_NAME = "确认后超期未发放（超过20个工作日）"

STATES = ("待确认", "已确认待发放", "已发放", "放弃", "信息有误待核", "超期未确认", "超期未发放")


def settings() -> dict:
    doc = yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))
    return {k: v["value"] for k, v in doc.items()}


TRACKING_SQL = """
CREATE OR REPLACE TEMP TABLE pay_tracked AS
WITH ledger_per_decision AS (
    SELECT d.decision_key,
           min(g.apply_date) FILTER (WHERE NOT g.is_refused) AS applied_on,
           min(g.pay_date) FILTER (WHERE NOT g.is_refused AND g.pay_date <= $as_of) AS paid_on,
           bool_or(g.is_refused) AS refused_in_ledger
    FROM pay_listed AS d
    JOIN (SELECT *, coalesce(status, '') IN ('不予受理', '审核不通过') AS is_refused
          FROM lnk_subsidy_ledger) AS g
      ON g.policy_code = d.policy_code
     AND g.applicant_id = d.beneficiary_id
     AND g.beneficiary_id_number IS NOT DISTINCT FROM d.person_id_number
     AND (d.period_start IS NULL OR g.subsidy_month IS NULL
          OR strftime(g.subsidy_month, '%Y-%m') BETWEEN d.period_start AND coalesce(d.period_end, d.period_start))
    GROUP BY d.decision_key
),

batched AS (
    SELECT decision_key, min(run_month) AS batch_month FROM payment_batch
    WHERE run_month <= $run_month
      AND (run_month = $run_month OR run_month IN (SELECT run_month FROM published_runs))
    GROUP BY decision_key
),

pending_now AS (
    SELECT decision_key, reason AS pending_reason, since_month AS pending_since
    FROM payment_pending WHERE run_month = $run_month
),

facts AS (
    SELECT d.decision_key, d.listing_month, d.notice_id, d.policy_code, d.beneficiary_type, d.beneficiary_id,
           d.beneficiary_name, d.person_id_number, d.person_name, d.period_start, d.period_end, d.amount,
           d.region_code, coalesce(d.league_code, '150000') AS league_code, d.phone,
           d.listing_month_end,
           a.response, a.response_date, a.matched_by, a.id_method,
           b.batch_month, p.pending_reason, p.pending_since,
           l.applied_on, l.paid_on, coalesce(l.refused_in_ledger, false) AS refused_in_ledger,
           coalesce(nth_workday_after(d.listing_month_end, $confirmation_workdays), DATE '9999-12-31') AS confirm_by,
           CASE WHEN a.response = '确认申领'
                THEN coalesce(nth_workday_after(a.response_date, $payment_workdays), DATE '9999-12-31') END AS pay_by
    FROM pay_listed AS d
    LEFT JOIN pay_answers AS a USING (decision_key)
    LEFT JOIN batched AS b USING (decision_key)
    LEFT JOIN pending_now AS p USING (decision_key)
    LEFT JOIN ledger_per_decision AS l USING (decision_key)
),

with_state AS (
    SELECT *,
           CASE
               WHEN paid_on IS NOT NULL THEN '已发放'
               WHEN response = '放弃' THEN '放弃'
               WHEN response = '信息有误' THEN '信息有误待核'
               WHEN response = '确认申领' AND $as_of > pay_by THEN '超期未发放'
               WHEN response = '确认申领' THEN '已确认待发放'
               WHEN listing_month < $run_month AND $as_of > confirm_by THEN '超期未确认'
               ELSE '待确认'
           END AS state,
           CASE WHEN response = '确认申领' AND paid_on IS NOT NULL
                THEN workdays_between(response_date, paid_on) END AS workdays_to_payment
    FROM facts
)

SELECT $run_month AS run_month, *,
       coalesce(workdays_to_payment <= $payment_workdays, false) AS paid_within_deadline,
       -- one reminder: only in the first run whose as-of date is past the confirmation deadline
       state = '超期未确认' AND confirm_by > $previous_as_of AS reminder_due
FROM with_state
ORDER BY league_code, listing_month, policy_code, region_code, beneficiary_id, person_id_number, decision_key
"""

TRACKING_DDL = """CREATE TABLE IF NOT EXISTS payment_tracking AS SELECT * FROM pay_tracked WHERE false"""

OVERDUE_FINDINGS_SQL = f"""
INSERT INTO verification_findings
SELECT run_month, '{OVERDUE_CHECK}', '{OVERDUE_CHECK_NAME}', NULL, policy_code, person_id_number,
       region_code, league_code,
       '名单月份' || listing_month || '；告知编号' || notice_id || '；确认申领' || strftime(response_date, '%Y-%m-%d')
       || '；应于' || strftime(pay_by, '%Y-%m-%d') || '前发放，截至' || strftime($as_of::DATE, '%Y-%m-%d')
       || '未见拨付；补贴金额' || printf('%.2f', amount) || '元'
       || CASE WHEN batch_month IS NOT NULL THEN '；已列入' || batch_month || '发放批次'
               WHEN pending_reason IS NOT NULL THEN '；待补录：' || pending_reason ELSE '' END
FROM payment_tracking
WHERE run_month = $run_month AND state = '超期未发放'
ORDER BY region_code, policy_code, person_id_number, decision_key
"""

INFO_WRONG_SQL = """
INSERT INTO review_queue BY NAME
SELECT run_month, 'info_wrong' AS kind, 'confirmations' AS source, NULL AS source_file, NULL::BIGINT AS source_line,
       beneficiary_id AS left_id, beneficiary_name AS left_name, region_code AS left_region, phone AS left_phone,
       person_id_number AS right_id, person_name AS right_name, NULL AS right_region, NULL AS right_phone,
       NULL::DOUBLE AS score, NULL AS agreed,
       '受益主体反馈信息有误（' || policy_code || '，名单月份' || listing_month || '，告知编号' || notice_id
       || '，反馈日期' || strftime(response_date, '%Y-%m-%d') || '）：请核实名单依据' AS reason
FROM payment_tracking
WHERE run_month = $run_month AND state = '信息有误待核'
ORDER BY left_id, right_id, reason
"""


def _execute(con, sql: str, params: dict):
    import re
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def _register_calendar(con, as_of) -> None:
    from zhibu.workdays import register_calendar
    first = con.execute("SELECT min(year(listing_month_end)) FROM pay_listed").fetchall()[0][0]
    register_calendar(con, min(first or as_of.year, as_of.year), as_of.year)


def track_month(con: duckdb.DuckDBPyConnection, month: str, as_of) -> dict:
    """Replace `month`'s rows of payment_tracking; add its findings and review rows; return counts."""
    import datetime as dt
    params = dict(settings(), run_month=month, as_of=as_of,
                  previous_as_of=as_of.replace(day=1) - dt.timedelta(days=1))
    _register_calendar(con, as_of)
    _execute(con, TRACKING_SQL, params)
    con.execute(TRACKING_DDL)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM payment_tracking WHERE run_month = ?", [month])
        con.execute("INSERT INTO payment_tracking BY NAME SELECT * FROM pay_tracked")
        if _has(con, "verification_findings"):
            con.execute("DELETE FROM verification_findings WHERE run_month = ? AND check_code = ?",
                        [month, OVERDUE_CHECK])
            _execute(con, OVERDUE_FINDINGS_SQL, params)
        if _has(con, "review_queue"):
            con.execute("DELETE FROM review_queue WHERE run_month = ? AND kind = 'info_wrong'", [month])
            _execute(con, INFO_WRONG_SQL, params)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    states = dict(con.execute("SELECT state, count(*) FROM payment_tracking WHERE run_month = ? "
                              "GROUP BY 1 ORDER BY 1", [month]).fetchall())
    reminders = con.execute("SELECT count(*) FROM payment_tracking WHERE run_month = ? AND reminder_due",
                            [month]).fetchall()[0][0]
    log.info("tracking %s: %s; %d reminders due", month, states, reminders)
    return {"states": states, "reminders_due": reminders}


def _has(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                            [table]).fetchall()[0][0])


# ---------------------------------------------------------------- files
def read_tracking(con: duckdb.DuckDBPyConnection, month: str):
    """The month's tracking rows as an Arrow table (no account numbers: none are tracked)."""
    return con.sql(
        "SELECT * EXCLUDE (listing_month_end, confirm_by, pay_by), "
        "nullif(confirm_by, DATE '9999-12-31') AS confirm_deadline, "
        "nullif(pay_by, DATE '9999-12-31') AS payment_deadline FROM payment_tracking WHERE run_month = '" + month + "' "
        "ORDER BY league_code, listing_month, policy_code, region_code, beneficiary_id, person_id_number, "
        "decision_key").to_arrow_table()
