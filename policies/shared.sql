-- Shared definitions of policies.md ("Shared definitions"), created by the engine as temp
-- macros and views over the lnk_<source> views of the run, before any rule runs.
-- Every rule reads these instead of re-deriving them, so a definition lives in one place.

-- ── identity facts from the citizen ID (GB 11643) ─────────────────────────────────────────
create or replace temp macro id_birth_date(id) as
    try_strptime(substr(id, 7, 8), '%Y%m%d')::date;

create or replace temp macro id_is_male(id) as
    try_cast(substr(id, 17, 1) as integer) % 2 = 1;

-- full years of age on day d
create or replace temp macro age_on(id, d) as
    year(d) - year(id_birth_date(id))
    - case when strftime(d, '%m%d') < strftime(id_birth_date(id), '%m%d') then 1 else 0 end;

create or replace temp macro month_of(d) as date_trunc('month', d)::date;

create or replace temp macro ym(d) as strftime(d, '%Y-%m');

-- ── linkage quality: the weakest link wins ────────────────────────────────────────────────
create or replace temp macro method_rank(m) as
    case m when 'exact' then 4 when 'reviewed' then 3 when 'id_repaired' then 2 when 'fuzzy' then 1 end;

create or replace temp macro method_name(r) as
    case r when 4 then 'exact' when 3 then 'reviewed' when 2 then 'id_repaired' when 1 then 'fuzzy' end;

-- ── exact money: apply num/den to an amount and round half-up to the fen, no float ─────────
create or replace temp macro ratio_half_up(amount, num, den) as
    cast(
        ((cast(amount * 100 as hugeint) * num * 2 + den) // (2 * den))::decimal(18, 0) * 0.01
        as decimal(12, 2));

-- ── graduates ─────────────────────────────────────────────────────────────────────────────
-- "within 2 years of leaving school at d": graduation_date <= d < graduation_date + 2 years
create or replace temp macro graduate_within(graduation_date, d, years) as
    graduation_date <= d and d < graduation_date + to_years(years);

-- "graduating-year graduate at d": year(graduation_date) = year(d)
create or replace temp macro graduating_year(graduation_date, d) as
    year(graduation_date) = year(d);

-- ── firms ─────────────────────────────────────────────────────────────────────────────────
-- "Firm in good standing at d": a registered 企业 (never a public institution, USCC '1…'),
-- 存续/在业 or closed only after d, not seriously dishonest. The flag is the version seen as
-- of the run (the extract carries no history of it), so it applies to both judged dates.
create or replace temp macro firm_in_good_standing(uscc, entity_type, status, status_date, serious_dishonest, d) as
    uscc is not null
    and not starts_with(uscc, '1')
    and entity_type = '企业'
    and coalesce(serious_dishonest, false) = false
    and (status in ('存续', '在业')
         or (status in ('吊销', '注销', '迁出') and status_date > d));

create or replace temp view firm_register as
select uscc, name, entity_type, enterprise_scale, legal_rep_id_number, legal_rep_name,
       established_date, status, status_date, serious_dishonest, phone, region_code,
       uscc_method, uscc_score, legal_rep_id_number_method, legal_rep_id_number_score, extract_month
from lnk_business_registration
where uscc is not null;

-- ── registered unemployment ────────────────────────────────────────────────────────────────
-- One spell per 失业登记: registered unemployed on [registered_on, spell_until), where
-- spell_until is the first 失业登记注销/就业登记 on or after registered_on, or the next (later)
-- 失业登记, which starts a spell of its own. An ending event on the same day ends it at once.
create or replace temp view unemployment_spells as
with registrations as (
    select id_number, registration_type, registration_date, hardship_category, region_code,
           phone, id_number_method, id_number_score, extract_month
    from lnk_employment_registration
    where id_number is not null
),
spell_starts as (
    select id_number, registration_date as registered_on,
           max(hardship_category) as hardship_category,
           max(region_code) as region_code,
           min(method_rank(id_number_method)) as method_rank,
           min(id_number_score) as match_score,
           max(extract_month) as extract_month
    from registrations
    where registration_type = '失业登记'
    group by all
),
spell_ends as (
    select s.id_number, s.registered_on,
           min(r.registration_date) filter (where r.registration_type in ('失业登记注销', '就业登记')
                                            and r.registration_date >= s.registered_on) as ended_on,
           min(r.registration_date) filter (where r.registration_type = '失业登记'
                                            and r.registration_date > s.registered_on) as next_registered_on
    from spell_starts s
    join registrations r using (id_number)
    group by all
)
select s.*, e.ended_on,
       coalesce(least(e.ended_on, e.next_registered_on), date '9999-12-31') as spell_until
from spell_starts s
join spell_ends e using (id_number, registered_on);

-- "Status at an event" (registered unemployed / 就业困难人员 at contract_start, established_date
-- or a 就业登记) is judged on the day before the event: the 就业登记 recording the hire or the new
-- business is the trace of the event itself and must not end the status it is judged on.
-- Registered on d−1 ⇔ registered_on ≤ d−1 < spell_until ⇔ registered_on < d ≤ spell_until,
-- so a 就业登记 on d keeps the status and one on d−1 (or earlier) ends it.
create or replace temp macro unemployed_on_day_before(registered_on, spell_until, event_date) as
    registered_on < event_date and event_date <= spell_until;

-- ── contributions at the hiring firm: every 单位职工 social-insurance row of a person a 用工备案
-- filing names, paid by the firm that filed it (any filing) ──────────────────────────────────
-- one_time_hiring and hiring_social_insurance pay for hires out of these rows. A view, not a
-- table: each rule joins it with its few eligible hires, so a rule that is not evaluated (claims
-- closed) costs nothing, and none writes ~half of all contributions as of the run (~15M rows at
-- S=0.1 after 24 months: 10 s a month) into a temp table. Only the columns those rules read.
create or replace temp view hired_contributions as
select s.employer_uscc, s.id_number, s.insured_type, s.insurance_type, s.contribution_month,
       s.employer_amount, s.credited_date, s.extract_month,
       s.id_number_method, s.id_number_score, s.employer_uscc_method, s.employer_uscc_score
from (select distinct id_number, employer_uscc from lnk_hiring_filing
      where id_number is not null and employer_uscc is not null) h
join lnk_social_insurance s on s.id_number = h.id_number and s.employer_uscc = h.employer_uscc
where s.insured_type = '单位职工';


-- ── the subsidy window of a recurring policy (policies.md, "Subsidy window") ───────────────
-- The data horizon: the first month the warehouse loaded (the earliest extract the run sees).
-- Contributions before it were never seen, so a hire (or 就业登记) older than the horizon has its
-- window counted from its own month, as if the unseen months had been paid.
-- extract_month_floors (engine.prepare): the earliest extract month of each source the horizon
-- counts (contributions, 用工备案, 就业/失业登记, business registrations, graduates).
create or replace temp view data_horizon as
select min(first_extract) as horizon_month from extract_month_floors;

-- subsidy_window_of(payable_months, policy, run_month): every row of `payable_months` with the
-- person's window (window_start, window_end) and whether the month lies in it (in_window).
-- `payable_months` (a CTE of the rule) has one row per hire × contribution month:
--   id_number, window_anchor_month (month of contract_start / of the 就业登记: the first month
--   that can be paid), window_months, retirement_month + near_retirement_months (a window that
--   starts within that many months of retirement runs until it; NULL = never), contribution_month,
--   payable_amount (≤ 0 = not payable, e.g. a reversed month: kept so a fallen listing is seen).
-- The window starts at the person's first subsidised month under the policy (ledger, or a
-- published earlier run's listing), else at the first payable month; a hire older than the data
-- horizon counts as payable from its anchor month (the window is shortened, never shifted).
create or replace temp macro subsidy_window_of(payable_months, for_policy, before_run_month) as table
with
months as (
    select * from query_table(payable_months)
),
granted_in_ledger as (
    select beneficiary_id_number as id_number, subsidy_month
    from lnk_subsidy_ledger
    where policy_code = for_policy
      and coalesce(status, '') not in ('不予受理', '审核不通过')
      and beneficiary_id_number is not null and subsidy_month is not null
),
listed_by_earlier_runs as (
    select person_id_number as id_number, subsidy_month
    from listed_eligibility_months
    where policy_code = for_policy and run_month < before_run_month
),
first_subsidised_month as (
    select id_number, min(subsidy_month) as first_month
    from (select * from granted_in_ledger union all select * from listed_by_earlier_runs)
    group by all
),
first_payable_month as (
    select m.id_number,
           min(case when m.window_anchor_month < h.horizon_month then m.window_anchor_month
                    else m.contribution_month end) as first_month
    from months m cross join data_horizon h
    where m.payable_amount > 0
    group by all
),
window_starts as (
    select distinct m.id_number, coalesce(s.first_month, f.first_month) as window_start
    from months m
    left join first_subsidised_month s using (id_number)
    left join first_payable_month f using (id_number)
)
select m.*, w.window_start,
       case when m.retirement_month is not null
                 and date_diff('month', w.window_start, m.retirement_month) <= m.near_retirement_months
            then m.retirement_month
            else (w.window_start + to_months(m.window_months - 1))::date
       end as window_end,
       coalesce(m.contribution_month between w.window_start and window_end, false) as in_window
from months m
join window_starts w using (id_number);
