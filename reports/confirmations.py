"""Confirmations (意愿确认回执) matched to the decisions they answer (outputs.md, "From list to money").

A listed decision is an `eligibility` row of a published month (`published_runs`), or of the run
month itself (listed now, not yet answerable). Its key is `decision_key`
(`listing month|policy|beneficiary|person|first subsidy month`), its notice the `notice_id` that
notices.csv carried (reports/notice_ids.py, recomputed here in SQL from the same parts).

An answer matches a decision by beneficiary, policy and notice month. The beneficiary code is
read from `lnk_confirmations`, i.e. already repaired by the matchers (a mistyped ID or USCC is
replaced by the code it links to, `beneficiary_id_method` says how); an answer whose code does not
link is matched by its notice_id instead. A later answer to the same notice and policy
supersedes an earlier one. Writes temp tables:
  pay_listed   (decision_key, notice_id, listing_month, eligibility columns)
  pay_answers  (decision_key, response, response_date, account_*, matched_by, id_method) — latest answer
  pay_unmatched_answers — answers that name no listed decision (counted, never paid)
"""
from __future__ import annotations

import logging

import duckdb

log = logging.getLogger(__name__)

# Listed decisions with their notice IDs (same parts and hash as reports/notice_ids.py).
LISTED_SQL = """
CREATE OR REPLACE TEMP TABLE pay_listed AS
WITH published_listings AS (
    SELECT * FROM eligibility
    WHERE run_month IN (SELECT run_month FROM published_runs WHERE run_month < $run_month)
       OR run_month = $run_month
),

notices AS (
    SELECT run_month, beneficiary_type, beneficiary_id,
           'ZB' || replace(run_month, '-', '') || '-' || upper(left(sha256(
               run_month || '|' || beneficiary_type || '|' || beneficiary_id || '|'
               || string_agg(DISTINCT policy_code, ';' ORDER BY policy_code)), 10)) AS notice_id
    FROM published_listings
    GROUP BY run_month, beneficiary_type, beneficiary_id
)

SELECT l.run_month || '|' || l.policy_code || '|' || l.beneficiary_id || '|'
           || coalesce(l.person_id_number, '') || '|' || coalesce(l.period_start, '') AS decision_key,
       n.notice_id,
       l.run_month AS listing_month,
       last_day(strptime(l.run_month || '-01', '%Y-%m-%d')::DATE) AS listing_month_end,
       l.* EXCLUDE (run_month)
FROM published_listings AS l
JOIN notices AS n USING (run_month, beneficiary_type, beneficiary_id)
ORDER BY decision_key
"""

ANSWERS_SQL = """
CREATE OR REPLACE TEMP TABLE pay_answers AS
WITH answers AS (
    SELECT *, strftime(notice_month, '%Y-%m') AS notice_run_month
    FROM lnk_confirmations
    WHERE response_date <= $as_of
),

matched_by_beneficiary AS (
    SELECT d.decision_key, a.*, 'beneficiary' AS matched_by
    FROM pay_listed AS d
    JOIN answers AS a
      ON a.beneficiary_id = d.beneficiary_id
     AND a.policy_code = d.policy_code
     AND a.notice_run_month = d.listing_month
),

-- the code did not link (a typo the matchers could not repair): the notice it answers says who
matched_by_notice AS (
    SELECT d.decision_key, a.*, 'notice_id' AS matched_by
    FROM pay_listed AS d
    JOIN answers AS a
      ON a.beneficiary_id IS NULL
     AND a.notice_id = d.notice_id
     AND a.policy_code = d.policy_code
     AND a.notice_run_month = d.listing_month
),

every_match AS (
    SELECT * FROM matched_by_beneficiary
    UNION ALL BY NAME
    SELECT * FROM matched_by_notice
),

latest_answer AS (
    SELECT *, row_number() OVER (PARTITION BY decision_key
                                 ORDER BY response_date DESC, extract_month DESC, source_line DESC) AS k
    FROM every_match
)

SELECT decision_key, notice_id AS answered_notice_id, response, response_date, account_type, bank_name,
       account_number, account_number_valid, matched_by, beneficiary_id_method AS id_method,
       extract_month AS answer_extract_month
FROM latest_answer
WHERE k = 1
ORDER BY decision_key
"""

UNMATCHED_SQL = """
CREATE OR REPLACE TEMP TABLE pay_unmatched_answers AS
SELECT a.notice_month, a.policy_code, a.response, a.beneficiary_id_method
FROM lnk_confirmations AS a
WHERE a.response_date <= $as_of
  AND NOT EXISTS (
      SELECT 1 FROM pay_listed AS d
      WHERE d.policy_code = a.policy_code AND d.listing_month = strftime(a.notice_month, '%Y-%m')
        AND (d.beneficiary_id = a.beneficiary_id OR (a.beneficiary_id IS NULL AND d.notice_id = a.notice_id)))
"""


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> None:
    import re
    used = set(re.findall(r"\$([a-z_]+)", sql))
    con.execute(sql, {k: v for k, v in params.items() if k in used})


def match_confirmations(con: duckdb.DuckDBPyConnection, month: str, as_of) -> dict:
    """Build pay_listed / pay_answers / pay_unmatched_answers for run month `month`; return counts."""
    from policies.engine import PUBLISHED_RUNS_DDL
    con.execute(PUBLISHED_RUNS_DDL)
    params = {"run_month": month, "as_of": as_of}
    for sql in (LISTED_SQL, ANSWERS_SQL, UNMATCHED_SQL):
        _execute(con, sql, params)
    listed = con.execute("SELECT count(*) FROM pay_listed").fetchall()[0][0]
    by = dict(con.execute("SELECT matched_by || ':' || coalesce(id_method, '-'), count(*) FROM pay_answers "
                          "GROUP BY 1 ORDER BY 1").fetchall())
    unmatched = con.execute("SELECT count(*) FROM pay_unmatched_answers").fetchall()[0][0]
    log.info("confirmations %s: %d listed decisions, %d answered, %d answers unmatched",
             month, listed, sum(by.values()), unmatched)
    return {"listed_decisions": listed, "answered": by, "unmatched_answers": unmatched}
