"""The eligibility engine: run every policy folder for a month and write the decisions.

``decide_month`` evaluates each ``policies/<code>/rule.sql`` against the run's ``lnk_<source>``
views (as of the last day of the month), applies the shared exclusions of policies.md in one
place, and replaces that month's rows of ``eligibility``, ``eligibility_months`` and
``exclusions`` in a single transaction.  Money stays DECIMAL end to end.

Rule contract — ``select * from final`` returns, per candidate (one-off/annual) or per
candidate contribution month (recurring):
  beneficiary_type, beneficiary_id, beneficiary_name, person_id_number, person_name,
  subsidy_month DATE (recurring, else NULL), amount DECIMAL(12,2) (before the ratio),
  ratio_num, ratio_den BIGINT, period_start, period_end DATE (annual), region_code, phone,
  match_rank INT (4 exact .. 1 fuzzy), match_score DOUBLE, evidence VARCHAR,
  evidence_month DATE (latest extract_month among the records behind it).
Each rule also has a ``checks`` CTE (one row per candidate, ``cond_*`` booleans) used by explain.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from pathlib import Path

import opencc

from policies.params import (POLICIES_DIR, create_parameter_table, load_policy, parameter_periods, parameters_on,
                             policy_codes)
from zhibu.warehouse import python_rows

log = logging.getLogger(__name__)

KINDS = ("one_off", "recurring", "annual")

ELIGIBILITY_DDL = """
create table if not exists eligibility (
    run_month VARCHAR, policy_code VARCHAR, beneficiary_type VARCHAR, beneficiary_id VARCHAR,
    beneficiary_name VARCHAR, person_id_number VARCHAR, person_name VARCHAR,
    amount DECIMAL(12,2), period_start VARCHAR, period_end VARCHAR, region_code VARCHAR,
    league_code VARCHAR, match_method VARCHAR, match_score DOUBLE, evidence VARCHAR, phone VARCHAR);
create table if not exists eligibility_months (
    run_month VARCHAR, policy_code VARCHAR, beneficiary_id VARCHAR, person_id_number VARCHAR,
    subsidy_month DATE, amount DECIMAL(12,2), payable_amount DECIMAL(12,2), listed_before DECIMAL(12,2));
-- a warehouse from before top-ups: its months keep NULL amounts (counted as listed in full)
alter table eligibility_months add column if not exists payable_amount DECIMAL(12,2);
alter table eligibility_months add column if not exists listed_before DECIMAL(12,2);
create table if not exists exclusions (
    run_month VARCHAR, policy_code VARCHAR, beneficiary_id VARCHAR, person_id_number VARCHAR,
    reason VARCHAR, detail VARCHAR);
"""

CANDIDATE_COLUMNS = """
    beneficiary_type, beneficiary_id, beneficiary_name, person_id_number, person_name,
    subsidy_month, amount, ratio_num, ratio_den, period_start, period_end, region_code, phone,
    match_rank, match_score, evidence, evidence_month"""

# Shared exclusions of policies.md, first match wins (the output says which one struck).
VERDICTS_SQL = """
create or replace temp table candidate_verdicts as
with
candidates as (
    select * from decision_candidates
),
fiscal_staff as (
    select id_number, min(work_unit) as work_unit
    from lnk_fiscal_staff where id_number is not null group by all
),
deaths as (
    select id_number, min(death_date) as death_date
    from lnk_deceased where id_number is not null group by all
),
ledger_grants as (
    select application_id, policy_code, applicant_id, beneficiary_id_number, subsidy_month,
           apply_date, status
    from lnk_subsidy_ledger
    where coalesce(status, '') not in ('不予受理', '审核不通过')
),
earlier_listings as (
    select run_month, policy_code, beneficiary_id, person_id_number, period_start
    from listed_eligibility where run_month < $run_month_text
),
-- per recurring month: the run that first listed it and what earlier runs listed for it in all
-- (before the ratio), so a month that became payable for more is topped up (补差) by the
-- difference, and one that fell is seen (已列入金额高于应补金额, never a negative row)
earlier_listed_months as (
    select policy_code, beneficiary_id, person_id_number, subsidy_month,
           min(run_month) as first_listed_in,
           sum(greatest(payable_amount - coalesce(listed_before, 0), 0)) as listed_before,
           -- listed before payable_amount was recorded: counts as listed in full, never topped up
           bool_or(payable_amount is null) as listed_amount_unknown,
           arg_max(payable_amount, run_month) as last_recorded_payable
    from listed_eligibility_months where run_month < $run_month_text
    group by all
),
with_facts as (
    select c.*,
        f.work_unit as fiscal_work_unit,
        d.death_date,
        (select min(l.application_id || ' ' || coalesce(l.status, ''))
         from ledger_grants l
         where l.policy_code = c.policy_code
           and case c.kind
                 when 'one_off' then l.beneficiary_id_number = c.person_id_number
                 when 'recurring' then l.beneficiary_id_number = c.person_id_number
                                   and l.subsidy_month = c.subsidy_month
                                   and (c.beneficiary_type = 'person' or l.applicant_id = c.beneficiary_id)
                 when 'annual' then l.applicant_id = c.beneficiary_id
                                and coalesce(year(l.subsidy_month), year(l.apply_date) - 1) = year(c.period_start)
               end) as ledger_grant,
        coalesce(m.listed_before, 0) as listed_before,
        coalesce(m.listed_amount_unknown, false) as listed_amount_unknown,
        m.last_recorded_payable,
        case c.kind
          when 'recurring' then m.first_listed_in
          when 'one_off' then
            (select min(e.run_month) from earlier_listings e
             where e.policy_code = c.policy_code and e.person_id_number = c.person_id_number)
          when 'annual' then
            (select min(e.run_month) from earlier_listings e
             where e.policy_code = c.policy_code and e.beneficiary_id = c.beneficiary_id
               and e.period_start = strftime(c.period_start, '%Y-%m'))
        end as listed_in,
        -- the very same decision (same beneficiary) was listed before: not news
        exists (select 1 from earlier_listings e
                where e.policy_code = c.policy_code and e.beneficiary_id = c.beneficiary_id
                  and e.person_id_number is not distinct from c.person_id_number) as same_decision_listed
    from candidates c
    left join fiscal_staff f on f.id_number = c.person_id_number
    left join deaths d on d.id_number = c.person_id_number
    left join earlier_listed_months m
      on c.kind = 'recurring' and m.policy_code = c.policy_code and m.beneficiary_id = c.beneficiary_id
     and m.person_id_number is not distinct from c.person_id_number and m.subsidy_month = c.subsidy_month
),
-- a recurring month with nothing payable is a candidate only to show a listing that has fallen
with_amounts as (
    select *,
        kind = 'recurring' and listed_in is not null and not listed_amount_unknown
            and amount > listed_before as is_top_up,
        kind = 'recurring' and listed_in is not null and not listed_amount_unknown
            and amount < listed_before as is_listed_above_payable
    from with_facts
    where not (kind = 'recurring' and amount <= 0 and listed_in is null)
),
verdicts as (
    select *,
        case
          when fiscal_work_unit is not null then 'fiscal_staff'
          when death_date is not null
               and ((kind <> 'recurring' and death_date <= $as_of)
                    or (kind = 'recurring' and subsidy_month > date_trunc('month', death_date)))
               then 'deceased'
          when ledger_grant is not null then 'ledger_granted'
          when listed_in is not null and not is_top_up then 'listed_earlier'
        end as reason
    from with_amounts
),
final as (
    select *,
        case reason
          when 'fiscal_staff' then '财政供养人员：' || fiscal_work_unit
          when 'deceased' then '死亡日期' || strftime(death_date, '%Y-%m-%d')
          when 'ledger_granted' then '台账已有：' || ledger_grant
          when 'listed_earlier' then '已于' || listed_in || '列入名单'
        end as detail
    from verdicts
)
select * from final
"""

# One row per decision that is new in this run; recurring months folded per firm × person.
DECISIONS_SQL = """
create or replace temp table run_decisions as
with
listed as (
    select * from candidate_verdicts where reason is null
),
one_off_and_annual as (
    select policy_code, beneficiary_type, beneficiary_id, beneficiary_name, person_id_number,
           person_name, ratio_half_up(amount, ratio_num, ratio_den) as amount,
           strftime(period_start, '%Y-%m') as period_start, strftime(period_end, '%Y-%m') as period_end,
           region_code, phone, match_rank, match_score, evidence
    from listed where kind <> 'recurring'
),
-- what is owed for each month: all of it, or on a top-up the rise over what was listed (补差)
recurring_owed as (
    select *, amount - listed_before as owed,
           case when is_top_up
                then ym(subsidy_month) || '(' || listed_in || '首次列入; 已列入' || listed_before
                     || '元, 现应补' || amount || '元)' end as top_up_note
    from listed where kind = 'recurring'
),
recurring_folded as (
    select policy_code, beneficiary_type, beneficiary_id,
           arg_min(beneficiary_name, subsidy_month) as beneficiary_name,
           person_id_number,
           arg_min(person_name, subsidy_month) as person_name,
           ratio_half_up(sum(owed), any_value(ratio_num), any_value(ratio_den)) as amount,
           strftime(min(subsidy_month), '%Y-%m') as period_start,
           strftime(max(subsidy_month), '%Y-%m') as period_end,
           arg_min(region_code, subsidy_month) as region_code,
           arg_min(phone, subsidy_month) as phone,
           min(match_rank) as match_rank, min(match_score) as match_score,
           arg_min(evidence, subsidy_month) || '; 本次补贴' || count(*) || '个月('
               || strftime(min(subsidy_month), '%Y-%m') || '..' || strftime(max(subsidy_month), '%Y-%m')
               || ') 合计基数' || sum(owed) || '元'
               || coalesce('; 补差' || string_agg(top_up_note, '、' order by subsidy_month), '') as evidence
    from recurring_owed
    group by policy_code, beneficiary_type, beneficiary_id, person_id_number
)
select * from one_off_and_annual
union all
select * from recurring_folded
"""

PERSON_NAMES_SQL = """
create or replace temp table published_person_facts as
with
persons as (
    select distinct person_id_number as id_number from run_decisions where person_id_number is not null
    union
    select distinct beneficiary_id from run_decisions where beneficiary_type = 'person'
),
named as (
    select id_number, name, phone, 1 as priority, extract_month from lnk_graduates semi join persons using (id_number)
    union all
    select id_number, name, phone, 2, extract_month from lnk_employment_registration semi join persons using (id_number)
    union all
    select id_number, name, null, 3, extract_month from lnk_hiring_filing semi join persons using (id_number)
    union all
    select id_number, name, phone, 4, extract_month from lnk_poverty_alleviation semi join persons using (id_number)
),
best_name as (
    select id_number, name from named where name is not null
    qualify row_number() over (partition by id_number order by priority, extract_month desc, name) = 1
),
best_phone as (
    select id_number, phone from named where phone is not null
    qualify row_number() over (partition by id_number order by extract_month desc, priority, phone) = 1
)
select p.id_number, n.name, ph.phone
from persons p left join best_name n using (id_number) left join best_phone ph using (id_number)
"""


# Which bureau receives each decision (outputs.md, routing): the 盟市 of its region_code when that
# is an Inner Mongolia code; else (a job-search student whose 生源地 is elsewhere or blank) the
# 盟市 of the person's school when that is in Inner Mongolia; else the regional department
# 150000. No decision is left without a bureau. `route` says which applied (counted in the stats).
ROUTING_SQL = """
create or replace temp table decision_leagues as
with
decisions as (
    select distinct policy_code, beneficiary_id, person_id_number, region_code from run_decisions
),
schools as (
    select id_number, arg_max(school_region_code, extract_month) as school_region_code
    from (select id_number, extract_month, {school_region_code} as school_region_code from lnk_graduates)
    where id_number is not null and school_region_code is not null
    group by all
),
routed as (
    select d.*, s.school_region_code,
           case when regexp_full_match(coalesce(d.region_code, ''), '15[0-9]{{4}}') then 'home'
                when regexp_full_match(coalesce(s.school_region_code, ''), '15[0-9]{{4}}') then 'school'
                else 'region' end as route
    from decisions d
    left join schools s on s.id_number = d.person_id_number
)
select policy_code, beneficiary_id, person_id_number, route,
       case route when 'home' then substr(region_code, 1, 4) || '00'
                  when 'school' then substr(school_region_code, 1, 4) || '00'
                  else '150000' end as league_code
from routed
"""


PUBLISHED_RUNS_DDL = """
create table if not exists published_runs (run_month VARCHAR PRIMARY KEY, manifest_sha256 VARCHAR)"""


def create_listing_views(con) -> None:
    """`listed_*`: the decisions that count as listed, i.e. of months whose folder was published.

    A run that failed after decide left its rows in `eligibility`, but nobody received them, so
    the next run must list them again (policies.md, "Listed by an earlier run"). A partition
    worker receives `published_runs` with its history (zhibu/partitions.py).
    """
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where not temporary").fetchall()}
    if "published_runs" not in tables:
        con.execute(PUBLISHED_RUNS_DDL)
        if "eligibility" in tables:
            # A warehouse from before this table: every month it decided was published by then.
            con.execute("insert into published_runs select distinct run_month, null from eligibility")
    con.execute("create or replace temp view listed_runs as select run_month from published_runs")
    for view, table in (("listed_eligibility", "eligibility"), ("listed_eligibility_months", "eligibility_months")):
        con.execute(f"create or replace temp view {view} as select * from {table} "
                    f"where run_month in (select run_month from published_runs)")


def mark_published(con, month: str, manifest_sha256: str | None) -> None:
    """Record that `month`'s folder is published: from now on its decisions count as listed."""
    con.execute(PUBLISHED_RUNS_DDL)
    con.execute("insert or replace into published_runs values (?, ?)", [month, manifest_sha256])


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'YYYY-MM' -> (first day, last day = the run's as-of date)."""
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


def rule_sql(code: str) -> str:
    return (POLICIES_DIR / code / "rule.sql").read_text(encoding="utf-8")


def named_values(sql: str, values: dict) -> dict:
    """Only the ``$name`` values the statement uses (DuckDB rejects unused named parameters)."""
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return {k: v for k, v in values.items() if k in used}


OPTIONAL_INPUTS = {
    # deceased is an optional source: switched off, nobody is known to have died
    "lnk_deceased": "select null::varchar as id_number, null::varchar as name, null::date as death_date, "
                    "null::date as extract_month, null::varchar as id_number_raw, "
                    "null::varchar as id_number_method, null::double as id_number_score where false",
}


# the sources whose earliest extract month is the data horizon (shared.sql)
HORIZON_SOURCES = ("social_insurance", "hiring_filing", "employment_registration",
                   "business_registration", "graduates")


def prepare(con) -> None:
    """Create the shared macros/views of policies.md and the output tables (idempotent)."""
    existing = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    for name, empty in OPTIONAL_INPUTS.items():
        if name not in existing:
            log.warning("%s missing: treated as empty", name)
            con.execute(f"create or replace temp view {name} as {empty}")
    con.execute(ELIGIBILITY_DDL)
    create_listing_views(con)       # shared.sql's subsidy window reads the published listings
    # shared.sql's data horizon needs only the extract months of the run's rows. lnk_<source> adds
    # link lookups to every row with a code to repair (~2.5M contribution rows at S=0.1, month
    # 24: 2.5-3 s per rule that reads the horizon); asof_<source> holds the same rows without
    # them. Partitioned runs and the policy cases have only lnk_<source>.
    reads = [f"select min(extract_month) as first_extract from "
             f"{'asof' if f'asof_{s}' in existing else 'lnk'}_{s}" for s in HORIZON_SOURCES]
    con.execute("create or replace temp view extract_month_floors as " + " union all ".join(reads))
    con.execute((POLICIES_DIR / "shared.sql").read_text(encoding="utf-8"))


def policy_runs_in(code: str, as_of: dt.date) -> bool:
    """Annual policies settle only in their settlement month (a parameter)."""
    meta = load_policy(code)["meta"]
    gate = meta.get("runs_only_in_month_parameter")
    if not gate:
        return True
    return parameters_on(code, as_of).get(gate) == as_of.month


def _add_months(day: dt.date, months: int) -> dt.date:
    """day + months, the day clamped to the month's end (as DuckDB's date + to_months(n))."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def listing_closed(code: str, as_of: dt.date) -> bool:
    """A policy whose claims have closed for every hire it could ever pay lists nobody: the
    engine does not evaluate it (`zhibu explain` still does, and says cond_claims_open). Meta
    `closes`: {date: <parameter>, months: <parameter>}; closed when the as-of date is after the
    latest date + months over every parameter period in which the rule is in force (amount set)."""
    closes = load_policy(code)["meta"].get("closes")
    if not closes:
        return False
    ends = [_add_months(p[closes["date"]], int(p[closes["months"]]))
            for p in parameter_periods(code)
            if p.get("amount") is not None and p.get(closes["date"]) is not None
            and p.get(closes["months"]) is not None]
    return bool(ends) and as_of > max(ends)


def run_rule(con, code: str, month: str, target: str, body: str | None = None,
             extra: dict | None = None) -> None:
    """Evaluate one rule into temp table ``target`` (parameters as table + named values)."""
    run_month, as_of = month_bounds(month)
    create_parameter_table(con, code)
    sql = body if body is not None else rule_sql(code)
    values = {"run_month": run_month, "as_of": as_of, "run_month_text": month, **(extra or {})}
    con.execute(f"create or replace temp table {target} as\n{sql}", named_values(sql, values))


def decide_month(con, month: str, only: list[str] | tuple[str, ...] | None = None) -> dict:
    """Decide every policy for run month ``month`` ('YYYY-MM'); returns {policy_code: rows listed}
    plus ``without_home_league``: {to_school_league, to_region} rows routed by outputs.md's rule
    for rows with no Inner Mongolia league (a dict, not a policy count).

    Replaces the month's rows of eligibility / eligibility_months / exclusions of the policies
    it evaluates, atomically, so a re-run of an old month reproduces it (earlier runs =
    run_month < month only). ``only`` restricts the run to some policies (the partitioned flow
    decides person-level policies per partition and firm-level ones after the reduce).
    """
    run_month, as_of = month_bounds(month)
    prepare(con)
    codes = [c for c in policy_codes() if only is None or c in only]
    unknown = set(only or ()) - set(policy_codes())
    if unknown:
        raise ValueError(f"unknown policies: {sorted(unknown)}")
    con.execute(f"create or replace temp table decision_candidates as "
                f"select ''::varchar as policy_code, ''::varchar as kind, * from ({_empty_candidates()}) where false")
    for code in codes:
        meta = load_policy(code)["meta"]
        if meta["kind"] not in KINDS:
            raise ValueError(f"{code}: unknown kind {meta['kind']!r}")
        if not policy_runs_in(code, as_of):
            log.info("%s: not its settlement month, skipped", code)
            continue
        if listing_closed(code, as_of):
            log.info("%s: claims closed for every hire it could pay, skipped", code)
            continue
        run_rule(con, code, month, f"candidates_{code}")
        con.execute(f"insert into decision_candidates select '{code}', '{meta['kind']}', {CANDIDATE_COLUMNS} "
                    f"from candidates_{code}")

    values = {"run_month": run_month, "as_of": as_of, "run_month_text": month}
    con.execute(VERDICTS_SQL, named_values(VERDICTS_SQL, values))
    con.execute(DECISIONS_SQL)
    con.execute(PERSON_NAMES_SQL)
    # 院校所在地 is optional in the graduates contract (an older linked view may lack the column)
    graduate_columns = {d[0] for d in con.execute("select * from lnk_graduates limit 0").description}
    con.execute(ROUTING_SQL.format(school_region_code="school_region_code" if "school_region_code"
                                   in graduate_columns else "null::varchar"))

    con.execute("""
        create or replace temp table run_listing as
        select d.policy_code, d.beneficiary_type, d.beneficiary_id,
               case when d.beneficiary_type = 'person' then coalesce(p.name, d.beneficiary_name)
                    else d.beneficiary_name end as beneficiary_name,
               d.person_id_number, coalesce(pp.name, d.person_name) as person_name,
               d.amount, d.period_start, d.period_end, d.region_code,
               r.league_code,
               method_name(d.match_rank) as match_method, d.match_score, d.evidence,
               -- a firm's notice goes to the firm's phone, never to its worker's
               case when d.beneficiary_type = 'person' then coalesce(p.phone, d.phone)
                    else d.phone end as phone
        from run_decisions d
        left join published_person_facts p on d.beneficiary_type = 'person' and p.id_number = d.beneficiary_id
        left join published_person_facts pp on pp.id_number = d.person_id_number
        left join decision_leagues r
          on r.policy_code = d.policy_code and r.beneficiary_id = d.beneficiary_id
         and r.person_id_number is not distinct from d.person_id_number
        order by d.policy_code, d.beneficiary_id, d.person_id_number
    """)
    # Names are written in simplified characters (opencc), converted once per distinct name: the
    # rows themselves are inserted set-wise (an annual refund lists ~41k firms at S=0.1; row by
    # row that insert took 39 s).
    t2s = opencc.OpenCC("t2s")
    names = [n for (n,) in con.execute("""select distinct n from (select beneficiary_name as n from run_listing
                                          union all select person_name from run_listing) where n is not null""").fetchall()]
    con.execute("create or replace temp table run_listing_t2s (name varchar, simplified varchar)")
    changed = [(n, t2s.convert(n)) for n in names]
    changed = [c for c in changed if c[0] != c[1]]
    if changed:
        with python_rows(con, "_t2s_frame", ["name", "simplified"], changed):
            con.execute("insert into run_listing_t2s select * from _t2s_frame")

    con.execute("begin transaction")
    try:
        for table in ("eligibility", "eligibility_months", "exclusions"):
            con.execute(f"delete from {table} where run_month = ? and list_contains(?, policy_code)",
                        [month, codes])
        con.execute("""
            insert into eligibility
            select ?, l.policy_code, l.beneficiary_type, l.beneficiary_id,
                   coalesce(b.simplified, l.beneficiary_name), l.person_id_number,
                   coalesce(p.simplified, l.person_name), l.amount, l.period_start, l.period_end,
                   l.region_code, l.league_code, l.match_method, l.match_score, l.evidence, l.phone
            from run_listing l
            left join run_listing_t2s b on b.name = l.beneficiary_name
            left join run_listing_t2s p on p.name = l.person_name
            order by l.policy_code, l.beneficiary_id, l.person_id_number""", [month])
        # Per month: what this run lists (after the ratio), what is payable now and what earlier
        # runs listed (before it). A month listed above what is now payable gets a row listing
        # 0.00 when that is news, for the 核查 finding 已列入金额高于应补金额 (zhibu/verification).
        con.execute("""
            insert into eligibility_months
                (run_month, policy_code, beneficiary_id, person_id_number, subsidy_month,
                 amount, payable_amount, listed_before)
            select ?, policy_code, beneficiary_id, person_id_number, subsidy_month,
                   case when reason is null
                        then ratio_half_up(amount - listed_before, ratio_num, ratio_den)
                        else 0.00 end,
                   greatest(amount, 0), listed_before
            from candidate_verdicts
            where kind = 'recurring'
              and (reason is null
                   or (reason = 'listed_earlier' and is_listed_above_payable
                       and last_recorded_payable is distinct from greatest(amount, 0)))
            order by policy_code, beneficiary_id, person_id_number, subsidy_month
        """, [month])
        # Each struck candidate is reported once, not every month: in the run in which its
        # evidence completed (its latest record arrived), or else in the first run that
        # strikes it for that reason. "listed_earlier" is only news when new evidence arrives
        # for a month already listed (recurring: e.g. a re-credited month) or when another
        # beneficiary now qualifies for a person already listed (one-off); the same decision
        # seen again is not reported.
        con.execute("""
            insert into exclusions
            select ?, policy_code, beneficiary_id, person_id_number, reason,
                   min(detail) || case when kind = 'recurring'
                                       then '；补贴月份' || string_agg(distinct strftime(subsidy_month, '%Y-%m'), ',' order by strftime(subsidy_month, '%Y-%m'))
                                       else '' end
            from candidate_verdicts v
            where reason is not null
              and not (reason = 'listed_earlier' and kind <> 'recurring' and same_decision_listed)
              and (evidence_month = ?
                   or (reason <> 'listed_earlier'
                       and not exists (
                           select 1 from exclusions x
                           where x.run_month < ? and x.run_month in (select run_month from listed_runs) and x.policy_code = v.policy_code and x.reason = v.reason
                             and x.beneficiary_id is not distinct from v.beneficiary_id
                             and x.person_id_number is not distinct from v.person_id_number)))
            group by policy_code, kind, beneficiary_id, person_id_number, reason
            order by policy_code, beneficiary_id, person_id_number, reason
        """, [month, run_month, month])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise

    counts: dict = {code: 0 for code in codes}
    counts.update(con.execute("select policy_code, count(*) from run_listing group by all").fetchall())
    routed = dict(con.execute(
        "select route, count(*) from decision_leagues where route <> 'home' group by all").fetchall())
    # not a policy: a dict, so callers that sum the int counts per policy skip it
    counts["without_home_league"] = {"to_school_league": routed.get("school", 0),
                                     "to_region": routed.get("region", 0)}
    log.info("decided %s: %s", month, counts)
    return counts


def _empty_candidates() -> str:
    return """select null::varchar as beneficiary_type, null::varchar as beneficiary_id,
        null::varchar as beneficiary_name, null::varchar as person_id_number, null::varchar as person_name,
        null::date as subsidy_month, null::decimal(12,2) as amount, null::bigint as ratio_num,
        null::bigint as ratio_den, null::date as period_start, null::date as period_end,
        null::varchar as region_code, null::varchar as phone, null::integer as match_rank,
        null::double as match_score, null::varchar as evidence, null::date as evidence_month"""
