-- 一次性补贴重复发放: the same person granted more than once under one one-off policy
-- (once per person, ever: any firm, any region). Every grant of such a person is reported,
-- each in its own region, with the others listed in its facts.
WITH one_off_grants AS (
    SELECT
        *,
        application_id || '（' || coalesce(applicant_id, '申领主体不详') || '，区划' || coalesce(region_code, '不详')
            || '，' || fact_amount(amount) || '，' || fact_payment(pay_date, status) || '）' AS grant_summary
    FROM ver_cases
    WHERE is_one_off AND NOT is_rejected AND beneficiary_id_number IS NOT NULL
),

numbered_grants AS (
    SELECT
        *,
        count(*) OVER person_policy AS grants_for_person,
        row_number() OVER (person_policy ORDER BY coalesce(pay_date, apply_date), application_id) AS grant_no,
        string_agg(grant_summary, '；') OVER (
            person_policy ORDER BY coalesce(pay_date, apply_date), application_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS all_grants
    FROM one_off_grants
    WINDOW person_policy AS (PARTITION BY policy_code, beneficiary_id_number)
)

SELECT
    'duplicate_one_off' AS check_code,
    '一次性补贴重复发放' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    '同一人员' || policy_name || '共' || grants_for_person || '笔（每人限享受一次），本笔为第' || grant_no || '笔：'
        || all_grants AS facts
FROM numbered_grants
WHERE grants_for_person > 1
