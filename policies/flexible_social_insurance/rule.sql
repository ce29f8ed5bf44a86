-- flexible_social_insurance — 灵活就业社会保险补贴 (person, recurring)
-- checks: one row per 就业登记 with form 灵活就业 (person × registration date).
-- final:  one row per person × contribution month paid as 灵活就业人员, payable as of $as_of
--         and inside the person's window (shared.sql subsidy_window_of; ≤ 0 kept so the engine
--         sees a fallen listing); amount = individual 110 + 310 of the month, with
--         the ratio (2/3) applied by the engine once to each output row's total.
-- Window lengths are judged at the 就业登记 date; the ratio is the one in force at $as_of.
with

-- ── import CTEs ───────────────────────────────────────────────────────────────────────────
registrations as (
    select * from lnk_employment_registration where id_number is not null
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

-- ── flexible-employment registrations and who the person was then ─────────────────────────
flexible_registrations as (
    select r.id_number, r.name, r.registration_date, r.region_code, r.phone, r.extract_month,
           method_rank(r.id_number_method) as link_rank, r.id_number_score as link_score,
           p.* exclude (valid_from, valid_until)
    from registrations r
    join parameters p on r.registration_date >= p.valid_from and r.registration_date < p.valid_until
    where r.registration_type = '就业登记' and r.employment_form = '灵活就业'
),
-- 就业困难人员 judged on the day before the 就业登记 (which itself ends the registration; shared.sql)
hardship_before_registration as (
    select f.id_number, f.registration_date, s.hardship_category, s.registered_on,
           s.extract_month as spell_extract_month, s.method_rank as spell_rank, s.match_score as spell_score
    from flexible_registrations f
    join spells s
      on s.id_number = f.id_number
     and unemployed_on_day_before(s.registered_on, s.spell_until, f.registration_date)
    where coalesce(s.hardship_category, '') <> ''
),
recent_graduates_at_registration as (
    select f.id_number, f.registration_date, g.graduation_date, g.degree,
           g.extract_month as graduate_extract_month,
           method_rank(g.id_number_method) as graduate_rank, g.id_number_score as graduate_score
    from flexible_registrations f
    join graduates g using (id_number)
    where graduate_within(g.graduation_date, f.registration_date, f.graduate_window_years)
),
registrations_with_route as (
    select f.*,
           h.hardship_category, h.registered_on, gr.graduation_date, gr.degree,
           h.id_number is not null as is_hardship_day_before,
           gr.id_number is not null as is_recent_graduate,
           case when h.id_number is not null and f.window_months_hardship is not null then 'hardship'
                when gr.id_number is not null and f.window_months_graduate is not null then 'graduate'
           end as route,
           case when h.id_number is not null and f.window_months_hardship is not null then f.window_months_hardship
                when gr.id_number is not null and f.window_months_graduate is not null then f.window_months_graduate
           end as window_months,
           coalesce(h.spell_rank, gr.graduate_rank) as route_rank,
           coalesce(h.spell_score, gr.graduate_score) as route_score,
           coalesce(h.spell_extract_month, gr.graduate_extract_month) as route_extract_month
    from flexible_registrations f
    left join hardship_before_registration h using (id_number, registration_date)
    left join recent_graduates_at_registration gr using (id_number, registration_date)
),
-- the person's qualifying registration: the earliest one with a route
qualifying_registration as (
    select * from registrations_with_route
    where route is not null
    qualify row_number() over (partition by id_number order by registration_date, route) = 1
),

-- ── contributions paid as 灵活就业人员: individual 110 + 310 ───────────────────────────────
flexible_contributions_by_month as (
    select s.id_number, s.contribution_month,
           sum(s.individual_amount) as individual_amount,
           max(s.extract_month) as extract_month,
           min(method_rank(s.id_number_method)) as link_rank,
           min(s.id_number_score) as link_score
    from lnk_social_insurance s
    semi join qualifying_registration q on s.id_number = q.id_number
    where s.insured_type = '灵活就业人员'
      and s.insurance_type in ('110', '310')
      and s.credited_date <= $as_of
    group by all
),
payable_months as (
    select q.id_number, q.registration_date, q.window_months,
           month_of(q.registration_date) as window_anchor_month,
           null::date as retirement_month, null::integer as near_retirement_months,
           c.contribution_month, c.individual_amount as payable_amount,
           c.extract_month, c.link_rank, c.link_score
    from qualifying_registration q
    join flexible_contributions_by_month c
      on c.id_number = q.id_number and c.contribution_month >= month_of(q.registration_date)
),

-- ── the subsidy window (shared.sql: first subsidised month, data horizon) ─────────────────
months_with_window as (
    select * from subsidy_window_of(payable_months, 'flexible_social_insurance', $run_month_text)
),
subsidy_windows as (
    select distinct id_number, window_start, window_end from months_with_window
),
payable_months_in_window as (
    select * from months_with_window where in_window
),

-- ── every condition, one row per flexible-employment registration ─────────────────────────
checks as (
    select r.id_number as beneficiary_id,
           r.id_number as person_id_number,
           r.registration_date, r.is_hardship_day_before, r.hardship_category, r.is_recent_graduate,
           r.graduation_date, r.route, w.window_start,
           (select count(*) from payable_months_in_window m
            where m.id_number = r.id_number and m.payable_amount > 0) as months_in_window,
           (select count(*) from lnk_social_insurance s
            where s.id_number = r.id_number and s.insured_type = '灵活就业人员') as flexible_contribution_rows,
           (r.window_months_hardship is not null and r.is_hardship_day_before)
           or (r.window_months_graduate is not null and r.is_recent_graduate) as cond_rule_in_force,
           r.is_hardship_day_before or r.is_recent_graduate as cond_hardship_or_graduate_at_registration,
           exists (select 1 from payable_months_in_window m
                   where m.id_number = r.id_number and m.payable_amount > 0) as cond_payable_months_in_window
    from registrations_with_route r
    left join subsidy_windows w using (id_number)
),

final as (
    select 'person' as beneficiary_type,
           p.id_number as beneficiary_id,
           q.name as beneficiary_name,
           p.id_number as person_id_number,
           q.name as person_name,
           p.contribution_month as subsidy_month,
           p.payable_amount as amount,
           a.subsidy_ratio_num as ratio_num, a.subsidy_ratio_den as ratio_den,
           null::date as period_start, null::date as period_end,
           q.region_code, q.phone,
           least(q.link_rank, q.route_rank, p.link_rank) as match_rank,
           least(q.link_score, q.route_score, p.link_score) as match_score,
           concat_ws('; ',
               case when q.route = 'hardship'
                    then '就业困难人员(' || q.hardship_category || ') 失业登记' || strftime(q.registered_on, '%Y-%m-%d')
                    else '毕业' || ym(q.graduation_date) || ' ' || coalesce(q.degree, '') || '(离校2年内)'
               end,
               '灵活就业登记' || strftime(q.registration_date, '%Y-%m-%d'),
               '补贴期限' || ym(p.window_start) || '..' || ym(p.window_end),
               '补贴比例' || a.subsidy_ratio_num || '/' || a.subsidy_ratio_den
           ) as evidence,
           greatest(q.extract_month, q.route_extract_month, p.extract_month) as evidence_month
    from payable_months_in_window p
    join qualifying_registration q using (id_number)
    cross join parameters_at_as_of a
    where a.subsidy_ratio_num is not null
)

select * from final
