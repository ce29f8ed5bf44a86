-- 无缴费记录支撑（虚报冒领风险）: a recurring social-insurance subsidy month with no matching
-- contribution behind it.
--   hiring_social_insurance:   the applicant firm paid no 单位职工 contribution (employer share > 0)
--                              for the person for that month, in any of the subsidised types
--                              110 养老 / 210 失业 / 310 医疗;
--   flexible_social_insurance: the person paid no 灵活就业人员 contribution (individual share > 0)
--                              for that month in 110 / 310.
WITH social_insurance_grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected
      AND policy_code IN ('hiring_social_insurance', 'flexible_social_insurance')
      AND subsidy_month IS NOT NULL
      AND beneficiary_id_number IS NOT NULL
),

firm_paid_months AS (
    SELECT DISTINCT employer_uscc, id_number, contribution_month
    FROM ver_ledger_contributions
    WHERE insured_type = '单位职工' AND insurance_type IN ('110', '210', '310') AND employer_amount > 0
),

flexible_paid_months AS (
    SELECT DISTINCT id_number, contribution_month
    FROM ver_ledger_contributions
    WHERE insured_type = '灵活就业人员' AND insurance_type IN ('110', '310') AND individual_amount > 0
),

hiring_months_without_contribution AS (
    SELECT g.*, '申领单位' || coalesce(g.applicant_id, '不详') || '在该月没有为该人员缴纳单位职工社会保险（养老/失业/医疗）' AS missing
    FROM social_insurance_grants AS g
    WHERE g.policy_code = 'hiring_social_insurance'
      AND NOT EXISTS (
          SELECT 1 FROM firm_paid_months AS paid
          WHERE paid.employer_uscc = g.applicant_id
            AND paid.id_number = g.beneficiary_id_number
            AND paid.contribution_month = g.subsidy_month
      )
),

flexible_months_without_contribution AS (
    SELECT g.*, '该人员在该月没有以灵活就业人员身份缴纳社会保险（养老/医疗）' AS missing
    FROM social_insurance_grants AS g
    WHERE g.policy_code = 'flexible_social_insurance'
      AND NOT EXISTS (
          SELECT 1 FROM flexible_paid_months AS paid
          WHERE paid.id_number = g.beneficiary_id_number
            AND paid.contribution_month = g.subsidy_month
      )
)

SELECT
    'no_contributions' AS check_code,
    '无缴费记录支撑（虚报冒领风险）' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    policy_name || '所属期' || fact_month(subsidy_month) || '：' || missing
        || '；补贴' || fact_amount(amount) || '，' || fact_payment(pay_date, status) AS facts
FROM (
    SELECT * FROM hiring_months_without_contribution
    UNION ALL BY NAME
    SELECT * FROM flexible_months_without_contribution
)
