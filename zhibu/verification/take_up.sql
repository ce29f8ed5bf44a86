-- 兑现率 (take-up): of the decisions listed by earlier months' runs (eligibility, run_month < M),
-- how many are found paid in the ledger by the as-of date, and how many were paid within
-- 20 working days after the end of the listing month.
-- A decision is matched by a paid grant (pay_date <= as-of, not 不予受理/审核不通过) with the same
-- policy, applicant = beneficiary_id (firm or person) and person; for recurring decisions the
-- grant's subsidy month must fall in [period_start, period_end]. Its payment date is the first
-- matching pay_date.
WITH earlier_decisions AS (
    SELECT
        row_number() OVER () AS decision_no,
        run_month AS listing_month,
        policy_code,
        beneficiary_id,
        person_id_number,
        last_day(strptime(run_month || '-01', '%Y-%m-%d')::DATE) AS listing_month_end,
        strptime(left(period_start, 7) || '-01', '%Y-%m-%d')::DATE AS first_month,
        strptime(left(period_end, 7) || '-01', '%Y-%m-%d')::DATE AS last_month
    FROM eligibility
    WHERE run_month < $run_month
),

paid_grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected AND pay_date IS NOT NULL AND pay_date <= $as_of
),

decision_payments AS (
    SELECT
        d.decision_no,
        d.listing_month,
        d.listing_month_end,
        min(g.pay_date) AS first_pay_date
    FROM earlier_decisions AS d
    LEFT JOIN paid_grants AS g
      ON g.policy_code = d.policy_code
     AND g.applicant_id = d.beneficiary_id
     AND g.beneficiary_id_number IS NOT DISTINCT FROM d.person_id_number
     AND (d.first_month IS NULL OR g.subsidy_month IS NULL
          OR g.subsidy_month BETWEEN d.first_month AND coalesce(d.last_month, d.first_month))
    GROUP BY d.decision_no, d.listing_month, d.listing_month_end
),

with_deadline AS (
    SELECT
        *,
        -- NULL when the deadline falls after the calendar's last year: after every pay_date <= as-of
        coalesce(nth_workday_after(listing_month_end, $paid_within_workdays), DATE '9999-12-31') AS deadline
    FROM decision_payments
)

SELECT
    listing_month,
    count(*)::INTEGER AS decisions,
    count(first_pay_date)::INTEGER AS paid,
    count(*) FILTER (WHERE first_pay_date <= deadline)::INTEGER AS paid_within_deadline
FROM with_deadline
GROUP BY listing_month
ORDER BY listing_month
