-- 向财政供养人员发放补贴: a grant (any status but 不予受理/审核不通过) whose beneficiary person is on
-- the fiscal_staff list, whoever applied for or received the money (a firm included).
WITH grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected AND beneficiary_id_number IS NOT NULL
),

fiscal_staff AS (
    SELECT id_number, string_agg(DISTINCT coalesce(work_unit, '单位不详'), '、' ORDER BY coalesce(work_unit, '单位不详')) AS work_units
    FROM lnk_fiscal_staff
    WHERE id_number IS NOT NULL
    GROUP BY id_number
),

granted_to_fiscal_staff AS (
    SELECT grants.*, fiscal_staff.work_units
    FROM grants
    JOIN fiscal_staff ON fiscal_staff.id_number = grants.beneficiary_id_number
)

SELECT
    'paid_to_fiscal_staff' AS check_code,
    '向财政供养人员发放补贴' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    '受益人在财政供养人员名单中（工作单位：' || work_units || '）；'
        || policy_name || ' ' || fact_amount(amount)
        || CASE WHEN subsidy_month IS NOT NULL THEN '（所属期' || fact_month(subsidy_month) || '）' ELSE '' END
        || '，' || fact_payment(pay_date, status) || '，' || fact_applicant(applicant_type, applicant_id)
        AS facts
FROM granted_to_fiscal_staff
