-- one_time_hiring — 一次性扩岗补助 (firm, one-off)
-- checks: one row per 招用 filing (firm × person × contract_start) with every condition of
--         policies.md as a boolean `cond_*` column and the facts behind it (read by explain).
-- final:  one row per person: the hire meeting every condition as of $as_of (only the
--         earliest qualifying hire of a person can, see cond_earliest_qualifying_hire).
-- Parameters are judged at contract_start (the amount in force for the hire date).
with

-- ── import CTEs ───────────────────────────────────────────────────────────────────────────
hiring_filings as (
    select * from lnk_hiring_filing
    where employer_uscc is not null and id_number is not null
),
firms as (
    select * from firm_register
),
graduates as (
    select * from lnk_graduates where id_number is not null
),
spells as (
    select * from unemployment_spells
),
parameters as (
    select * from policy_parameters
),

-- ── hires and their parameters ────────────────────────────────────────────────────────────
hires as (
    select employer_uscc, employer_name, id_number, name, contract_start, contract_end,
           region_code, extract_month,
           least(method_rank(employer_uscc_method), method_rank(id_number_method)) as link_rank,
           least(employer_uscc_score, id_number_score) as link_score
    from hiring_filings
    where filing_type = '招用' and contract_start is not null
),
separations as (
    select employer_uscc, id_number, filing_date
    from hiring_filings
    where filing_type in ('解除', '终止') and filing_date is not null
),
hires_with_parameters as (
    select h.*, p.* exclude (valid_from, valid_until)
    from hires h
    join parameters p on h.contract_start >= p.valid_from and h.contract_start < p.valid_until
),

-- ── contract length ───────────────────────────────────────────────────────────────────────
hires_with_contract_length as (
    select *,
           contract_end is null
           or contract_end >= contract_start + to_months(min_contract_months) - interval 1 day
               as has_contract_12m
    from hires_with_parameters
),

-- ── the firm at contract_start and at the as-of date ──────────────────────────────────────
hires_with_firm as (
    select h.*,
           f.name as firm_name, f.enterprise_scale, f.entity_type, f.status, f.status_date,
           f.serious_dishonest, f.phone as firm_phone, f.region_code as firm_region_code,
           coalesce(firm_in_good_standing(f.uscc, f.entity_type, f.status, f.status_date,
                                          f.serious_dishonest, h.contract_start), false)
               as firm_ok_at_start,
           coalesce(firm_in_good_standing(f.uscc, f.entity_type, f.status, f.status_date,
                                          f.serious_dishonest, $as_of), false)
               as firm_ok_at_as_of,
           method_rank(f.uscc_method) as firm_rank, f.uscc_score as firm_score
    from hires_with_contract_length h
    left join firms f on f.uscc = h.employer_uscc
),

-- ── the person at contract_start: graduate route ──────────────────────────────────────────
graduate_status_at_start as (
    select h.employer_uscc, h.id_number, h.contract_start,
           g.graduation_date, g.degree, g.extract_month as graduate_extract_month,
           method_rank(g.id_number_method) as graduate_rank, g.id_number_score as graduate_score,
           graduating_year(g.graduation_date, h.contract_start) as is_graduating_year,
           graduate_within(g.graduation_date, h.contract_start, h.graduate_window_years)
               as is_recent_graduate,
           not exists (
               select 1 from lnk_social_insurance s
               where s.id_number = h.id_number
                 and s.insured_type = '单位职工' and s.insurance_type = '110'
                 and s.contribution_month >= month_of(g.graduation_date)
                 and s.contribution_month < month_of(h.contract_start)
           ) as unemployed_since_graduation
    from hires_with_parameters h
    join graduates g using (id_number)
),

-- ── the person at contract_start: registered-unemployed youth route (registration judged on
--    the day before, so the hire's own 就业登记 does not end it; age on contract_start) ─────
unemployed_youth_at_start as (
    select h.employer_uscc, h.id_number, h.contract_start,
           s.registered_on, age_on(h.id_number, h.contract_start) as age_at_start,
           s.extract_month as spell_extract_month,
           s.method_rank as spell_rank, s.match_score as spell_score,
           age_on(h.id_number, h.contract_start) between h.youth_age_min and h.youth_age_max
               as is_youth
    from hires_with_parameters h
    join spells s
      on s.id_number = h.id_number
     and unemployed_on_day_before(s.registered_on, s.spell_until, h.contract_start)
),

-- ── paid months: 110 + 210 + 410 all paid by the firm, credited by the as-of date ─────────
contributions_of_hires as (
    select s.employer_uscc, s.id_number, s.contribution_month, s.insurance_type,
           min(s.credited_date) as credited_on,
           max(s.extract_month) as extract_month,
           min(least(method_rank(s.id_number_method), method_rank(s.employer_uscc_method))) as link_rank,
           min(least(s.id_number_score, s.employer_uscc_score)) as link_score
    from hired_contributions s    -- shared.sql: the contributions at the hiring firm
    -- only the hires the rule can pay (contract_start inside the hire window)
    semi join (select * from hires_with_parameters where amount is not null) h
      on s.id_number = h.id_number and s.employer_uscc = h.employer_uscc
    where s.insured_type = '单位职工'
      and s.insurance_type in ('110', '210', '410')
      and s.employer_amount > 0
      and s.credited_date <= $as_of
    group by all
),
paid_months as (
    select employer_uscc, id_number, contribution_month,
           max(credited_on) as paid_on,
           max(extract_month) as extract_month,
           min(link_rank) as link_rank, min(link_score) as link_score
    from contributions_of_hires
    group by all
    having count(distinct insurance_type) = 3
),
paid_months_by_hire as (
    select h.employer_uscc, h.id_number, h.contract_start, p.contribution_month, p.paid_on,
           p.extract_month, p.link_rank, p.link_score, h.paid_months_required,
           row_number() over (partition by h.employer_uscc, h.id_number, h.contract_start
                              order by p.paid_on, p.contribution_month) as nth_paid
    from hires_with_parameters h
    join paid_months p
      on p.employer_uscc = h.employer_uscc and p.id_number = h.id_number
     and p.contribution_month >= month_of(h.contract_start)
),
required_paid_months_by_hire as (
    select employer_uscc, id_number, contract_start,
           count(*) as paid_months,
           max(paid_on) as nth_paid_on,
           min(contribution_month) as first_paid_month,
           max(contribution_month) as last_paid_month,
           max(extract_month) as extract_month,
           min(link_rank) as link_rank, min(link_score) as link_score
    from paid_months_by_hire
    where nth_paid <= paid_months_required
    group by all
),

-- ── every condition, one row per hire ─────────────────────────────────────────────────────
hire_conditions as (
    select h.employer_uscc as beneficiary_id,
           h.id_number as person_id_number,
           h.name as person_name,
           coalesce(h.firm_name, h.employer_name) as beneficiary_name,
           h.contract_start, h.contract_end, h.amount, h.paid_months_required,
           h.hire_window_end, h.claims_close_months,
           g.graduation_date, g.degree, y.registered_on, y.age_at_start,
           coalesce(p.paid_months, 0) as paid_months, p.nth_paid_on,
           p.first_paid_month, p.last_paid_month,
           h.amount is not null as cond_rule_in_force,
           h.has_contract_12m as cond_contract_12m,
           h.firm_ok_at_start as cond_firm_good_standing_at_start,
           h.firm_ok_at_as_of as cond_firm_good_standing_at_as_of,
           coalesce(g.is_graduating_year
                    or (g.is_recent_graduate and g.unemployed_since_graduation)
                    or y.is_youth, false) as cond_target_person_at_start,
           coalesce(p.paid_months >= h.paid_months_required, false) as cond_paid_months,
           coalesce(p.paid_months >= h.paid_months_required
                    and not exists (
                        select 1 from separations x
                        where x.employer_uscc = h.employer_uscc and x.id_number = h.id_number
                          and x.filing_date >= h.contract_start
                          and x.filing_date <= p.nth_paid_on), false) as cond_employed_at_last_paid_month,
           coalesce($as_of <= h.hire_window_end + to_months(h.claims_close_months), false)
               as cond_claims_open,
           coalesce(h.firm_region_code, h.region_code) as region_code,
           h.firm_phone as phone,
           least(h.link_rank, h.firm_rank, p.link_rank,
                 case when g.is_graduating_year or g.is_recent_graduate then g.graduate_rank end,
                 case when y.is_youth then y.spell_rank end) as match_rank,
           least(h.link_score, h.firm_score, p.link_score,
                 case when g.is_graduating_year or g.is_recent_graduate then g.graduate_score end,
                 case when y.is_youth then y.spell_score end) as match_score,
           greatest(h.extract_month, p.extract_month,
                    case when g.is_graduating_year or g.is_recent_graduate then g.graduate_extract_month end,
                    case when y.is_youth then y.spell_extract_month end) as evidence_month,
           concat_ws('; ',
               case when g.is_graduating_year
                    then '毕业' || ym(g.graduation_date) || ' ' || coalesce(g.degree, '') || '(毕业年度)'
                    when g.is_recent_graduate and g.unemployed_since_graduation
                    then '毕业' || ym(g.graduation_date) || ' ' || coalesce(g.degree, '') || '(离校2年内未就业)'
               end,
               case when y.is_youth
                    then '失业登记' || strftime(y.registered_on, '%Y-%m-%d') || ' 招用时' || y.age_at_start || '岁'
               end,
               '用工备案' || strftime(h.contract_start, '%Y-%m-%d') || ' 合同'
                   || case when h.contract_end is null then '无固定期限'
                           else date_diff('month', h.contract_start, h.contract_end + interval 1 day) || '个月' end,
               '三险已缴' || coalesce(p.paid_months, 0) || '个月('
                   || coalesce(ym(p.first_paid_month) || '..' || ym(p.last_paid_month), '') || ')'
           ) as evidence
    from hires_with_firm h
    left join graduate_status_at_start g using (employer_uscc, id_number, contract_start)
    left join unemployed_youth_at_start y using (employer_uscc, id_number, contract_start)
    left join required_paid_months_by_hire p using (employer_uscc, id_number, contract_start)
),

-- once per person, ever: among the hires meeting every other condition, the earliest
-- contract_start wins, then the smaller USCC
checks as (
    select *,
           coalesce(count(*) filter (where meets_other_conditions) over (
               partition by person_id_number order by contract_start, beneficiary_id
               rows between unbounded preceding and 1 preceding), 0) = 0
               as cond_earliest_qualifying_hire
    from (
        select *,
               cond_rule_in_force and cond_contract_12m
               and cond_firm_good_standing_at_start and cond_firm_good_standing_at_as_of
               and cond_target_person_at_start and cond_paid_months
               and cond_employed_at_last_paid_month and cond_claims_open as meets_other_conditions
        from hire_conditions
    )
),

final as (
    select 'firm' as beneficiary_type,
           beneficiary_id, beneficiary_name, person_id_number, person_name,
           null::date as subsidy_month,
           amount,
           1::bigint as ratio_num, 1::bigint as ratio_den,
           null::date as period_start, null::date as period_end,
           region_code, phone, match_rank, match_score, evidence, evidence_month
    from checks
    where meets_other_conditions and cond_earliest_qualifying_hire
)

select * from final
