-- 超期办结: a paid case whose pay_date is more than 20 working days after its apply_date,
-- reported once, by the run of the month whose ledger extract brought the payment.
WITH paid_in_this_extract AS (
    SELECT *
    FROM ver_cases
    WHERE pay_date IS NOT NULL
      AND apply_date IS NOT NULL
      AND extract_month = $month_start
),

with_deadline AS (
    SELECT
        *,
        -- NULL only when the deadline falls after the calendar's last year, i.e. after pay_date
        nth_workday_after(apply_date, $completion_workdays) AS deadline
    FROM paid_in_this_extract
),

paid_late AS (
    SELECT
        *,
        workdays_between(apply_date, pay_date) AS workdays_taken,
        workdays_between(deadline, pay_date) AS workdays_late
    FROM with_deadline
    WHERE pay_date > deadline
)

SELECT
    'overdue_completion' AS check_code,
    '超期办结' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    '申请' || fact_day(apply_date) || '，受理' || fact_day(accept_date) || '，审核' || fact_day(review_date)
        || '，拨付' || fact_day(pay_date)
        || '；办结时限' || fact_day(deadline) || '（' || $completion_workdays || '个工作日）'
        || '，用时' || workdays_taken || '个工作日，'
        || CASE WHEN workdays_late > 0 THEN '超期' || workdays_late || '个工作日'
                ELSE '于时限日后的非工作日拨付' END
        || '；' || policy_name || ' ' || fact_amount(amount) || '，' || fact_applicant(applicant_type, applicant_id)
        AS facts
FROM paid_late
