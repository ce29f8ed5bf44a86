-- 已列入金额高于应补金额: a recurring subsidy month listed by an earlier run whose payable amount
-- has since fallen (a contribution reversed or corrected down). The decide stage never lists a
-- negative difference; it records the month in eligibility_months with 0.00 listed, the amount
-- payable now and what earlier runs listed (both before the subsidy ratio, i.e. the
-- contributions the subsidy is computed from), once, in the run whose data showed the fall.
-- There is no ledger application behind a listing: application_id stays empty.
WITH fallen_months AS (
    SELECT * FROM ver_listed_months
    WHERE run_month = $run_month AND payable_amount < listed_before
),

earlier_listings AS (
    SELECT policy_code, beneficiary_id, person_id_number, subsidy_month,
           min(run_month) AS first_listed_in, sum(amount) AS listed_subsidy
    FROM ver_listed_months
    WHERE run_month < $run_month AND amount > 0
    GROUP BY ALL
),

-- the bureau that received the listing: its latest row for the firm × person (or person)
listing_regions AS (
    SELECT policy_code, beneficiary_id, person_id_number,
           arg_max(region_code, run_month) AS region_code
    FROM eligibility
    WHERE run_month < $run_month
    GROUP BY ALL
)

SELECT
    'listed_above_payable' AS check_code,
    '已列入金额高于应补金额' AS check_name,
    NULL::VARCHAR AS application_id,
    f.policy_code,
    f.person_id_number AS beneficiary_id_number,
    r.region_code,
    coalesce(p.policy_name, f.policy_code) || '所属期' || fact_month(f.subsidy_month)
        || CASE WHEN f.beneficiary_id IS DISTINCT FROM f.person_id_number
                THEN '（单位' || f.beneficiary_id || '）' ELSE '' END
        || '：' || coalesce(e.first_listed_in, '往月') || '起已列入补贴' || fact_amount(e.listed_subsidy)
        || '（按缴费' || fact_amount(f.listed_before) || '），现应补缴费仅' || fact_amount(f.payable_amount)
        || '，多列' || fact_amount(f.listed_before - f.payable_amount) || '（未列负数，请核减或追回）' AS facts
FROM fallen_months AS f
LEFT JOIN earlier_listings AS e USING (policy_code, beneficiary_id, person_id_number, subsidy_month)
LEFT JOIN listing_regions AS r USING (policy_code, beneficiary_id, person_id_number)
LEFT JOIN ver_policies AS p USING (policy_code)
