-- startup_one_time — 一次性创业补贴 (person, one-off)
-- checks: one row per registered entity with a legal representative/operator.
-- final:  one row per person whose first entity meets every condition as of $as_of.
-- Parameters (amount, months of operation) are those in force on the as-of date.
with

-- ── import CTEs ───────────────────────────────────────────────────────────────────────────
entities as (
    select * from firm_register where legal_rep_id_number is not null
),
graduates as (
    select * from lnk_graduates where id_number is not null
),
spells as (
    select * from unemployment_spells
),
poverty_roster as (
    select id_number, max(extract_month) as extract_month,
           min(method_rank(id_number_method)) as link_rank, min(id_number_score) as link_score
    from lnk_poverty_alleviation where id_number is not null group by all
),
parameters_at_as_of as (
    select * from policy_parameters where $as_of >= valid_from and $as_of < valid_until
),

-- ── the person's first entity (no earlier entity with the same legal representative) ──────
entities_ranked as (
    select e.*,
           row_number() over (partition by legal_rep_id_number order by established_date, uscc) = 1
               as is_first_entity
    from entities e
),

-- ── who the person was at established_date ────────────────────────────────────────────────
graduates_at_establishment as (
    select e.uscc, g.graduation_date, g.degree, g.extract_month as graduate_extract_month,
           method_rank(g.id_number_method) as graduate_rank, g.id_number_score as graduate_score,
           graduating_year(g.graduation_date, e.established_date) as is_graduating_year,
           graduate_within(g.graduation_date, e.established_date, p.graduate_window_years) as is_recent_graduate
    from entities e
    cross join parameters_at_as_of p
    join graduates g on g.id_number = e.legal_rep_id_number
),
hardship_at_establishment as (
    select e.uscc, s.hardship_category, s.registered_on, s.extract_month as spell_extract_month,
           s.method_rank as spell_rank, s.match_score as spell_score
    from entities e
    join spells s
      on s.id_number = e.legal_rep_id_number
     and unemployed_on_day_before(s.registered_on, s.spell_until, e.established_date)
    where coalesce(s.hardship_category, '') <> ''
),

-- ── every condition, one row per entity ───────────────────────────────────────────────────
checks as (
    select e.uscc as beneficiary_id,
           e.legal_rep_id_number as person_id_number,
           e.name as entity_name, e.entity_type, e.enterprise_scale, e.established_date,
           e.status, e.status_date, e.legal_rep_name, e.region_code, e.phone,
           p.amount, p.min_operating_months,
           g.graduation_date, g.degree, h.hardship_category, h.registered_on,
           r.id_number is not null as on_poverty_roster,
           p.amount is not null as cond_rule_in_force,
           (e.entity_type = '企业' and coalesce(list_contains(p.small_firm_scales, e.enterprise_scale), false))
           or e.entity_type = '个体工商户' as cond_small_micro_or_individual,
           e.status in ('存续', '在业')
           or (e.status in ('吊销', '注销', '迁出') and e.status_date > $as_of) as cond_still_active,
           coalesce(e.established_date + to_months(p.min_operating_months) <= $as_of, false)
               as cond_operated_12_months,
           e.is_first_entity as cond_first_entity,
           coalesce(g.is_graduating_year or g.is_recent_graduate, false)
           or h.uscc is not null or r.id_number is not null as cond_target_person,
           least(method_rank(e.uscc_method), method_rank(e.legal_rep_id_number_method),
                 case when g.is_graduating_year or g.is_recent_graduate then g.graduate_rank end,
                 h.spell_rank, r.link_rank) as match_rank,
           least(e.uscc_score, e.legal_rep_id_number_score,
                 case when g.is_graduating_year or g.is_recent_graduate then g.graduate_score end,
                 h.spell_score, r.link_score) as match_score,
           -- (the poverty roster is a snapshot, re-sent every month: its extract_month says
           -- nothing about when the fact arrived, so it does not count here)
           greatest(e.extract_month,
                    case when g.is_graduating_year or g.is_recent_graduate then g.graduate_extract_month end,
                    h.spell_extract_month,
                    month_of(e.established_date + to_months(p.min_operating_months))) as evidence_month,
           concat_ws('; ',
               coalesce(e.enterprise_scale, '') || e.entity_type || '「' || e.name || '」成立'
                   || strftime(e.established_date, '%Y-%m-%d') || ' ' || e.status,
               case when g.is_graduating_year or g.is_recent_graduate
                    then '毕业' || ym(g.graduation_date) || ' ' || coalesce(g.degree, '')
                         || case when g.is_graduating_year then '(毕业年度)' else '(离校2年内)' end
               end,
               case when h.uscc is not null
                    then '就业困难人员(' || h.hardship_category || ') 失业登记' || strftime(h.registered_on, '%Y-%m-%d')
               end,
               case when r.id_number is not null then '脱贫人口名单' end
           ) as evidence
    from entities_ranked e
    cross join parameters_at_as_of p
    left join graduates_at_establishment g using (uscc)
    left join hardship_at_establishment h using (uscc)
    left join poverty_roster r on r.id_number = e.legal_rep_id_number
),

final as (
    select 'person' as beneficiary_type,
           person_id_number as beneficiary_id,
           legal_rep_name as beneficiary_name,
           person_id_number,
           legal_rep_name as person_name,
           null::date as subsidy_month,
           amount,
           1::bigint as ratio_num, 1::bigint as ratio_den,
           null::date as period_start, null::date as period_end,
           region_code, phone, match_rank, match_score, evidence, evidence_month
    from checks
    where cond_rule_in_force and cond_small_micro_or_individual and cond_still_active
      and cond_operated_12_months and cond_first_entity and cond_target_person
)

select * from final
