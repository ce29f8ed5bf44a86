-- 优亲厚友 (handler conflict): the clerk who processed a grant (any status but 不予受理/审核不通过)
--   handler_is_beneficiary:  is the beneficiary;
--   handler_is_legal_rep:    is the legal representative of the applicant firm;
--   handler_same_household:  is in the beneficiary's household on the poverty-alleviation roster
--                            (same 户编号);
--   handler_same_phone:      has the same phone as the beneficiary in any extract (employment
--                            registration, poverty roster, graduates, and business registration
--                            for a firm's legal representative).
-- One finding per application and conflict found (an application can have several).
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
    SELECT application_id,
           'handler_is_beneficiary' AS check_code,
           '优亲厚友：经办人即受益人' AS check_name,
           '经办人即受益人本人' AS conflict
    FROM handled_grants
    WHERE handler_id_number = beneficiary_id_number
),

handler_is_legal_rep AS (
    SELECT DISTINCT g.application_id,
           'handler_is_legal_rep' AS check_code,
           '优亲厚友：经办人为申领单位法定代表人' AS check_name,
           '经办人是申领单位' || coalesce('（' || firm.name || '）', '') || '的法定代表人' AS conflict
    FROM handled_grants AS g
    JOIN lnk_business_registration AS firm
      ON g.applicant_type = '单位'
     AND firm.uscc = g.applicant_id
     AND firm.legal_rep_id_number = g.handler_id_number
),

handler_same_household AS (
    SELECT g.application_id,
           'handler_same_household' AS check_code,
           '优亲厚友：经办人与受益人同户' AS check_name,
           '经办人与受益人在脱贫人口名单中同户（户编号'
               || string_agg(DISTINCT handler_home.household_id, '、' ORDER BY handler_home.household_id) || '）' AS conflict
    FROM handled_grants AS g
    JOIN households AS handler_home ON handler_home.id_number = g.handler_id_number
    JOIN households AS beneficiary_home
      ON beneficiary_home.id_number = g.beneficiary_id_number
     AND beneficiary_home.household_id = handler_home.household_id
    WHERE g.handler_id_number <> g.beneficiary_id_number
    GROUP BY g.application_id
),

handler_same_phone AS (
    SELECT g.application_id,
           'handler_same_phone' AS check_code,
           '优亲厚友：经办人与受益人联系电话相同' AS check_name,
           '经办人与受益人登记的联系电话相同（'
               || string_agg(DISTINCT fact_phone(handler_phone.phone), '、' ORDER BY fact_phone(handler_phone.phone)) || '）' AS conflict
    FROM handled_grants AS g
    JOIN person_phones AS handler_phone ON handler_phone.id_number = g.handler_id_number
    JOIN person_phones AS beneficiary_phone
      ON beneficiary_phone.id_number = g.beneficiary_id_number
     AND beneficiary_phone.phone = handler_phone.phone
    WHERE g.handler_id_number <> g.beneficiary_id_number
    GROUP BY g.application_id
),

conflicts AS (
    SELECT * FROM handler_is_beneficiary
    UNION ALL SELECT * FROM handler_is_legal_rep
    UNION ALL SELECT * FROM handler_same_household
    UNION ALL SELECT * FROM handler_same_phone
)

SELECT
    c.check_code,
    c.check_name,
    g.application_id,
    g.policy_code,
    g.beneficiary_id_number,
    g.region_code,
    c.conflict || '；' || g.policy_name || ' ' || fact_amount(g.amount) || '，' || fact_payment(g.pay_date, g.status)
        || '，' || fact_applicant(g.applicant_type, g.applicant_id) AS facts
FROM conflicts AS c
JOIN handled_grants AS g USING (application_id)
