-- 一次性补贴重复发放: the same person granted more than once under one one-off policy
-- (once per person, ever: any firm, any region). The first grant stands (the earliest paid one;
-- if none is paid yet, the earliest applied); every later grant is a finding, in its own
-- region, with the earlier grants listed in its facts.
WITH one_off_grants AS (
    SELECT
        *,
        coalesce(application_id, '流水号不详') || '（' || coalesce(applicant_id, '申领主体不详')
            || '，区划' || coalesce(region_code, '不详')
            || '，' || fact_amount(amount) || '，' || fact_payment(pay_date, status) || '）' AS grant_summary
    FROM ver_cases
    WHERE is_one_off AND NOT is_rejected AND beneficiary_id_number IS NOT NULL
),

numbered_grants AS (
    SELECT
        *,
        row_number() OVER earliest_first AS grant_no,
        string_agg(grant_summary, '；') OVER (
            earliest_first ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier_grants
    FROM one_off_grants
    WINDOW earliest_first AS (
        PARTITION BY policy_code, beneficiary_id_number
        ORDER BY pay_date NULLS LAST, apply_date, application_id
    )
)

SELECT
    'duplicate_one_off' AS check_code,
    '一次性补贴重复发放' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    '同一人员' || policy_name || '每人限享受一次，本笔为第' || grant_no || '笔（' || fact_amount(amount)
        || '，' || fact_payment(pay_date, status) || '，' || fact_applicant(applicant_type, applicant_id)
        || '）；此前已有：' || earlier_grants AS facts
FROM numbered_grants
WHERE grant_no > 1
