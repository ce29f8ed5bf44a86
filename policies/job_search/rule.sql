-- job_search — 求职创业补贴 (person, one-off)
-- checks: one row per student/graduate record.
-- final:  one row per student of graduating year Y with a hardship (education flag or found
--         on the poverty roster), in a run month from September of Y−1 to June of Y.
-- Parameters are those in force on the as-of date.
with

-- ── import CTEs ───────────────────────────────────────────────────────────────────────────
graduates as (
    select * from lnk_graduates where id_number is not null
),
poverty_roster as (
    select id_number, min(population_type) as population_type, max(extract_month) as extract_month,
           min(method_rank(id_number_method)) as link_rank, min(id_number_score) as link_score
    from lnk_poverty_alleviation where id_number is not null group by all
),
parameters_at_as_of as (
    select * from policy_parameters where $as_of >= valid_from and $as_of < valid_until
),

-- ── the graduating year this run lists: Sep Y−1 .. Jun Y ──────────────────────────────────
listing_year as (
    select case when month($as_of) >= listing_from_month then year($as_of) + 1
                when month($as_of) <= listing_to_month then year($as_of)
           end as graduating_year,
           *
    from parameters_at_as_of
),

-- ── every condition, one row per student ──────────────────────────────────────────────────
checks as (
    select g.id_number as beneficiary_id,
           g.id_number as person_id_number,
           g.name, g.school, g.degree, g.graduation_date, g.hardship_types, g.region_code, g.phone,
           y.graduating_year as listed_graduating_year, y.amount,
           r.population_type as poverty_population_type,
           y.amount is not null as cond_rule_in_force,
           coalesce(year(g.graduation_date) = y.graduating_year, false) as cond_listing_window,
           coalesce(list_has_any(g.hardship_types, y.hardship_types), false)
           or r.id_number is not null as cond_hardship,
           least(method_rank(g.id_number_method), r.link_rank) as match_rank,
           least(g.id_number_score, r.link_score) as match_score,
           -- the listing opens in September of Y−1: a student becomes new then, or when the
           -- record arrives (the roster is a snapshot re-sent monthly: not a sign of news)
           greatest(g.extract_month,
                    make_date(year(g.graduation_date) - 1, y.listing_from_month, 1)) as evidence_month,
           concat_ws('; ',
               coalesce(g.school, '') || ' ' || coalesce(g.degree, '') || ' 毕业(含预计)' || ym(g.graduation_date),
               case when len(list_intersect(g.hardship_types, y.hardship_types)) > 0
                    then '困难类别:' || array_to_string(list_intersect(g.hardship_types, y.hardship_types), '、') end,
               case when r.id_number is not null then '脱贫人口名单(' || coalesce(r.population_type, '') || ')' end
           ) as evidence
    from graduates g
    cross join listing_year y
    left join poverty_roster r using (id_number)
),

final as (
    select 'person' as beneficiary_type,
           beneficiary_id, name as beneficiary_name, person_id_number, name as person_name,
           null::date as subsidy_month,
           amount,
           1::bigint as ratio_num, 1::bigint as ratio_den,
           null::date as period_start, null::date as period_end,
           region_code, phone, match_rank, match_score, evidence, evidence_month
    from checks
    where cond_rule_in_force and cond_listing_window and cond_hardship
)

select * from final
