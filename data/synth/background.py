"""Set-based background rows for every source and month (DuckDB SQL over the persons,
entities and employees tables). Each function returns a SELECT of typed canonical columns
plus ``pk`` (unique row key within the file), ``planted`` (false) and ``force`` (NULL)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .population import sql_list

# social-insurance rates: insurance_type -> (employer rate, individual rate)
EMPLOYEE_RATES = {"110": ("0.16", "0.08"), "210": ("0.005", "0.005"), "310": ("0.08", "0.02"),
                  "410": ("0.005", "0")}
FLEX_RATES = {"110": "0.20", "310": "0.07"}

SCHOOLS = ["内蒙古大学", "内蒙古工业大学", "内蒙古农业大学", "内蒙古师范大学", "内蒙古科技大学",
           "内蒙古医科大学", "内蒙古财经大学", "包头师范学院", "赤峰学院", "呼伦贝尔学院", "集宁师范学院",
           "内蒙古民族大学", "河套学院", "内蒙古建筑职业技术学院", "包头职业技术学院", "呼和浩特职业学院"]
HARDSHIP_CATEGORIES = ["大龄失业人员", "残疾人", "零就业家庭成员", "低保家庭成员", "长期失业人员", "脱贫人口",
                       "其他就业困难人员"]
GRAD_HARDSHIP = ["低保家庭", "脱贫家庭", "防返贫监测对象", "特困人员", "残疾", "国家助学贷款"]
CHANNELS = ["直补快办", "线上申领", "窗口申领"]


@dataclass
class Ctx:
    seed: int
    months: list[dt.date]
    ranges: dict
    counts: dict

    def as_of(self, m: dt.date) -> dt.date:
        nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)


def build_employees(con, ctx: Ctx) -> None:
    s, e = ctx.ranges["employee"]
    fs, fe = ctx.ranges["flexible"]
    seed = ctx.seed
    w0 = ctx.months[0]
    span = (ctx.as_of(ctx.months[-1]) - w0).days + 1
    hire_frac = min(0.024 * len(ctx.months), 0.9)
    n_emp = con.execute("SELECT count(*) FROM employers").fetchone()[0]
    con.execute(f"""
    CREATE OR REPLACE TABLE employees AS
    WITH b AS (
      SELECT p.pidx, p.region_code,
        (hash(p.pidx, 'hf', {seed}) % 1000000) / 1000000.0 AS uh,
        (hash(p.pidx, 'em', {seed}) % 1000000) / 1000000.0 AS ue,
        (hash(p.pidx, 'lv', {seed}) % 1000000) / 1000000.0 AS ul
      FROM persons p WHERE p.pidx >= {s} AND p.pidx < {e}
    )
    SELECT b.pidx, r.uscc AS employer_uscc, r.name AS employer_name, r.region_code AS firm_region,
      (4000 + hash(b.pidx, 'base', {seed}) % 110 * 100)::DECIMAL(12,2) AS base,
      CASE WHEN uh < {hire_frac} THEN DATE '{w0}' + (hash(b.pidx, 'hd', {seed}) % {span})::INT
           ELSE DATE '{w0}' - (20 + hash(b.pidx, 'hd', {seed}) % 3000)::INT END AS hire_date,
      CASE WHEN ul < {0.01 * len(ctx.months)} THEN DATE '{w0}' + (hash(b.pidx, 'ld', {seed}) % {span})::INT END AS end_date0,
      CASE WHEN hash(b.pidx, 'lt', {seed}) % 3 = 0 THEN '终止' ELSE '解除' END AS end_type,
      hash(b.pidx, 'ct', {seed}) % 100 AS ct
    FROM b JOIN employers r ON r.k = least(floor({n_emp} * pow(b.ue, 3))::BIGINT, {n_emp - 1})
    """)
    con.execute("""CREATE OR REPLACE TABLE employees AS SELECT *,
       CASE WHEN end_date0 > hire_date + 31 THEN end_date0 END AS end_date FROM employees""")
    con.execute(f"""
    CREATE OR REPLACE TABLE flexibles AS SELECT pidx, region_code,
      (4000 + hash(pidx, 'base', {seed}) % 60 * 100)::DECIMAL(12,2) AS base
    FROM persons WHERE pidx >= {fs} AND pidx < {fe}""")


def _ym(m: dt.date) -> str:
    return m.isoformat()


def social_insurance(ctx: Ctx, mi: int, m: dt.date) -> str:
    seed = ctx.seed
    prev = ctx.months[mi - 1] if mi > 0 else None
    types = ", ".join(f"('{t}', {i}, {er}, {ir})" for i, (t, (er, ir)) in enumerate(EMPLOYEE_RATES.items()))
    ftypes = ", ".join(f"('{t}', {i}, {r})" for i, (t, r) in enumerate(FLEX_RATES.items()))
    late = f"hash(pidx, 'late', date_trunc('month', cm), {seed}) % 100 = 0"
    # contribution months credited in m: m itself (unless late) and late rows of the month before
    cms = f"[DATE '{_ym(m)}']" + (f" || [DATE '{_ym(prev)}']" if prev else "")
    return f"""
    WITH emp AS (
      SELECT e.*, p.name, p.id_number, cm FROM employees e JOIN persons p USING (pidx),
        unnest({cms}) u(cm)
      WHERE e.hire_date <= last_day(cm) AND (e.end_date IS NULL OR e.end_date >= cm)
    ), emp2 AS (
      SELECT * FROM emp WHERE (cm = DATE '{_ym(m)}' AND NOT ({late})) OR (cm < DATE '{_ym(m)}' AND {late})
    )
    SELECT pidx * 100 + t.i * 10 + (cm < DATE '{_ym(m)}')::INT AS pk, false AS planted, NULL::VARCHAR AS force,
      id_number, name, employer_uscc, '单位职工' AS insured_type, t.code AS insurance_type,
      cm AS contribution_month, base AS contribution_base,
      round(base * t.er, 2)::DECIMAL(12,2) AS employer_amount, round(base * t.ir, 2)::DECIMAL(12,2) AS individual_amount,
      DATE '{_ym(m)}' + (hash(employer_uscc, cm, {seed}) % 25)::INT AS credited_date, firm_region AS region_code
    FROM emp2, (VALUES {types}) t(code, i, er, ir)
    UNION ALL
    SELECT 5000000000000 + f.pidx * 100 + t.i * 10, false, NULL, p.id_number, p.name, NULL, '灵活就业人员', t.code,
      DATE '{_ym(m)}', f.base, 0::DECIMAL(12,2), round(f.base * t.r, 2)::DECIMAL(12,2),
      DATE '{_ym(m)}' + (hash(f.pidx, 'fc', {seed}) % 25)::INT, f.region_code
    FROM flexibles f JOIN persons p USING (pidx), (VALUES {ftypes}) t(code, i, r)
    """


def employment_registration(ctx: Ctx, mi: int, m: dt.date) -> str:
    seed = ctx.seed
    n = max(int(round(150_000 * ctx.counts["_scale"])), 10)
    s, e = ctx.ranges["registrant"]
    n_emp = ctx.counts["_n_employers"]
    return f"""
    WITH r AS (
      SELECT i AS pk, {s} + hash(i, 'rp', DATE '{_ym(m)}', {seed}) % {e - s} AS pidx,
        hash(i, 'rt', DATE '{_ym(m)}', {seed}) % 100 AS t, hash(i, 'rf', DATE '{_ym(m)}', {seed}) % 100 AS f,
        (hash(i, 'rh', DATE '{_ym(m)}', {seed}) % 1000000007)::BIGINT AS h
      FROM range({n}) t(i)
    )
    SELECT r.pk, false AS planted, NULL::VARCHAR AS force, p.id_number, p.name,
      CASE WHEN t < 45 THEN '失业登记' WHEN t < 80 THEN '就业登记' WHEN t < 90 THEN '失业登记注销' ELSE '就业登记注销' END AS registration_type,
      DATE '{_ym(m)}' + (h % 28)::INT AS registration_date,
      CASE WHEN t >= 45 AND t < 80 THEN CASE WHEN f < 60 THEN '单位就业' WHEN f < 85 THEN '灵活就业' WHEN f < 95 THEN '自主创业' ELSE '公益性岗位' END END AS employment_form,
      CASE WHEN t >= 45 AND t < 80 AND (f < 60 OR f >= 95) THEN em.uscc END AS employer_uscc,
      CASE WHEN t < 45 AND (h // 100) % 100 < 15 THEN {sql_list(HARDSHIP_CATEGORIES)}[1 + ((h // 10000) % {len(HARDSHIP_CATEGORIES)})::INT] END AS hardship_category,
      CASE WHEN (h // 1000000) % 100 < 85 THEN p.phone END AS phone,
      p.region_code
    FROM r JOIN persons p USING (pidx) LEFT JOIN employers em ON em.k = r.h % {n_emp}
    """


def hiring_filing(ctx: Ctx, mi: int, m: dt.date) -> str:
    seed = ctx.seed
    a = ctx.as_of(m)
    return f"""
    SELECT pidx * 10 AS pk, false AS planted, NULL::VARCHAR AS force, employer_uscc, employer_name, p.id_number, p.name,
      '招用' AS filing_type, hire_date AS contract_start,
      CASE WHEN ct < 20 THEN NULL WHEN ct < 25 THEN hire_date + 180
           ELSE (hire_date + INTERVAL (1 + ct % 3) YEAR - INTERVAL 1 DAY)::DATE END AS contract_end,
      CASE WHEN ct < 20 THEN '无固定期限' WHEN ct < 25 THEN '以完成一定工作任务为期限' ELSE '固定期限' END AS contract_term_type,
      least(hire_date + (hash(pidx, 'fd', {seed}) % 10)::INT, DATE '{a}') AS filing_date, firm_region AS region_code
    FROM employees JOIN persons p USING (pidx)
    WHERE hire_date BETWEEN DATE '{_ym(m)}' AND DATE '{a}'
    UNION ALL
    SELECT pidx * 10 + 1, false, NULL, employer_uscc, employer_name, p.id_number, p.name,
      end_type, NULL::DATE, NULL::DATE, NULL, end_date, firm_region
    FROM employees JOIN persons p USING (pidx)
    WHERE end_date BETWEEN DATE '{_ym(m)}' AND DATE '{a}'
    """


def business_registration(ctx: Ctx, mi: int, m: dt.date) -> str:
    a = ctx.as_of(m)
    first = mi == 0
    cond_new = (f"established_date <= DATE '{a}'" if first
                else f"established_date BETWEEN DATE '{_ym(m)}' AND DATE '{a}'")
    cols = """uscc, e.name, entity_type, enterprise_scale, p.id_number AS legal_rep_id_number, p.name AS legal_rep_name,
      established_date"""
    return f"""
    SELECT eidx * 10 AS pk, false AS planted, NULL::VARCHAR AS force, {cols},
      CASE WHEN status_date IS NOT NULL AND status_date <= DATE '{a}' THEN final_status
           WHEN final_status IN ('存续', '在业') THEN final_status ELSE '存续' END AS status,
      CASE WHEN status_date IS NOT NULL AND status_date <= DATE '{a}' THEN status_date END AS status_date,
      serious_dishonest, CASE WHEN hash(eidx, 'ph', {ctx.seed}) % 10 < 7 THEN e.phone END AS phone, e.region_code
    FROM entities e JOIN persons p ON p.pidx = e.legal_rep_pidx
    WHERE {cond_new}
    UNION ALL
    SELECT eidx * 10 + 1, false, NULL, {cols}, final_status, status_date, serious_dishonest,
      CASE WHEN hash(eidx, 'ph', {ctx.seed}) % 10 < 7 THEN e.phone END, e.region_code
    FROM entities e JOIN persons p ON p.pidx = e.legal_rep_pidx
    WHERE status_date BETWEEN DATE '{_ym(m)}' AND DATE '{a}' AND established_date < DATE '{_ym(m)}'
      {"AND false" if first else ""}
    """


def graduates(ctx: Ctx, mi: int, m: dt.date) -> str:
    seed = ctx.seed
    s, e = ctx.ranges["graduate"]
    y0 = ctx.months[0].year
    sel = "true" if mi == 0 else f"hash(pidx, 'gre', DATE '{_ym(m)}', {seed}) % 100 = 0 AND cohort < 3"
    return f"""
    SELECT pidx AS pk, false AS planted, NULL::VARCHAR AS force, id_number, name,
      {sql_list(SCHOOLS)}[1 + (hash(pidx, 'sc', {seed}) % {len(SCHOOLS)})::INT] AS school,
      CASE WHEN hash(pidx, 'dg', {seed}) % 100 < 40 THEN '专科' WHEN hash(pidx, 'dg', {seed}) % 100 < 90 THEN '本科'
           WHEN hash(pidx, 'dg', {seed}) % 100 < 98 THEN '硕士研究生' ELSE '博士研究生' END AS degree,
      make_date(({y0} - 3 + least(cohort, 3))::INT, 6, 20) + (hash(pidx, 'gd', {seed}) % 21)::INT AS graduation_date,
      -- hardship flags only on earlier cohorts: a flagged graduating-year student is a job_search case,
      -- and those are planted explicitly
      CASE WHEN cohort < 3 AND hash(pidx, 'gh', {seed}) % 100 < 10
           THEN {sql_list(GRAD_HARDSHIP)}[1 + (hash(pidx, 'gh1', {seed}) % 6)::INT]
                || CASE WHEN hash(pidx, 'gh2', {seed}) % 4 = 0 THEN ';' || {sql_list(GRAD_HARDSHIP)}[1 + (hash(pidx, 'gh3', {seed}) % 6)::INT] ELSE '' END
      END AS hardship_types,
      region_code, CASE WHEN hash(pidx, 'gp', {seed}) % 10 < 8 THEN phone END AS phone
    FROM persons WHERE pidx >= {s} AND pidx < {e} AND {sel}
    """


def poverty_alleviation(ctx: Ctx, mi: int, m: dt.date) -> str:
    seed = ctx.seed
    s, e = ctx.ranges["poverty"]
    return f"""
    SELECT pidx AS pk, false AS planted, NULL::VARCHAR AS force, id_number, name,
      region_code || lpad(hh::VARCHAR, 10, '0') AS household_id,
      CASE WHEN hash(hh, 'pt', {seed}) % 100 < 92 THEN '脱贫人口' ELSE '防返贫监测对象' END AS population_type,
      (date_diff('year', birth_date, DATE '{_ym(m)}') BETWEEN 16 AND 64) AS is_labor_force,
      CASE WHEN hash(pidx, 'pph', {seed}) % 10 < 6 THEN phone END AS phone, region_code
    FROM persons WHERE pidx >= {s} AND pidx < {e}
      AND NOT (hash(pidx, 'pex', {seed}) % 1000 < 5 AND {mi} >= 2)
    """


def fiscal_staff(ctx: Ctx, mi: int, m: dt.date) -> str:
    seed = ctx.seed
    s, e = ctx.ranges["fiscal"]
    cs, ce = ctx.ranges["clerk"]
    from .firms import SCHOOL_UNITS
    from .regions import LEAGUES
    return f"""
    SELECT pidx AS pk, false AS planted, NULL::VARCHAR AS force, id_number, name,
      ({sql_list(list(LEAGUES.values()))})[list_position({sql_list(list(LEAGUES))}, left(region_code, 4) || '00')]
        || CASE WHEN pidx >= {cs} THEN '人力资源和社会保障局' ELSE {sql_list(SCHOOL_UNITS)}[1 + (hash(pidx, 'wu', {seed}) % {len(SCHOOL_UNITS)})::INT] END AS work_unit,
      region_code
    FROM persons WHERE (pidx >= {s} AND pidx < {e}) OR (pidx >= {cs} AND pidx < {ce})
    """


def deceased(ctx: Ctx, mi: int, m: dt.date) -> str:
    s, e = ctx.ranges["deceased"]
    per = (e - s) // len(ctx.months)
    lo, hi = s + mi * per, s + (mi + 1) * per
    return f"""
    SELECT pidx AS pk, false AS planted, NULL::VARCHAR AS force, id_number, name,
      CASE WHEN hash(pidx, 'dd', {ctx.seed}) % 5 = 0 THEN DATE '{_ym(m)}' - (1 + hash(pidx, 'dd2', {ctx.seed}) % 20)::INT
           ELSE DATE '{_ym(m)}' + (hash(pidx, 'dd2', {ctx.seed}) % 27)::INT END AS death_date
    FROM persons WHERE pidx >= {lo} AND pidx < {hi}
    """


def subsidy_ledger(ctx: Ctx, mi: int, m: dt.date) -> str:
    """Clean background ledger: one-off 一次性扩岗补助 already paid for long-standing employees
    (linked to the applicant firm by their contributions), processed within a week."""
    seed = ctx.seed
    cs, ce = ctx.ranges["clerk"]
    nm = len(ctx.months)
    frac = min(20_000 * nm / 5_000_000, 0.5)
    w0 = ctx.months[0]
    return f"""
    WITH c AS (
      SELECT e.*, p.id_number, DATE '{_ym(m)}' + (hash(pidx, 'ad', {seed}) % 10)::INT AS apply_date
      FROM employees e JOIN persons p USING (pidx)
      WHERE (hash(pidx, 'led', {seed}) % 1000000) < {int(frac * 1_000_000)}
        AND hash(pidx, 'ledm', {seed}) % {nm} = {mi}
        AND e.hire_date < DATE '{w0}' - 60 AND e.end_date IS NULL
    )
    SELECT c.pidx AS pk, false AS planted, NULL::VARCHAR AS force,
      'ZB' || strftime(DATE '{_ym(m)}', '%Y%m') || lpad((c.pidx % 100000000)::VARCHAR, 8, '0') AS application_id,
      'one_time_hiring' AS policy_code, '单位' AS applicant_type, c.employer_uscc AS applicant_id,
      c.id_number AS beneficiary_id_number, NULL::DATE AS subsidy_month, 1500.00::DECIMAL(12,2) AS amount,
      apply_date, apply_date + 1 AS accept_date, apply_date + 3 AS review_date, apply_date + 5 AS pay_date,
      '已拨付' AS status, {sql_list(CHANNELS)}[1 + (hash(c.pidx, 'ch', {seed}) % 3)::INT] AS channel,
      h.id_number AS handler_id_number, c.firm_region AS region_code
    FROM c JOIN persons h ON h.pidx = {cs} + hash(c.pidx, 'hd', {seed}) % {ce - cs}
    """


SOURCE_SQL = {
    "employment_registration": employment_registration, "hiring_filing": hiring_filing,
    "social_insurance": social_insurance, "business_registration": business_registration,
    "graduates": graduates, "poverty_alleviation": poverty_alleviation, "fiscal_staff": fiscal_staff,
    "deceased": deceased, "subsidy_ledger": subsidy_ledger,
}
