-- hiring_social_insurance — 企业吸纳就业社会保险补贴 (firm, recurring)
-- checks: one row per 招用 filing (firm × person × contract_start) with each condition.
-- final:  one row per firm × person × contribution month that is payable as of $as_of and
--         falls inside the person's subsidy window (shared.sql subsidy_window_of), with its
--         amount payable now (≤ 0 kept: the engine sees a listing that has fallen); the engine
--         removes what is already listed or granted, tops up what rose, and folds the rest
--         into one row per firm × person.
-- Window lengths and firm-size rules are judged at contract_start; the retirement-age
-- schedule is the one in force on the as-of date.
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
parameters_at_as_of as (
    select * from policy_parameters where $as_of >= valid_from and $as_of < valid_until
),

-- ── hires ─────────────────────────────────────────────────────────────────────────────────
hires as (
    select employer_uscc, employer_name, id_number, name, contract_start, contract_end,
           region_code, extract_month,
           least(method_rank(employer_uscc_method), method_rank(id_number_method)) as link_rank,
           least(employer_uscc_score, id_number_score) as link_score
    from hiring_filings
    where filing_type = '招用' and contract_start is not null
),
hires_with_parameters as (
    select h.*, p.* exclude (valid_from, valid_until)
    from hires h
    join parameters p on h.contract_start >= p.valid_from and h.contract_start < p.valid_until
),
-- employment ends with the first 解除/终止 filing by the firm on or after contract_start;
-- its month is the last subsidy month
hires_with_end as (
    select h.*,
           (select min(x.filing_date) from hiring_filings x
            where x.filing_type in ('解除', '终止')
              and x.employer_uscc = h.employer_uscc and x.id_number = h.id_number
              and x.filing_date >= h.contract_start) as separated_on
    from hires_with_parameters h
),

-- ── the firm ──────────────────────────────────────────────────────────────────────────────
hires_with_firm as (
    select h.*,
           f.name as firm_name, f.enterprise_scale, f.phone as firm_phone,
           f.region_code as firm_region_code,
           coalesce(firm_in_good_standing(f.uscc, f.entity_type, f.status, f.status_date,
                                          f.serious_dishonest, h.contract_start), false) as firm_ok_at_start,
           coalesce(firm_in_good_standing(f.uscc, f.entity_type, f.status, f.status_date,
                                          f.serious_dishonest, $as_of), false) as firm_ok_at_as_of,
           coalesce(list_contains(h.small_firm_scales, f.enterprise_scale), false) as is_small_micro,
           method_rank(f.uscc_method) as firm_rank, f.uscc_score as firm_score
    from hires_with_end h
    left join firms f on f.uscc = h.employer_uscc
),

-- ── route (a): 就业困难人员 at contract_start, judged on the day before (shared.sql) ─────────
hardship_at_start as (
    select h.employer_uscc, h.id_number, h.contract_start,
           s.registered_on, s.hardship_category, s.extract_month as spell_extract_month,
           s.method_rank as spell_rank, s.match_score as spell_score
    from hires h
    join spells s
      on s.id_number = h.id_number
     and unemployed_on_day_before(s.registered_on, s.spell_until, h.contract_start)
    where coalesce(s.hardship_category, '') <> ''
),

-- ── route (b): recent graduate, unemployed since graduation, 12-month contract ────────────
recent_graduates_at_start as (
    select h.employer_uscc, h.id_number, h.contract_start,
           g.graduation_date, g.degree, g.extract_month as graduate_extract_month,
           method_rank(g.id_number_method) as graduate_rank, g.id_number_score as graduate_score,
           h.contract_end is null
           or h.contract_end >= h.contract_start + to_months(h.min_contract_months) - interval 1 day
               as has_contract_12m
    from hires_with_parameters h
    join graduates g using (id_number)
    where graduate_within(g.graduation_date, h.contract_start, h.graduate_window_years)
      and not exists (
          select 1 from lnk_social_insurance s
          where s.id_number = h.id_number
            and s.insured_type = '单位职工' and s.insurance_type = '110'
            and s.contribution_month >= month_of(g.graduation_date)
            and s.contribution_month < month_of(h.contract_start))
),

-- ── statutory retirement month (2025 gradual raise, cohort schedule in force at as-of) ────
retirement as (
    select distinct h.id_number,
           id_birth_date(h.id_number) as birth_date,
           month_of(id_birth_date(h.id_number)) as birth_month,
           id_is_male(h.id_number) as is_male,
           p.*
    from hires h cross join parameters_at_as_of p
),
retirement_months as (
    select id_number,
           month_of(birth_date + to_months(
               case when is_male
                    then retirement_age_male_months
                         + case when retirement_raise_male_from_birth is not null
                                 and birth_month >= retirement_raise_male_from_birth
                                then least(retirement_raise_male_max_months,
                                           date_diff('month', retirement_raise_male_from_birth, birth_month)
                                               // retirement_raise_male_step_months + 1)
                                else 0 end
                    else retirement_age_female_months
                         + case when retirement_raise_female_from_birth is not null
                                 and birth_month >= retirement_raise_female_from_birth
                                then least(retirement_raise_female_max_months,
                                           date_diff('month', retirement_raise_female_from_birth, birth_month)
                                               // retirement_raise_female_step_months + 1)
                                else 0 end
               end)) as retirement_month,
           near_retirement_months
    from retirement
),

-- ── route per hire: (a) wins over (b) ─────────────────────────────────────────────────────
hires_with_route as (
    select h.*,
           a.registered_on, a.hardship_category,
           b.graduation_date, b.degree, coalesce(b.has_contract_12m, false) as has_contract_12m,
           a.id_number is not null as is_hardship_at_start,
           b.id_number is not null as is_recent_graduate_unemployed,
           case when a.id_number is not null then 'a'
                when b.id_number is not null and b.has_contract_12m and h.is_small_micro then 'b'
           end as route,
           case when a.id_number is not null then h.window_months_hardship
                when b.id_number is not null and b.has_contract_12m and h.is_small_micro
                then h.window_months_graduate
           end as window_months,
           case when a.id_number is not null then a.spell_rank
                when b.id_number is not null then b.graduate_rank end as route_rank,
           case when a.id_number is not null then a.spell_score
                when b.id_number is not null then b.graduate_score end as route_score,
           case when a.id_number is not null then a.spell_extract_month
                when b.id_number is not null then b.graduate_extract_month end as route_extract_month,
           r.retirement_month, r.near_retirement_months
    from hires_with_firm h
    left join hardship_at_start a using (employer_uscc, id_number, contract_start)
    left join recent_graduates_at_start b using (employer_uscc, id_number, contract_start)
    left join retirement_months r using (id_number)
),
eligible_hires as (
    select * from hires_with_route
    where route is not null and firm_ok_at_start and firm_ok_at_as_of
),

-- ── contribution months of the eligible hires: employer 110 + 310 + 210 ───────────────────
employer_contributions_by_month as (
    select s.employer_uscc, s.id_number, s.contribution_month,
           sum(s.employer_amount) as employer_amount,
           max(s.extract_month) as extract_month,
           min(least(method_rank(s.id_number_method), method_rank(s.employer_uscc_method))) as link_rank,
           min(least(s.id_number_score, s.employer_uscc_score)) as link_score
    -- an inner join with the few distinct hires keeps the hash table on their side;
    -- hired_contributions (shared.sql) holds the contributions at the hiring firm
    from (select distinct id_number, employer_uscc from eligible_hires) h
    join hired_contributions s on s.id_number = h.id_number and s.employer_uscc = h.employer_uscc
    where s.insured_type = '单位职工'
      and s.insurance_type in ('110', '310', '210')
      and s.credited_date <= $as_of
    group by all
),
payable_months as (
    select h.employer_uscc, h.id_number, h.contract_start, h.route, h.window_months,
           month_of(h.contract_start) as window_anchor_month,
           case when h.route = 'a' then h.retirement_month end as retirement_month,
           h.near_retirement_months,
           c.contribution_month, c.employer_amount as payable_amount,
           c.extract_month, c.link_rank, c.link_score
    from eligible_hires h
    join employer_contributions_by_month c
      on c.employer_uscc = h.employer_uscc and c.id_number = h.id_number
     and c.contribution_month >= month_of(h.contract_start)
     and (h.separated_on is null or c.contribution_month <= month_of(h.separated_on))
    -- a month covered by two spells with the same firm belongs to the latest one
    qualify row_number() over (partition by h.employer_uscc, h.id_number, c.contribution_month
                               order by h.contract_start desc) = 1
),

-- ── the subsidy window (shared.sql: first subsidised month, data horizon, retirement) ─────
months_with_window as (
    select * from subsidy_window_of(payable_months, 'hiring_social_insurance', $run_month_text)
),
subsidy_windows as (
    select distinct employer_uscc, id_number, contract_start, window_start, window_end
    from months_with_window
),
payable_months_in_window as (
    select * from months_with_window where in_window
),
months_by_hire as (
    select employer_uscc, id_number, contract_start,
           count(*) as months_in_window,
           min(contribution_month) as first_month, max(contribution_month) as last_month
    from payable_months_in_window where payable_amount > 0 group by all
),

-- ── every condition, one row per hire ─────────────────────────────────────────────────────
checks as (
    select h.employer_uscc as beneficiary_id,
           h.id_number as person_id_number,
           h.contract_start, h.contract_end, h.separated_on, h.enterprise_scale,
           h.is_hardship_at_start, h.hardship_category, h.registered_on,
           h.is_recent_graduate_unemployed, h.graduation_date, h.is_small_micro, h.has_contract_12m,
           h.route, h.retirement_month, w.window_start, w.window_end,
           coalesce(m.months_in_window, 0) as months_in_window, m.first_month, m.last_month,
           h.window_months_hardship is not null as cond_rule_in_force,
           h.firm_ok_at_start as cond_firm_good_standing_at_start,
           h.firm_ok_at_as_of as cond_firm_good_standing_at_as_of,
           h.route is not null as cond_hardship_or_small_firm_graduate,
           coalesce(m.months_in_window > 0, false) as cond_payable_months_in_window
    from hires_with_route h
    left join subsidy_windows w using (employer_uscc, id_number, contract_start)
    left join months_by_hire m using (employer_uscc, id_number, contract_start)
),

final as (
    select 'firm' as beneficiary_type,
           p.employer_uscc as beneficiary_id,
           coalesce(h.firm_name, h.employer_name) as beneficiary_name,
           p.id_number as person_id_number,
           h.name as person_name,
           p.contribution_month as subsidy_month,
           p.payable_amount as amount,
           1::bigint as ratio_num, 1::bigint as ratio_den,
           null::date as period_start, null::date as period_end,
           coalesce(h.firm_region_code, h.region_code) as region_code,
           h.firm_phone as phone,
           least(h.link_rank, h.firm_rank, h.route_rank, p.link_rank) as match_rank,
           least(h.link_score, h.firm_score, h.route_score, p.link_score) as match_score,
           concat_ws('; ',
               case when p.route = 'a'
                    then '就业困难人员(' || h.hardship_category || ') 失业登记' || strftime(h.registered_on, '%Y-%m-%d')
                    else '毕业' || ym(h.graduation_date) || ' ' || coalesce(h.degree, '') || '(离校2年内未就业); '
                         || coalesce(h.enterprise_scale, '') || '企业'
               end,
               '用工备案' || strftime(h.contract_start, '%Y-%m-%d'),
               '补贴期限' || ym(p.window_start) || '..' || ym(p.window_end)
                   || case when p.window_end = p.retirement_month then '(至退休)' else '' end
           ) as evidence,
           greatest(h.extract_month, h.route_extract_month, p.extract_month) as evidence_month
    from payable_months_in_window p
    join eligible_hires h using (employer_uscc, id_number, contract_start)
)

select * from final
