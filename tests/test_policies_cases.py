"""Every case of every policies/<code>/cases.yaml, run against a real DuckDB file.

The test id is the case's sentence, so a failure reads like a caseworker's finding.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from policies.case_harness import _month, build_history, build_inputs, load_cases
from policies.engine import decide_month, mark_published
from policies.explain import explain
from zhibu.verification import verify_month

CASES = load_cases()
EXCLUSION_REASONS = {"fiscal_staff", "deceased", "ledger_granted", "listed_earlier"}
COMPARED = ("beneficiary_name", "person_name", "period_start", "period_end", "match_method",
            "league_code", "region_code", "phone", "beneficiary_type")


def run_case(case: dict, con) -> None:
    runs = [str(m) for m in case["runs"]]
    build_history(con, case.get("data"), _month(runs[0]))
    for month in runs:
        build_inputs(con, month)
        decide_month(con, month)
        mark_published(con, month, None)     # as the flow does once the folder is written
        expected = (case.get("expect") or {}).get(month)
        if expected is not None:
            check_month(con, case, month, expected)


def check_month(con, case: dict, month: str, expected: dict) -> None:
    scope = set(case.get("scope", [case["policy"]]))
    cursor = con.execute("select * from eligibility where run_month = ? order by all", [month])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    rows = [r for r in rows if r["policy_code"] in scope]
    if "eligible" in expected:
        wanted = expected["eligible"] or []
        got_keys = sorted((r["policy_code"], r["beneficiary_id"], r["person_id_number"]) for r in rows)
        want_keys = sorted((w.get("policy", case["policy"]), str(w["beneficiary_id"]),
                            None if w.get("person_id_number") is None else str(w["person_id_number"]))
                           for w in wanted)
        assert got_keys == want_keys, f"{month}: listed {got_keys}, expected {want_keys}"
        for w in wanted:
            row = next(r for r in rows if r["beneficiary_id"] == str(w["beneficiary_id"])
                       and r["policy_code"] == w.get("policy", case["policy"])
                       and (w.get("person_id_number") is None or r["person_id_number"] == str(w["person_id_number"])))
            assert row["amount"] == Decimal(str(w["amount"])).quantize(Decimal("0.01")), (month, row)
            assert isinstance(row["amount"], Decimal)
            for col in COMPARED:
                if col in w:
                    assert row[col] == (None if w[col] is None else str(w[col])), (month, col, row[col])
            if "evidence_contains" in w:
                assert w["evidence_contains"] in row["evidence"], (month, row["evidence"])
    for a in expected.get("absent", []) + expected.get("excluded", []):
        policy = a.get("policy", case["policy"])
        person = None if a.get("person_id_number") is None else str(a["person_id_number"])
        firm = None if a.get("beneficiary_id") is None else str(a["beneficiary_id"])
        # `excluded` = some of the candidate's months were struck, others may be listed
        assert a in expected.get("excluded", []) or not [r for r in rows if r["policy_code"] == policy
                    and (person is None or r["person_id_number"] == person)
                    and (firm is None or r["beneficiary_id"] == firm)], f"{month}: unexpectedly listed"
        reason = a["reason"]
        if reason in EXCLUSION_REASONS:
            hits = con.execute(
                "select reason, detail from exclusions where run_month = ? and policy_code = ? "
                "and (? is null or person_id_number = ?) and (? is null or beneficiary_id = ?)",
                [month, policy, person, person, firm, firm]).fetchall()
            details = [d for r, d in hits if r == reason]
            assert details, f"{month}: exclusion {reason} not recorded (got {hits})"
            if "detail_contains" in a:
                assert any(a["detail_contains"] in d for d in details), (month, details)
        elif reason == "already_listed":       # the same decision, listed by an earlier run
            assert con.execute(
                "select count(*) from eligibility where run_month < ? and policy_code = ? "
                "and (? is null or person_id_number = ?) and (? is null or beneficiary_id = ?)",
                [month, policy, person, person, firm, firm]).fetchone()[0] == 1
        elif reason.startswith("cond_"):
            info = explain(con, month, person or firm)["policies"][policy]
            cands = [c for c in info["candidates"] if firm is None or c["beneficiary_id"] == firm]
            assert cands, f"{month}: explain shows no candidate for {person or firm}"
            assert any(reason in c["failed"] for c in cands), \
                f"{month}: {reason} did not fail; failed={[c['failed'] for c in cands]}"
    for m in expected.get("months", []):
        got = con.execute(
            "select strftime(subsidy_month, '%Y-%m'), amount from eligibility_months where run_month = ? "
            "and policy_code = ? and person_id_number = ? order by subsidy_month",
            [month, m.get("policy", case["policy"]), str(m["person_id_number"])]).fetchall()
        assert [g[0] for g in got] == [str(x) for x in m["subsidy_months"]], (month, got)
        if "amounts" in m:
            assert [g[1] for g in got] == [Decimal(str(a)).quantize(Decimal("0.01")) for a in m["amounts"]], (month, got)
    for m in expected.get("explain_months", []):     # what `zhibu explain` shows month by month
        info = explain(con, month, str(m["key"]))["policies"][m.get("policy", case["policy"])]
        got = [[r["subsidy_month"], r["run_month"], r["payable_now"], r["listed_before"], r["listed_now"]]
               for r in info["months"]]
        want = [[str(v) if isinstance(v, str) else f"{Decimal(str(v)):.2f}" for v in row] for row in m["rows"]]
        assert got == want, (month, got)
    if "findings" in expected:           # the 核查 stage over the same warehouse
        verify_month(con, month)
        got = con.execute("select check_code, facts from verification_findings where run_month = ? "
                          "and policy_code = ? order by all", [month, case["policy"]]).fetchall()
        want = expected["findings"] or []
        assert sorted(g[0] for g in got) == sorted(w["check_code"] for w in want), (month, got)
        for w in want:
            assert any(g[0] == w["check_code"] and w.get("facts_contains", "") in g[1] for g in got), (month, got)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        run_case(case, con)
    finally:
        con.close()
