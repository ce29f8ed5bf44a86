-- 死亡后发放补贴: a grant (any status but 不予受理/审核不通过) for a person reported dead:
-- a recurring subsidy month after the month of death, or a one-off grant paid after the death
-- date (or, not yet paid, still in process although the person died by the as-of date).
WITH grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected AND beneficiary_id_number IS NOT NULL
),

deaths AS (
    SELECT id_number, min(death_date) AS death_date
    FROM lnk_deceased
    WHERE id_number IS NOT NULL AND death_date IS NOT NULL
    GROUP BY id_number
),

grants_of_deceased AS (
    SELECT grants.*, deaths.death_date,
           (NOT grants.is_one_off AND grants.subsidy_month IS NOT NULL) AS is_monthly
    FROM grants
    JOIN deaths ON deaths.id_number = grants.beneficiary_id_number
),

months_after_death AS (
    SELECT *, '死亡日期' || fact_day(death_date) || '，补贴所属期' || fact_month(subsidy_month) || '晚于死亡当月' AS what
    FROM grants_of_deceased
    WHERE is_monthly AND subsidy_month > date_trunc('month', death_date)
),

one_off_after_death AS (
    SELECT *,
        '死亡日期' || fact_day(death_date) || '，'
            || CASE WHEN pay_date IS NOT NULL THEN '一次性补贴于死亡后拨付' ELSE '死亡后申领仍在办理' END AS what
    FROM grants_of_deceased
    WHERE NOT is_monthly
      AND (pay_date > death_date OR (pay_date IS NULL AND death_date <= $as_of))
)

SELECT
    'paid_after_death' AS check_code,
    '死亡后发放补贴' AS check_name,
    application_id,
    policy_code,
    beneficiary_id_number,
    region_code,
    what || '；' || policy_name || ' ' || fact_amount(amount) || '，' || fact_payment(pay_date, status)
        || '，' || fact_applicant(applicant_type, applicant_id) AS facts
FROM (
    SELECT * FROM months_after_death
    UNION ALL BY NAME
    SELECT * FROM one_off_after_death
)
