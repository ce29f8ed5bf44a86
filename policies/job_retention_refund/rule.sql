-- job_retention_refund — 失业保险稳岗返还 (firm, annual)
-- Runs only in the settlement month (engine gate on parameter settlement_month) for the
-- previous calendar year Y. Needs every 210 row of year Y by firm: the one full scan.
-- checks: one row per firm with 210 contributions in Y.
-- final:  one row per firm meeting every condition; amount = 210 premiums (employer +
--         individual) of Y, with the ratio in force on the as-of date applied by the engine.
with

-- ── import CTEs ───────────────────────────────────────────────────────────────────────────
firms as (
    select * from firm_register
),
parameters_at_as_of as (
    select * from policy_parameters where $as_of >= valid_from and $as_of < valid_until
),
settlement_year as (
    select year($as_of) - 1 as year,
           make_date(year($as_of) - 1, 1, 1) as first_month,
           make_date(year($as_of) - 1, 12, 1) as last_month
),
unemployment_insurance_of_year as (
    select s.employer_uscc, s.id_number, s.contribution_month,
           s.employer_amount, s.individual_amount, s.extract_month,
           least(method_rank(s.employer_uscc_method), method_rank(s.id_number_method)) as link_rank,
           least(s.employer_uscc_score, s.id_number_score) as link_score
    from lnk_social_insurance s, settlement_year y
    where s.insurance_type = '210' and s.insured_type = '单位职工'
      and s.employer_uscc is not null and s.id_number is not null
      and s.contribution_month between y.first_month and y.last_month
      and s.credited_date <= $as_of
),
dismissals_of_year as (
    select f.employer_uscc, count(*) as dismissals
    from lnk_hiring_filing f, settlement_year y
    where f.filing_type = '解除' and f.employer_uscc is not null
      and year(f.filing_date) = y.year
    group by all
),

-- ── headcount and premiums per firm ───────────────────────────────────────────────────────
monthly_headcount as (
    select employer_uscc, contribution_month, count(distinct id_number) as headcount
    from unemployment_insurance_of_year group by all
),
firm_year as (
    select u.employer_uscc,
           count(distinct u.contribution_month) as months_paid,
           sum(u.employer_amount + u.individual_amount) as premiums,
           min(u.link_rank) as link_rank, min(u.link_score) as link_score
    from unemployment_insurance_of_year u group by all
),
firm_headcount as (
    -- average of the 12 monthly headcounts (a month without contributions counts as 0)
    select employer_uscc, sum(headcount) as headcount_sum,
           cast(sum(headcount) as decimal(18, 4)) / 12 as average_headcount
    from monthly_headcount group by all
),

-- ── every condition, one row per firm ─────────────────────────────────────────────────────
checks as (
    select y.employer_uscc as beneficiary_id,
           null::varchar as person_id_number,
           f.name as firm_name, f.enterprise_scale, f.region_code, f.phone,
           y.months_paid, y.premiums, h.average_headcount, coalesce(d.dismissals, 0) as dismissals,
           round(coalesce(d.dismissals, 0) / h.average_headcount * 100, 2) as layoff_rate_percent,
           case when h.headcount_sum <= p.small_firm_headcount_max * 12
                then p.layoff_rate_max_small_firm else p.layoff_rate_max end as layoff_rate_limit,
           case when f.enterprise_scale in ('中型', '小型', '微型') then p.refund_ratio_sme
                else p.refund_ratio_large end as refund_ratio,
           case when f.enterprise_scale in ('中型', '小型', '微型') then p.refund_ratio_sme_num
                else p.refund_ratio_large_num end as ratio_num,
           case when f.enterprise_scale in ('中型', '小型', '微型') then p.refund_ratio_sme_den
                else p.refund_ratio_large_den end as ratio_den,
           p.refund_ratio_large is not null as cond_rule_in_force,
           coalesce(firm_in_good_standing(f.uscc, f.entity_type, f.status, f.status_date,
                                          f.serious_dishonest, $as_of), false) as cond_firm_good_standing_at_as_of,
           y.months_paid = 12 as cond_all_12_months_paid,
           -- dismissals / average headcount <= limit, kept exact: dismissals * 12 <= limit * sum
           coalesce(coalesce(d.dismissals, 0) * 12
                    <= h.headcount_sum * case when h.headcount_sum <= p.small_firm_headcount_max * 12
                                              then p.layoff_rate_max_small_firm else p.layoff_rate_max end,
                    false) as cond_layoff_rate,
           least(y.link_rank, method_rank(f.uscc_method)) as match_rank,
           least(y.link_score, f.uscc_score) as match_score
    from firm_year y
    cross join parameters_at_as_of p
    join firm_headcount h using (employer_uscc)
    left join dismissals_of_year d using (employer_uscc)
    left join firms f on f.uscc = y.employer_uscc
),

final as (
    select 'firm' as beneficiary_type,
           beneficiary_id, firm_name as beneficiary_name,
           null::varchar as person_id_number, null::varchar as person_name,
           null::date as subsidy_month,
           premiums as amount,
           ratio_num, ratio_den,
           (select first_month from settlement_year) as period_start,
           (select last_month from settlement_year) as period_end,
           region_code, phone, match_rank, match_score,
           concat_ws('; ',
               (select year from settlement_year) || '年失业保险缴费12个月(无欠费)',
               '月均参保' || round(average_headcount, 1) || '人',
               '解除劳动合同' || dismissals || '人 裁员率' || layoff_rate_percent || '%(上限'
                   || round(layoff_rate_limit * 100, 1) || '%)',
               coalesce(enterprise_scale, '规模未知') || '企业 返还比例' || round(refund_ratio * 100, 0) || '%',
               '失业保险费(单位+个人)合计' || premiums || '元'
           ) as evidence,
           $run_month::date as evidence_month
    from checks
    where cond_rule_in_force and cond_firm_good_standing_at_as_of
      and cond_all_12_months_paid and cond_layoff_rate
)

select * from final
