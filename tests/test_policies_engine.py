"""Engine-wide properties: effective dating, re-runs, no double listing, output contract,
explain and the catalogue. Policy-specific behaviour lives in the cases.yaml files."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest
import yaml

from policies.case_harness import _month, build_history, build_inputs, load_cases
from policies.catalogue import REQUIRED_KEYS, render_catalogue
from policies.engine import decide_month, mark_published
from policies.explain import explain, explain_text
from policies.params import POLICIES_DIR, load_policy, parameter_periods, parameters_on, policy_codes

EXPECTED_POLICIES = {"one_time_hiring", "hiring_social_insurance", "flexible_social_insurance",
                     "startup_one_time", "job_search", "job_retention_refund"}
ELIGIBILITY_COLUMNS = [
    ("run_month", "VARCHAR"), ("policy_code", "VARCHAR"), ("beneficiary_type", "VARCHAR"),
    ("beneficiary_id", "VARCHAR"), ("beneficiary_name", "VARCHAR"), ("person_id_number", "VARCHAR"),
    ("person_name", "VARCHAR"), ("amount", "DECIMAL(12,2)"), ("period_start", "VARCHAR"),
    ("period_end", "VARCHAR"), ("region_code", "VARCHAR"), ("league_code", "VARCHAR"),
    ("match_method", "VARCHAR"), ("match_score", "DOUBLE"), ("evidence", "VARCHAR"), ("phone", "VARCHAR")]


def case_named(prefix: str) -> dict:
    return next(c for c in load_cases() if c["name"].startswith(prefix))


def merged_data(*prefixes: str) -> dict:
    """Several cases' rows in one warehouse (they use distinct people or compatible firms)."""
    data: dict = {}
    for p in prefixes:
        for source, rows in case_named(p)["data"].items():
            data.setdefault(source, []).extend(rows)
    return data


def snapshot(con, month: str) -> dict:
    return {t: con.execute(f"select * from {t} where run_month = ? order by all", [month]).fetchall()
            for t in ("eligibility", "eligibility_months", "exclusions")}


def decide_and_publish(con, month: str) -> dict:
    """As the flow does: a month's decisions count as listed once its folder is published."""
    counts = decide_month(con, month)
    mark_published(con, month, None)
    return counts


def policy_counts(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if isinstance(v, int)}


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield c
    c.close()


# ── parameters ──────────────────────────────────────────────────────────────────────────────

def test_every_policy_folder_is_complete_and_discovered():
    assert set(policy_codes()) == EXPECTED_POLICIES
    for code in policy_codes():
        for name in ("parameters.yaml", "rule.sql", "catalogue.yaml", "notice.txt", "cases.yaml"):
            assert (POLICIES_DIR / code / name).exists(), (code, name)
        notice = (POLICIES_DIR / code / "notice.txt").read_text(encoding="utf-8")
        assert "{name}" in notice and "{amount}" in notice
        rule = (POLICIES_DIR / code / "rule.sql").read_text(encoding="utf-8")
        assert re.search(r"select \* from final\s*$", rule) and "checks as (" in rule


def test_every_parameter_is_described_cited_and_dated():
    for code in policy_codes():
        doc = load_policy(code)
        assert doc["meta"]["kind"] in ("one_off", "recurring", "annual")
        for name, spec in doc["parameters"].items():
            assert spec["description"] and spec["reference"] and spec["unit"], (code, name)
            assert spec["values"] and all(isinstance(d, dt.date) for d in spec["values"]), (code, name)
            assert "regional_setting" in spec, (code, name)


def test_regional_settings_are_visible_in_the_catalogue():
    for code in policy_codes():
        regional = [n for n, s in load_policy(code)["parameters"].items() if s.get("regional_setting")]
        cat = yaml.safe_load((POLICIES_DIR / code / "catalogue.yaml").read_text(encoding="utf-8"))
        assert all(cat.get(k) for k in REQUIRED_KEYS), code
        if regional:
            assert cat.get("区域可调参数"), code


@pytest.mark.parametrize("code, name, day, expected", [
    ("one_time_hiring", "amount", "2023-12-31", None),            # day before the rule
    ("one_time_hiring", "amount", "2024-01-01", Decimal("1500")),  # first day
    ("one_time_hiring", "amount", "2025-12-31", Decimal("1500")),  # last hire day
    ("one_time_hiring", "amount", "2026-01-01", None),             # day after the window
    ("job_retention_refund", "refund_ratio_sme", "2022-12-31", Fraction(9, 10)),
    ("job_retention_refund", "refund_ratio_sme", "2023-01-01", Fraction(3, 5)),
    ("job_retention_refund", "refund_ratio_large", "2022-12-31", Fraction(1, 2)),
    ("job_retention_refund", "refund_ratio_large", "2023-01-01", Fraction(3, 10)),
    ("flexible_social_insurance", "subsidy_ratio", "2026-01-01", Fraction(2, 3)),
    ("flexible_social_insurance", "window_months_graduate", "2022-05-04", None),
    ("flexible_social_insurance", "window_months_graduate", "2022-05-05", 24),
    ("hiring_social_insurance", "retirement_raise_male_step_months", "2024-12-31", None),
    ("hiring_social_insurance", "retirement_raise_male_step_months", "2025-01-01", 4),
    ("startup_one_time", "amount", "2018-11-15", None),
    ("startup_one_time", "amount", "2018-11-16", Decimal("5000")),
])
def test_parameter_in_force_on_a_date(code, name, day, expected):
    assert parameters_on(code, day)[name] == expected


def test_parameter_periods_cover_all_time_without_gaps():
    for code in policy_codes():
        periods = parameter_periods(code)
        assert periods[0]["valid_from"] == dt.date(1900, 1, 1)
        for a, b in zip(periods, periods[1:]):
            assert a["valid_until"] == b["valid_from"]


# ── the engine ──────────────────────────────────────────────────────────────────────────────

def test_eligibility_has_exactly_the_outputs_md_columns(con):
    case = case_named("A 2024 graduate hired by a micro firm")
    build_history(con, case["data"], _month("2024-09"))
    build_inputs(con, "2024-09")
    counts = decide_month(con, "2024-09")
    assert set(policy_counts(counts)) == EXPECTED_POLICIES and counts["one_time_hiring"] == 1
    assert counts["without_home_league"] == {"to_school_league": 0, "to_region": 0}
    cols = con.execute("select column_name, data_type from information_schema.columns "
                       "where table_name = 'eligibility' order by ordinal_position").fetchall()
    assert cols == ELIGIBILITY_COLUMNS
    months = [c[0] for c in con.execute("select column_name from information_schema.columns "
                                        "where table_name = 'eligibility_months' order by ordinal_position").fetchall()]
    assert months == ["run_month", "policy_code", "beneficiary_id", "person_id_number", "subsidy_month", "amount",
                      "payable_amount", "listed_before"]
    excl = [c[0] for c in con.execute("select column_name from information_schema.columns "
                                      "where table_name = 'exclusions' order by ordinal_position").fetchall()]
    assert excl == ["run_month", "policy_code", "beneficiary_id", "person_id_number", "reason", "detail"]


def test_rerunning_old_months_reproduces_them_and_months_are_never_listed_twice(con):
    data = merged_data("A 就业困难人员 hired by a large firm", "A 就业困难人员 who registered flexible employment",
                       "A 2024 graduate hired by a micro firm")
    months = ["2025-02", "2025-03", "2025-04", "2025-05"]
    build_history(con, data, _month(months[0]))
    first = {}
    for m in months:
        build_inputs(con, m)
        decide_and_publish(con, m)
        first[m] = snapshot(con, m)
    assert first["2025-03"]["eligibility"] and first["2025-05"]["eligibility"]
    for m in ("2025-03", "2025-04", "2025-05"):       # an old month, then the latest, again
        build_inputs(con, m)
        decide_month(con, m)
        assert snapshot(con, m) == first[m], m
    dupes = con.execute("""select policy_code, beneficiary_id, person_id_number, subsidy_month, count(*)
                           from eligibility_months group by all having count(*) > 1""").fetchall()
    assert dupes == []
    # every listed recurring row is backed by exactly its months
    rows = con.execute("""select e.run_month, e.policy_code, e.person_id_number, e.period_start, e.period_end,
                                 min(strftime(m.subsidy_month, '%Y-%m')), max(strftime(m.subsidy_month, '%Y-%m'))
                          from eligibility e join eligibility_months m using (run_month, policy_code, beneficiary_id, person_id_number)
                          group by all""").fetchall()
    assert rows and all(r[3] == r[5] and r[4] == r[6] for r in rows)


def test_weakest_link_is_published_and_unlinkable_rows_are_ignored(con):
    case = case_named("A 2024 graduate hired by a micro firm")
    data = {k: [dict(r) for r in v] for k, v in case["data"].items()}
    data["hiring_filing"][0].update(id_number_method="fuzzy", id_number_score=0.87)
    data["graduates"][0].update(id_number_method="reviewed", id_number_score=0.93)
    # a row whose ID could not be linked (NULL) must not count as a paid month
    data["social_insurance"].append({"id_number": None, "id_number_raw": "1.50102E+17", "employer_uscc": "91150102MA0A1B2C36",
                                     "insurance_type": ["110", "210", "410"], "contribution_month": "2024-10",
                                     "employer_amount": 320})
    build_history(con, data, _month("2024-09"))
    build_inputs(con, "2024-09")
    decide_month(con, "2024-09")
    method, score = con.execute("select match_method, match_score from eligibility where run_month = '2024-09'").fetchone()
    assert (method, score) == ("fuzzy", pytest.approx(0.87))


def test_listed_names_are_written_in_simplified_characters(con, tmp_path):
    """Names sent in traditional characters are listed as the simplified ones (opencc, once per
    distinct name), the rows otherwise as listed from the simplified data."""
    import opencc
    s2t = opencc.OpenCC("s2t")
    case = case_named("A 2024 graduate hired by a micro firm")
    traditional = {k: [{c: s2t.convert(v) if isinstance(v, str) and "name" in c else v for c, v in r.items()}
                       for r in rows] for k, rows in case["data"].items()}
    assert traditional != case["data"]
    listed = []
    for data, c in ((case["data"], con), (traditional, duckdb.connect(str(tmp_path / "t.duckdb")))):
        build_history(c, data, _month("2024-09"))
        build_inputs(c, "2024-09")
        decide_month(c, "2024-09")
        listed.append(snapshot(c, "2024-09")["eligibility"])
    assert listed[0] and listed[1] == listed[0]
    assert any(r[4] != s2t.convert(r[4]) or r[6] != s2t.convert(r[6] or "") for r in listed[1])


def test_decisions_are_written_in_one_transaction_and_only_for_the_run_month(con):
    case = case_named("A 2024 graduate hired by a micro firm")
    build_history(con, case["data"], _month("2024-08"))
    for m in ("2024-08", "2024-09"):
        build_inputs(con, m)
        decide_month(con, m)
    before = snapshot(con, "2024-09")
    assert len(before["eligibility"]) == 2          # one_time_hiring + hiring_social_insurance (b)
    con.execute("drop table lnk_fiscal_staff")      # the next run must fail without touching its rows
    with pytest.raises(duckdb.Error):
        decide_month(con, "2024-09")
    assert snapshot(con, "2024-09") == before
    assert con.execute("select count(*) from eligibility where run_month = '2024-08'").fetchone()[0] == 1


def test_optional_deceased_source_may_be_missing(con):
    case = case_named("A 2024 graduate hired by a micro firm")
    build_history(con, case["data"], _month("2024-09"))
    build_inputs(con, "2024-09")
    con.execute("drop table lnk_deceased")
    assert decide_month(con, "2024-09")["one_time_hiring"] == 1


# ── explain ─────────────────────────────────────────────────────────────────────────────────

def test_explain_names_the_failed_condition_and_the_records_behind_it(con):
    case = case_named("An 11-month contract does not qualify")
    build_history(con, case["data"], _month("2024-09"))
    build_inputs(con, "2024-09")
    decide_month(con, "2024-09")
    result = explain(con, "2024-09", "150102200203150111")
    cand = result["policies"]["one_time_hiring"]["candidates"][0]
    assert cand["failed"] == ["cond_contract_12m"]
    assert cand["facts"]["contract_end"] == "2025-05-31"
    assert set(result["policies"]) == EXPECTED_POLICIES
    assert result["records"]["hiring_filing"][0]["contract_end"] == "2025-05-31"
    assert {r["insurance_type"] for r in result["records"]["social_insurance"]} == {"110", "210", "410"}
    text = explain_text(result)
    assert "✗ 劳动合同期限1年以上" in text and "一次性扩岗补助" in text and "〔用工备案〕" in text


def test_explain_by_uscc_shows_the_firms_candidates_and_listing(con):
    case = case_named("A 2024 graduate hired by a micro firm")
    build_history(con, case["data"], _month("2024-09"))
    build_inputs(con, "2024-09")
    decide_month(con, "2024-09")
    result = explain(con, "2024-09", "91150102ma0a1b2c36")
    info = result["policies"]["one_time_hiring"]
    assert info["candidates"][0]["eligible_by_conditions"]
    assert info["listed"][0]["amount"] == "1500.00"


# ── catalogue ───────────────────────────────────────────────────────────────────────────────

def test_catalogue_renders_list_and_cards_self_contained(tmp_path):
    paths = render_catalogue(tmp_path, dt.date(2026, 10, 31))
    names = {p.name for p in paths}
    assert {"policy_list.html", "policy_list.md"} <= names
    for code in EXPECTED_POLICIES:
        assert {f"card_{code}.html", f"card_{code}.md"} <= names
    listing = (tmp_path / "policy_list.html").read_text(encoding="utf-8")
    for title in ("一次性扩岗补助", "企业吸纳就业社会保险补贴", "灵活就业社会保险补贴", "一次性创业补贴",
                  "求职创业补贴", "失业保险稳岗返还"):
        assert title in listing
    for p in paths:
        text = p.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "<script" not in text
    card = (tmp_path / "card_flexible_social_insurance.html").read_text(encoding="utf-8")
    assert "区域可调参数" in card and "2/3" in card
    assert "1500元" in (tmp_path / "card_one_time_hiring.md").read_text(encoding="utf-8") or \
        "（未施行）" in (tmp_path / "card_one_time_hiring.md").read_text(encoding="utf-8")


def test_a_standing_exclusion_is_reported_once_not_every_month(con):
    case = case_named("A person already granted this subsidy through another firm")
    build_history(con, case["data"], _month("2024-09"))
    for m in ("2024-09", "2024-10", "2024-11"):
        build_inputs(con, m)
        decide_and_publish(con, m)
    rows = con.execute("select run_month, reason from exclusions where policy_code = 'one_time_hiring'").fetchall()
    assert rows == [("2024-09", "ledger_granted")]


def test_a_first_ever_run_reports_exclusions_whose_evidence_is_older(con):
    case = case_named("A hired graduate who is on the fiscal payroll")
    build_history(con, case["data"], _month("2024-09"))
    build_inputs(con, "2024-12")                    # the pipeline starts months later
    decide_month(con, "2024-12")
    assert con.execute("select reason from exclusions where run_month = '2024-12' "
                       "and policy_code = 'one_time_hiring'").fetchall() == [("fiscal_staff",)]


def test_deciding_some_policies_leaves_the_others_rows_alone(con):
    case = case_named("A 2024 graduate hired by a micro firm")
    build_history(con, case["data"], _month("2024-09"))
    build_inputs(con, "2024-09")
    decide_month(con, "2024-09")
    before = snapshot(con, "2024-09")
    counts = decide_month(con, "2024-09", only=["job_retention_refund"])
    assert policy_counts(counts) == {"job_retention_refund": 0}
    assert snapshot(con, "2024-09") == before
    with pytest.raises(ValueError):
        decide_month(con, "2024-09", only=["no_such_policy"])


def test_only_the_firm_level_policy_declares_firm_partitioning():
    firm_level = [c for c in policy_codes() if load_policy(c)["meta"].get("partition") == "firm"]
    assert firm_level == ["job_retention_refund"]
