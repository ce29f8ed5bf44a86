-- 受益人与申领单位无用工关系: a grant applied for by a firm (申领主体类型 单位) for a person whom
-- nothing links to that firm: no hiring filing (any type) by the firm for the person, and no
-- social-insurance contribution (any type, any month) from the firm for the person.
WITH firm_grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected
      AND applicant_type = '单位'
      AND applicant_id IS NOT NULL
      AND beneficiary_id_number IS NOT NULL
),

filed_employments AS (
    SELECT DISTINCT employer_uscc, id_number FROM lnk_hiring_filing
),

insured_employments AS (
    SELECT DISTINCT employer_uscc, id_number FROM ver_ledger_contributions
    WHERE employer_uscc IS NOT NULL
),

unlinked_grants AS (
    SELECT g.*
    FROM firm_grants AS g
    WHERE NOT EXISTS (
            SELECT 1 FROM filed_employments AS f
            WHERE f.employer_uscc = g.applicant_id AND f.id_number = g.beneficiary_id_number)
      AND NOT EXISTS (
            SELECT 1 FROM insured_employments AS i
            WHERE i.employer_uscc = g.applicant_id AND i.id_number = g.beneficiary_id_number)
),

firm_names AS (
    SELECT uscc, min(name) AS firm_name FROM lnk_business_registration GROUP BY uscc
)

SELECT
    'beneficiary_not_linked' AS check_code,
    '受益人与申领单位无用工关系' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    '申领单位' || applicant_id || coalesce('（' || firm_names.firm_name || '）', '')
        || '与受益人既无用工备案，也无该单位为其缴纳社会保险的记录；'
        || policy_name || ' ' || fact_amount(amount)
        || CASE WHEN subsidy_month IS NOT NULL THEN '（所属期' || fact_month(subsidy_month) || '）' ELSE '' END
        || '，' || fact_payment(pay_date, status) AS facts
FROM unlinked_grants
LEFT JOIN firm_names ON firm_names.uscc = unlinked_grants.applicant_id
