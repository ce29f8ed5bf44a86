"""Why (not) this person or firm? — condition-by-condition answers for an analyst.

``explain`` runs each policy's own ``checks`` CTE (the same SQL the engine decides with, so the
answer can never drift from the decision) restricted to one citizen ID or USCC, then looks up
the shared exclusions (财政供养, 死亡, 台账, 已列入) and the decision rows of the month.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re

import yaml

from policies.engine import month_bounds, prepare, rule_sql, run_rule
from policies.params import POLICIES_DIR, load_policy, policy_codes
from zhibu.warehouse import has_table

FINAL_SELECT = re.compile(r"select\s+\*\s+from\s+final\s*;?\s*$", re.IGNORECASE)

EXCLUSION_LABELS = {
    "fiscal_staff": "财政供养人员（不得享受）",
    "deceased": "已死亡",
    "ledger_granted": "台账中已申领/发放",
    "listed_earlier": "已由以往月份列入名单",
}


def checks_sql(code: str) -> str:
    """The rule with its final select replaced by the diagnostic ``checks`` rows for one key."""
    sql = rule_sql(code)
    if not FINAL_SELECT.search(sql):
        raise ValueError(f"{code}/rule.sql must end with 'select * from final'")
    return FINAL_SELECT.sub(
        "select * from checks where person_id_number = $key or beneficiary_id = $key", sql)


def condition_labels(code: str) -> dict[str, str]:
    with open(POLICIES_DIR / code / "catalogue.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh).get("条件检查", {})


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def explain(con, month: str, key: str) -> dict:
    """For ``key`` (citizen ID or USCC) in run ``month``: per policy, every candidate with the
    conditions that held/failed and the facts behind them, plus the shared exclusions and the
    decision rows already written for the month.
    """
    run_month, as_of = month_bounds(month)
    key = key.strip().upper()
    prepare(con)
    result = {"month": month, "as_of": as_of.isoformat(), "key": key, "policies": {}}
    for code in policy_codes():
        meta = load_policy(code)["meta"]
        labels = condition_labels(code)
        run_rule(con, code, month, "explain_checks", checks_sql(code), extra={"key": key})
        cursor = con.execute("select * from explain_checks order by all")
        names = [d[0] for d in cursor.description]
        candidates = []
        for row in cursor.fetchall():
            record = dict(zip(names, row))
            conditions = [
                {"code": n, "label": labels.get(n, n), "held": bool(record[n])}
                for n in names if n.startswith("cond_")
            ]
            facts = {n: _plain(v) for n, v in record.items() if not n.startswith("cond_")}
            candidates.append({
                "beneficiary_id": record.get("beneficiary_id"),
                "person_id_number": record.get("person_id_number"),
                "eligible_by_conditions": all(c["held"] for c in conditions),
                "conditions": conditions,
                "failed": [c["code"] for c in conditions if not c["held"]],
                "facts": facts,
            })
        listed = con.execute(
            "select run_month, beneficiary_id, person_id_number, amount, period_start, period_end, evidence "
            "from eligibility where policy_code = ? and (person_id_number = ? or beneficiary_id = ?) "
            "and run_month <= ? order by run_month",
            [code, key, key, month]).fetchall()
        excluded = con.execute(
            "select run_month, beneficiary_id, person_id_number, reason, detail from exclusions "
            "where policy_code = ? and (person_id_number = ? or beneficiary_id = ?) and run_month <= ? "
            "order by run_month", [code, key, key, month]).fetchall()
        months = con.execute(
            "select strftime(subsidy_month, '%Y-%m'), run_month, beneficiary_id, payable_amount, listed_before, amount "
            "from eligibility_months where policy_code = ? and (person_id_number = ? or beneficiary_id = ?) "
            "and run_month <= ? order by subsidy_month, run_month, beneficiary_id",
            [code, key, key, month]).fetchall() if has_table(con, "eligibility_months") else []
        result["policies"][code] = {
            "name": meta["name"],
            # a recurring decision month by month: payable as of that run and listed by earlier
            # runs (both the contributions the subsidy is computed on, before the policy's ratio),
            # and what that run listed in yuan (a top-up lists the difference)
            "months": [dict(zip(("subsidy_month", "run_month", "beneficiary_id", "payable_now", "listed_before",
                                 "listed_now"), map(_plain, r))) for r in months],
            "candidates": candidates,
            "listed": [dict(zip(("run_month", "beneficiary_id", "person_id_number", "amount",
                                 "period_start", "period_end", "evidence"), map(_plain, r))) for r in listed],
            "excluded": [dict(zip(("run_month", "beneficiary_id", "person_id_number", "reason", "detail"), r))
                         for r in excluded],
        }
    result["shared_exclusions"] = shared_exclusion_facts(con, key, as_of)
    result["records"] = source_records(con, key)
    return result


RECORD_QUERIES = {
    "graduates": "select name, school, degree, graduation_date, hardship_types, region_code, extract_month "
                 "from lnk_graduates where id_number = $key",
    "employment_registration": "select registration_type, registration_date, employment_form, employer_uscc, "
                               "hardship_category, region_code, extract_month from lnk_employment_registration "
                               "where id_number = $key or employer_uscc = $key order by registration_date",
    "hiring_filing": "select employer_uscc, employer_name, id_number, filing_type, contract_start, contract_end, "
                     "filing_date, extract_month from lnk_hiring_filing "
                     "where id_number = $key or employer_uscc = $key order by coalesce(contract_start, filing_date)",
    "business_registration": "select uscc, name, entity_type, enterprise_scale, legal_rep_id_number, established_date, "
                             "status, status_date, serious_dishonest, extract_month from lnk_business_registration "
                             "where uscc = $key or legal_rep_id_number = $key",
    "poverty_alleviation": "select household_id, population_type, is_labor_force, region_code "
                           "from lnk_poverty_alleviation where id_number = $key",
    # contributions summarised (a firm can have thousands of rows): one line per payer × type
    "social_insurance": "select employer_uscc, insured_type, insurance_type, count(*) as months, "
                        "min(contribution_month) as first_month, max(contribution_month) as last_month, "
                        "sum(employer_amount) as employer_amount, sum(individual_amount) as individual_amount, "
                        "max(credited_date) as last_credited "
                        "from lnk_social_insurance where id_number = $key or employer_uscc = $key "
                        "group by all order by all limit 200",
}


def source_records(con, key: str) -> dict:
    """The linked source records behind the answer (what an analyst checks first)."""
    out = {}
    for source, sql in RECORD_QUERIES.items():
        cursor = con.execute(sql, {"key": key})
        names = [d[0] for d in cursor.description]
        out[source] = [{n: _plain(v) for n, v in zip(names, row)} for row in cursor.fetchall()]
    return out


def shared_exclusion_facts(con, key: str, as_of: dt.date) -> dict:
    """The exclusion-list records on file for the key (fiscal list, deaths, ledger grants)."""
    fiscal = con.execute("select name, work_unit, region_code from lnk_fiscal_staff where id_number = ?",
                         [key]).fetchall()
    deaths = con.execute("select death_date from lnk_deceased where id_number = ?", [key]).fetchall()
    ledger = con.execute(
        "select application_id, policy_code, applicant_id, beneficiary_id_number, subsidy_month, amount, status "
        "from lnk_subsidy_ledger where beneficiary_id_number = ? or applicant_id = ? order by application_id",
        [key, key]).fetchall()
    return {
        "fiscal_staff": [dict(zip(("name", "work_unit", "region_code"), r)) for r in fiscal],
        "deceased": [_plain(r[0]) for r in deaths],
        "ledger": [dict(zip(("application_id", "policy_code", "applicant_id", "beneficiary_id_number",
                             "subsidy_month", "amount", "status"), map(_plain, r))) for r in ledger],
    }


def _yuan(value) -> str:
    return "—" if value is None else f"{value}元"


INSURANCE_TYPES_ZH = {"110": "110养老", "210": "210失业", "310": "310医疗", "410": "410工伤", "510": "510生育"}


def explain_text(result: dict) -> str:
    """Chinese, human-readable rendering of ``explain`` for the CLI."""
    lines = [f"查询对象 {result['key']}，{result['month']} 月批次（截至 {result['as_of']}）"]
    shared = result["shared_exclusions"]
    if shared["fiscal_staff"]:
        lines.append("  ！财政供养人员名单：" + "、".join(str(r["work_unit"]) for r in shared["fiscal_staff"]))
    if shared["deceased"]:
        lines.append("  ！死亡登记：" + "、".join(shared["deceased"]))
    for r in shared["ledger"]:
        lines.append(f"  台账：{r['application_id']} {r['policy_code']} {r['subsidy_month'] or ''} "
                     f"{r['amount']}元 {r['status']}")
    labels = {"graduates": "高校毕业生", "employment_registration": "就业失业登记", "hiring_filing": "用工备案",
              "business_registration": "经营主体登记", "poverty_alleviation": "脱贫人口",
              "social_insurance": "社保缴费(汇总)"}
    for source, rows in result.get("records", {}).items():
        for row in rows:
            lines.append(f"  〔{labels.get(source, source)}〕" + " ".join(
                f"{k}={INSURANCE_TYPES_ZH.get(v, v) if k == 'insurance_type' else v}"
                for k, v in row.items() if v not in (None, [], "")))
    for code, info in result["policies"].items():
        lines.append(f"【{info['name']}】({code})")
        if not info["candidates"]:
            lines.append("  无相关记录（不是该政策的候选对象）")
        for cand in info["candidates"]:
            verdict = "条件全部满足" if cand["eligible_by_conditions"] else "条件不满足"
            lines.append(f"  候选 {cand['beneficiary_id']} / {cand['person_id_number']}：{verdict}")
            for c in cand["conditions"]:
                lines.append(f"    {'✓' if c['held'] else '✗'} {c['label']}")
            if cand["facts"].get("evidence"):
                lines.append(f"    依据：{cand['facts']['evidence']}")
        for row in info["listed"]:
            lines.append(f"  已列入：{row['run_month']} 金额{row['amount']}元 {row['period_start'] or ''}"
                         f"{'..' + row['period_end'] if row['period_end'] else ''}")
        if info.get("months"):
            lines.append("  按月明细（所属期 / 批次 / 应补缴费额 / 此前已列入缴费额 / 该批次列入金额；"
                         "缴费额为按补贴比例折算前）：")
            for m in info["months"]:
                lines.append(f"    {m['subsidy_month']} / {m['run_month']} / {_yuan(m['payable_now'])} / "
                             f"{_yuan(m['listed_before'])} / {_yuan(m['listed_now'])}")
        for row in info["excluded"]:
            lines.append(f"  已排除：{row['run_month']} {EXCLUSION_LABELS.get(row['reason'], row['reason'])} "
                         f"{row['detail'] or ''}")
    return "\n".join(lines)


#: the name the CLI imports
render_explanation = explain_text
