-- 超期未受理 / 超期未审核 / 超期未拨付
-- A case still waiting at a stage is overdue when the as-of date is later than the stage's
-- deadline: the N-th working day after the stage's start date (start day not counted).
WITH stage_rules (waiting_for, check_code, check_name, started_label, awaited_label, limit_workdays) AS (
    VALUES
        ('acceptance', 'overdue_accept', '超期未受理', '申请', '受理', $acceptance_workdays),
        ('review',     'overdue_review',     '超期未审核', '受理', '审核', $review_workdays),
        ('payment',    'overdue_payment',    '超期未拨付', '审核', '拨付', $payment_workdays)
),

waiting_cases AS (
    SELECT cases.*, rules.* EXCLUDE (waiting_for)
    FROM ver_cases AS cases
    JOIN stage_rules AS rules USING (waiting_for)
    WHERE cases.waiting_since <= $as_of
),

with_deadline AS (
    SELECT
        *,
        -- NULL when the deadline falls after the calendar's last year, i.e. after the as-of date
        nth_workday_after(waiting_since, limit_workdays) AS deadline
    FROM waiting_cases
),

overdue_cases AS (
    SELECT *, workdays_between(deadline, $as_of) AS workdays_late
    FROM with_deadline
    WHERE $as_of > deadline
)

SELECT
    check_code,
    check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    started_label || fact_day(waiting_since)
        || '，' || awaited_label || '时限' || fact_day(deadline) || '（' || limit_workdays || '个工作日）'
        || '，截至' || fact_day($as_of::DATE) || '仍未' || awaited_label
        || '，' || CASE WHEN workdays_late > 0 THEN '超期' || workdays_late || '个工作日'
                        ELSE '已过时限日（其后尚无工作日）' END
        || '；' || policy_name || ' ' || fact_amount(amount) || '，' || fact_applicant(applicant_type, applicant_id)
        AS facts
FROM overdue_cases
