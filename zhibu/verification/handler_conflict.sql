-- 经办人利益冲突（优亲厚友风险）: the clerk who processed a grant (any status but 不予受理/审核不通过)
--   1. is the beneficiary;
--   2. is the legal representative of the applicant firm;
--   3. is in the beneficiary's household on the poverty-alleviation roster (same 户编号);
--   4. has the same phone as the beneficiary in any extract (employment registration, poverty
--      roster, graduates, and business registration for a firm's legal representative).
-- One finding per application, listing every reason that applies.
WITH handled_grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected AND handler_id_number IS NOT NULL
),

person_phones AS (
    SELECT DISTINCT id_number, phone FROM (
        SELECT id_number, phone FROM lnk_employment_registration
        UNION ALL SELECT id_number, phone FROM lnk_poverty_alleviation
        UNION ALL SELECT id_number, phone FROM lnk_graduates
        UNION ALL SELECT legal_rep_id_number, phone FROM lnk_business_registration
    )
    WHERE id_number IS NOT NULL AND phone IS NOT NULL AND phone <> ''
),

households AS (
    SELECT DISTINCT id_number, household_id FROM lnk_poverty_alleviation
    WHERE id_number IS NOT NULL AND household_id IS NOT NULL AND household_id <> ''
),

handler_is_beneficiary AS (
    SELECT application_id, 1 AS reason_no, '经办人即受益人本人' AS reason
    FROM handled_grants
    WHERE handler_id_number = beneficiary_id_number
),

handler_is_legal_rep AS (
    SELECT g.application_id, 2 AS reason_no,
           '经办人是申领单位' || coalesce('（' || firm.name || '）', '') || '的法定代表人' AS reason
    FROM handled_grants AS g
    JOIN lnk_business_registration AS firm
      ON g.applicant_type = '单位'
     AND firm.uscc = g.applicant_id
     AND firm.legal_rep_id_number = g.handler_id_number
),

handler_in_household AS (
    SELECT g.application_id, 3 AS reason_no,
           '经办人与受益人在脱贫人口名单中同户（户编号' || handler_home.household_id || '）' AS reason
    FROM handled_grants AS g
    JOIN households AS handler_home ON handler_home.id_number = g.handler_id_number
    JOIN households AS beneficiary_home
      ON beneficiary_home.id_number = g.beneficiary_id_number
     AND beneficiary_home.household_id = handler_home.household_id
    WHERE g.handler_id_number <> g.beneficiary_id_number
),

handler_shares_phone AS (
    SELECT g.application_id, 4 AS reason_no,
           '经办人与受益人登记的联系电话相同（' || fact_phone(handler_phone.phone) || '）' AS reason
    FROM handled_grants AS g
    JOIN person_phones AS handler_phone ON handler_phone.id_number = g.handler_id_number
    JOIN person_phones AS beneficiary_phone
      ON beneficiary_phone.id_number = g.beneficiary_id_number
     AND beneficiary_phone.phone = handler_phone.phone
    WHERE g.handler_id_number <> g.beneficiary_id_number
),

reasons_per_grant AS (
    SELECT application_id, string_agg(reason, '；' ORDER BY reason_no, reason) AS reasons
    FROM (
        SELECT DISTINCT * FROM (
            SELECT * FROM handler_is_beneficiary
            UNION ALL SELECT * FROM handler_is_legal_rep
            UNION ALL SELECT * FROM handler_in_household
            UNION ALL SELECT * FROM handler_shares_phone
        )
    )
    GROUP BY application_id
)

SELECT
    'handler_conflict' AS check_code,
    '经办人利益冲突（优亲厚友风险）' AS check_name,
    g.application_id,
    g.policy_code,
    g.beneficiary_id_number,
    g.region_code,
    r.reasons || '；' || g.policy_name || ' ' || fact_amount(g.amount) || '，' || fact_payment(g.pay_date, g.status)
        || '，' || fact_applicant(g.applicant_type, g.applicant_id) AS facts
FROM reasons_per_grant AS r
JOIN handled_grants AS g USING (application_id)
