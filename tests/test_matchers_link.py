"""link_month on a real DuckDB file with hand-built asof_<source> tables, including the review loop."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from matchers import codes
from matchers.link import link_month

MONTH = "2026-10"

# Columns of the hand-built asof tables (canonical names + the *_valid companions).
SCHEMAS = {
    "social_insurance": {"id_number": "VARCHAR", "name": "VARCHAR", "employer_uscc": "VARCHAR",
                         "insured_type": "VARCHAR", "region_code": "VARCHAR"},
    "graduates": {"id_number": "VARCHAR", "name": "VARCHAR", "region_code": "VARCHAR", "phone": "VARCHAR"},
    "hiring_filing": {"employer_uscc": "VARCHAR", "employer_name": "VARCHAR", "id_number": "VARCHAR",
                      "name": "VARCHAR", "region_code": "VARCHAR"},
    "business_registration": {"uscc": "VARCHAR", "name": "VARCHAR", "legal_rep_id_number": "VARCHAR",
                              "legal_rep_name": "VARCHAR", "phone": "VARCHAR", "region_code": "VARCHAR"},
    "subsidy_ledger": {"application_id": "VARCHAR", "applicant_type": "VARCHAR", "applicant_id": "VARCHAR",
                       "beneficiary_id_number": "VARCHAR", "handler_id_number": "VARCHAR",
                       "region_code": "VARCHAR"},
}
ID_COLUMNS = {"id_number", "legal_rep_id_number", "beneficiary_id_number", "handler_id_number"}
USCC_COLUMNS = {"employer_uscc", "uscc"}


def make_asof(con: duckdb.DuckDBPyConnection, source: str, rows: list[dict]) -> None:
    """Create asof_<source> as a plain table, computing <col>_valid like the loader does."""
    schema = SCHEMAS[source]
    cols = []
    for c, t in schema.items():
        cols.append(f"{c} {t}")
        if c in ID_COLUMNS or c in USCC_COLUMNS or c == "applicant_id":
            cols.append(f"{c}_valid BOOLEAN")
    cols += ["extract_month DATE", "source_file VARCHAR", "source_line BIGINT"]
    con.execute(f"CREATE OR REPLACE TABLE asof_{source} ({', '.join(cols)})")
    for line, row in enumerate(rows, start=2):
        values = []
        for c in schema:
            v = row.get(c)
            values.append(v)
            if c in ID_COLUMNS:
                values.append(None if v is None else codes.id_valid(v))
            elif c in USCC_COLUMNS:
                values.append(None if v is None else codes.uscc_valid(v))
            elif c == "applicant_id":
                ok = codes.uscc_valid(v) if row.get("applicant_type") == "单位" else codes.id_valid(v)
                values.append(None if v is None else ok)
        values += ["2026-10-01", f"{source}.csv", line]
        con.execute(f"INSERT INTO asof_{source} VALUES ({', '.join('?' * len(values))})", values)


def person_id(prefix17: str) -> str:
    return prefix17 + codes.id_check_char(prefix17)


def firm_id(prefix17: str) -> str:
    return prefix17 + codes.uscc_check_char(prefix17)


def typo(valid: str, pos: int, alphabet: str = "0123456789") -> str:
    """One wrong character at 0-based `pos` that fails the check (first such replacement)."""
    for ch in alphabet:
        bad = valid[:pos] + ch + valid[pos + 1:]
        if bad != valid and not (codes.id_valid(bad) or codes.uscc_valid(bad)):
            return bad
    raise AssertionError("no failing substitution")


def swap(valid: str, pos: int) -> str:
    bad = valid[:pos] + valid[pos + 1] + valid[pos] + valid[pos + 2:]
    assert bad != valid and not codes.id_valid(bad)
    return bad


A = person_id("15010219900101123")      # 王晓明
B = person_id("15010219850505456")      # 张伟
C = person_id("15020319920707778")      # 巴特尔·朝鲁
D = person_id("15010219880808135")      # 王伟 (common name)
E = person_id("15010219880808246")      # 王伟 again: same common name, another person


@pytest.fixture()
def con(tmp_path):
    db = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield db
    db.close()


def links(con) -> dict:
    return {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT raw_id, name, person_id, method, score FROM person_links WHERE run_month = ?", [MONTH]).fetchall()}


def base_people(con, extra_si=(), extra_grad=(), ledger=()):
    si = [{"id_number": A, "name": "王晓明", "region_code": "150102"},
          {"id_number": B, "name": "张伟", "region_code": "150102"},
          {"id_number": C, "name": "巴特尔·朝鲁", "region_code": "150203"},
          {"id_number": D, "name": "王伟", "region_code": "150102"},
          {"id_number": E, "name": "王伟", "region_code": "150102"}]
    make_asof(con, "social_insurance", si + list(extra_si))
    make_asof(con, "graduates", list(extra_grad))
    if ledger:
        make_asof(con, "subsidy_ledger", list(ledger))


# (description, bad record in graduates, expected (person, method) or outcome)
PERSON_CASES = [
    ("one wrong digit, same name", {"id_number": typo(A, 10), "name": "王晓明"}, (A, "id_repaired")),
    ("adjacent digits swapped", {"id_number": swap(A, 12), "name": "王晓明"}, (A, "id_repaired")),
    ("wrong check digit", {"id_number": typo(A, 17, "0123456789X"), "name": "王晓明"}, (A, "id_repaired")),
    ("typo + homophone name", {"id_number": typo(A, 8), "name": "王小明"}, (A, "fuzzy")),
    ("typo + traditional name", {"id_number": typo(B, 15), "name": "張偉"}, (B, "id_repaired")),
    ("typo + Mongolian name without dot", {"id_number": typo(C, 9), "name": "巴特尔朝鲁"}, (C, "id_repaired")),
    ("typo + Mongolian name other dot", {"id_number": typo(C, 3), "name": "巴特尔•朝鲁"}, (C, "id_repaired")),
    ("one digit apart, different name", {"id_number": typo(A, 10), "name": "李强"}, "unlinked"),
    ("one digit apart, different surname", {"id_number": typo(A, 10), "name": "李晓明"}, "unlinked"),
]


@pytest.mark.parametrize("desc,record,expected", PERSON_CASES, ids=[c[0] for c in PERSON_CASES])
def test_person_repair_cases(con, desc, record, expected):
    base_people(con, extra_grad=[{**record, "region_code": "150102"}])
    link_month(con, MONTH)
    got = links(con).get((record["id_number"], record["name"]))
    if expected == "unlinked":
        assert got is None
        assert con.execute("SELECT count(*) FROM review_queue WHERE run_month = ?", [MONTH]).fetchall()[0][0] == 0
    else:
        assert got is not None, desc
        assert got[:2] == expected
        assert 0.99 <= got[2] <= 1.0


def _two_owner_typo() -> tuple[str, str, str]:
    """A bad ID whose one-edit variants contain two valid IDs (two plausible owners)."""
    for pos in range(14, 17):
        bad = typo(D, pos)
        for variant in sorted(codes.one_edit_variants(bad, "0123456789", "0123456789X")):
            if variant != D and codes.id_valid(variant) and variant[:6] == D[:6]:
                return bad, D, variant
    raise AssertionError("no two-owner typo")


def test_ambiguous_two_owner_repair_goes_to_review_and_review_loop(con, tmp_path):
    bad, owner1, owner2 = _two_owner_typo()
    base_people(con, extra_si=[{"id_number": owner2, "name": "王伟", "region_code": "150102"}],
                extra_grad=[{"id_number": bad, "name": "王伟", "region_code": "150102"}])
    stats = link_month(con, MONTH)
    assert (bad, "王伟") not in links(con)
    queue = con.execute("SELECT left_id, left_name, right_id, reason, source, source_file, source_line "
                        "FROM review_queue WHERE run_month = ? ORDER BY right_id", [MONTH]).fetchall()
    assert sorted(r[2] for r in queue) == sorted([owner1, owner2])
    assert all(r[0] == bad and r[1] == "王伟" and "个可能的号码主人" in r[3] and "(ambiguous)" in r[3] for r in queue)
    assert queue[0][4:] == ("graduates", "graduates.csv", 2)
    assert stats["review_queue"]["person"] == 2
    # lnk view: unresolved → NULL, raw value kept
    row = con.execute("SELECT id_number, id_number_raw, id_number_method FROM lnk_graduates").fetchall()[0]
    assert row == (None, bad, None)

    # The analyst confirms owner2 → next run links as `reviewed`, nothing left in the queue.
    decisions = tmp_path / "review_decisions.csv"
    with open(decisions, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "raw_id", "name", "candidate_id", "decision", "reviewer", "date"])
        w.writerow(["person", bad, "王伟", owner2, "confirm", "analyst1", "2026-11-02"])
    link_month(con, MONTH)                        # default: <warehouse dir>/review_decisions.csv
    assert links(con)[(bad, "王伟")][:3] == (owner2, "reviewed", 1.0)
    assert con.execute("SELECT count(*) FROM review_queue WHERE run_month = ?", [MONTH]).fetchall()[0][0] == 0
    row = con.execute("SELECT id_number, id_number_raw, id_number_method, id_number_score FROM lnk_graduates").fetchall()[0]
    assert row == (owner2, bad, "reviewed", 1.0)


def test_reject_is_never_proposed_again(con, tmp_path):
    bad, owner1, owner2 = _two_owner_typo()
    base_people(con, extra_si=[{"id_number": owner2, "name": "王伟", "region_code": "150102"}],
                extra_grad=[{"id_number": bad, "name": "王伟", "region_code": "150102"}])
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                         f"person,{bad},王伟,{owner1},reject,analyst1,2026-11-02\n"
                         f"person,{bad},王伟,{owner2},reject,analyst1,2026-11-02\n", encoding="utf-8")
    link_month(con, MONTH, decisions_file=decisions)
    assert con.execute("SELECT count(*) FROM review_queue WHERE run_month = ?", [MONTH]).fetchall()[0][0] == 0
    assert (bad, "王伟") not in links(con)
    # Rejecting only one of two owners leaves one exact-name candidate: it may then link on its own.
    decisions.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                         f"person,{bad},王伟,{owner1},reject,analyst1,2026-11-02\n", encoding="utf-8")
    link_month(con, MONTH, decisions_file=decisions)
    queue = con.execute("SELECT right_id FROM review_queue WHERE run_month = ?", [MONTH]).fetchall()
    assert owner1 not in [r[0] for r in queue]
    assert links(con).get((bad, "王伟"), (owner2,))[0] == owner2


def test_same_common_name_different_valid_ids_are_never_merged(con):
    base_people(con)
    link_month(con, MONTH)
    assert links(con) == {}
    rows = con.execute("SELECT id_number, id_number_method FROM lnk_social_insurance WHERE name = '王伟' "
                       "ORDER BY 1").fetchall()
    assert rows == [(D, "exact"), (E, "exact")]


def test_grey_band_goes_to_review_with_both_records(con):
    # typo + homophone name + different league + birth date hit: not enough to pay on
    bad = typo(A, 9)
    base_people(con, extra_grad=[{"id_number": bad, "name": "王小明", "region_code": "152502", "phone": "13800000000"}])
    link_month(con, MONTH)
    assert (bad, "王小明") not in links(con)
    row = con.execute("SELECT left_id, left_name, left_region, left_phone, right_id, right_name, right_region, "
                      "score, agreed, reason FROM review_queue").fetchall()[0]
    assert row[:7] == (bad, "王小明", "152502", "13800000000", A, "王晓明", "150102")
    assert 0.5 <= row[7] < 0.99 and "name" in row[8] and row[9].startswith("存疑") and "(grey band)" in row[9]


F1 = firm_id("91150102MA0N2XQ41")
F2 = firm_id("91150203MA0K7PL9X")


def _with_employers(con, people: list[tuple[str, str, str, str]], records: list[dict]) -> None:
    """social_insurance rows: (id, name, region, employer) per person, then the bad records."""
    make_asof(con, "social_insurance",
              [{"id_number": i, "name": n, "region_code": r, "employer_uscc": f} for i, n, r, f in people]
              + records)
    make_asof(con, "graduates", [])


def test_typo_and_homophone_in_another_county_link_on_a_shared_employer(con):
    # issue 17: 陈晓红 / 陈小红, ID one substitution apart (position 15), region differs: the only
    # one-edit candidate, a homophone name and the same employer are strong evidence
    bad = typo(A, 14)
    _with_employers(con, [(A, "陈晓红", "150102", F1), (B, "张伟", "150102", F2)],
                    [{"id_number": bad, "name": "陈小红", "region_code": "152502", "employer_uscc": F1}])
    link_month(con, MONTH)
    assert links(con).get((bad, "陈小红"), (None,))[0] == A
    evidence = con.execute("SELECT evidence FROM person_links WHERE raw_id = ?", [bad]).fetchall()[0][0]
    assert "strong evidence" in evidence


def test_a_shared_employer_never_overrides_a_second_owner(con):
    bad, owner1, owner2 = _two_owner_typo()
    _with_employers(con, [(owner1, "王伟", "150102", F1), (owner2, "王伟", "150102", F2)],
                    [{"id_number": bad, "name": "王伟", "region_code": "150102", "employer_uscc": F1}])
    link_month(con, MONTH)
    assert links(con) == {}
    reasons = [r[0] for r in con.execute("SELECT reason FROM review_queue").fetchall()]
    assert len(reasons) == 2 and all("(ambiguous)" in r for r in reasons)


def test_an_exact_name_with_a_conflicting_employer_goes_to_review(con):
    # 张伟 one digit off with another employer than every one B was seen with, and nothing shared
    bad = typo(B, 15)
    _with_employers(con, [(B, "张伟", "150102", F1)],
                    [{"id_number": bad, "name": "张伟", "region_code": "150102", "employer_uscc": F2}])
    link_month(con, MONTH)
    assert links(con) == {}
    reason = con.execute("SELECT reason FROM review_queue").fetchall()[0][0]
    assert "(conflict)" in reason and "单位不同" in reason


def test_nameless_ledger_ids_follow_named_records_and_firms_by_applicant_type(con):
    bad = typo(A, 11)
    firm = firm_id("91150102MA0N2XQ41")
    bad_firm = typo(firm, 12, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    base_people(con, extra_grad=[{"id_number": bad, "name": "王晓明", "region_code": "150102"}],
                ledger=[{"application_id": "L1", "applicant_type": "个人", "applicant_id": bad,
                         "beneficiary_id_number": bad, "handler_id_number": B, "region_code": "150102"},
                        {"application_id": "L2", "applicant_type": "单位", "applicant_id": bad_firm,
                         "beneficiary_id_number": A, "handler_id_number": B, "region_code": "150102"}])
    make_asof(con, "business_registration", [{"uscc": firm, "name": "呼和浩特市华强商贸有限公司",
                                              "legal_rep_id_number": B, "legal_rep_name": "张伟",
                                              "region_code": "150102"}])
    make_asof(con, "hiring_filing", [{"employer_uscc": firm, "employer_name": "华强商贸有限公司",
                                      "id_number": A, "name": "王晓明", "region_code": "150102"}])
    link_month(con, MONTH)
    assert links(con)[(bad, None)][:2] == (A, "id_repaired")
    rows = con.execute("SELECT application_id, applicant_id, applicant_id_method, beneficiary_id_number, "
                       "beneficiary_id_number_raw FROM lnk_subsidy_ledger ORDER BY 1").fetchall()
    assert rows[0] == ("L1", A, "id_repaired", A, bad)
    # firm applicant: bad USCC, no name, same county, beneficiary A also filed with the firm → shared employee
    assert rows[1][:3] == ("L2", firm, "fuzzy")


FIRM = firm_id("91150102MA0N2XQ41")
OTHER_FIRM = firm_id("91150203MA0P3YR52")
FIRM_CASES = [
    ("bad USCC, same name", {"employer_uscc": typo(FIRM, 10, "0123456789ABCDEFGHJKLMNPQRTUWXY"),
                             "employer_name": "华强商贸有限责任公司", "region_code": "150102"}, (FIRM, "id_repaired")),
    ("missing USCC, name with region prefix", {"employer_uscc": None, "employer_name": "内蒙古华强商贸有限公司",
                                               "region_code": "150105"}, (FIRM, "fuzzy")),
    ("missing USCC, full-width brackets", {"employer_uscc": None, "employer_name": "草原牧业（集团）有限公司",
                                           "region_code": "150203"}, (OTHER_FIRM, "fuzzy")),
    ("missing USCC, name in another league", {"employer_uscc": None, "employer_name": "华强商贸有限公司",
                                              "region_code": "152502"}, None),
    ("bad USCC, other firm's name", {"employer_uscc": typo(FIRM, 10, "0123456789ABCDEFGHJKLMNPQRTUWXY"),
                                     "employer_name": "宏达建材有限公司", "region_code": "150102"}, None),
]


@pytest.mark.parametrize("desc,record,expected", FIRM_CASES, ids=[c[0] for c in FIRM_CASES])
def test_firm_cases(con, desc, record, expected):
    make_asof(con, "business_registration", [
        {"uscc": FIRM, "name": "呼和浩特市华强商贸有限公司", "region_code": "150102"},
        {"uscc": OTHER_FIRM, "name": "包头市草原牧业(集团)有限公司", "region_code": "150203"}])
    make_asof(con, "hiring_filing", [{**record, "id_number": A, "name": "王晓明"}])
    link_month(con, MONTH)
    got = con.execute("SELECT uscc, method FROM firm_links WHERE run_month = ?", [MONTH]).fetchall()
    assert got == ([expected] if expected else [])
    lnk = con.execute("SELECT employer_uscc, employer_uscc_raw FROM lnk_hiring_filing").fetchall()[0]
    assert lnk == ((expected[0] if expected else None), record["employer_uscc"])


def test_rerun_replaces_the_month_and_stats(con):
    base_people(con, extra_grad=[{"id_number": typo(A, 10), "name": "王晓明", "region_code": "150102"},
                                 {"id_number": typo(B, 4), "name": "張偉", "region_code": "150102"}])
    first = link_month(con, MONTH)
    second = link_month(con, MONTH)
    assert first["person_links"] == second["person_links"] == {"id_repaired": 2}
    assert con.execute("SELECT count(*) FROM person_links").fetchall()[0][0] == 2
    stats = con.execute("SELECT stage, blocking_key, candidate_pairs, links, method FROM link_stats "
                        "WHERE run_month = ? AND stage = 'person' ORDER BY ALL", [MONTH]).fetchall()
    assert ("person", "id_one_edit", 2, 2, "id_repaired") in stats
    assert ("person", "valid_id", 0, 5, "exact") in stats
    assert second["candidate_pairs"]["person:id_one_edit"] == 2
    cols = [r[0] for r in con.execute("DESCRIBE review_queue").fetchall()]
    assert cols == ["run_month", "kind", "source", "source_file", "source_line", "left_id", "left_name",
                    "left_region", "left_phone", "right_id", "right_name", "right_region", "right_phone",
                    "score", "agreed", "reason"]


def test_missing_sources_are_skipped(con):
    make_asof(con, "graduates", [{"id_number": A, "name": "王晓明", "region_code": "150102"}])
    stats = link_month(con, MONTH)
    assert stats["views"] == ["lnk_graduates"]
    assert stats["person_links"] == {} and stats["review_queue"] == {"person": 0, "firm": 0}


def test_lnk_views_use_only_the_run_month_links(con):
    bad = typo(A, 10)
    base_people(con, extra_grad=[{"id_number": bad, "name": "王晓明", "region_code": "150102"}])
    link_month(con, MONTH)
    stats = link_month(con, "2026-11")
    # the next month holds the link its predecessor made instead of comparing the record again,
    # and the link is kept once, by the run that made it
    assert stats["person_links_carried"] == 1 and stats["person_residue_records"] == 0
    assert stats["person_links"] == {"id_repaired": 1}
    assert con.execute("SELECT run_month, established_in, method FROM person_links").fetchall() \
        == [(MONTH, MONTH, "id_repaired")]
    assert con.execute("SELECT count(*) FROM lnk_graduates").fetchall()[0][0] == 1
    assert con.execute("SELECT count(*) FROM lnk_social_insurance").fetchall()[0][0] == \
        con.execute("SELECT count(*) FROM asof_social_insurance").fetchall()[0][0]
    assert con.execute("SELECT id_number FROM lnk_graduates").fetchall() == [(A,)]


def test_register_row_with_bad_uscc_links_to_the_unregistered_employer(con):
    firm = firm_id("91150102MA0Q7YK83")
    bad = typo(firm, 13, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    make_asof(con, "business_registration", [{"uscc": bad, "name": "呼和浩特市鑫源物流有限公司", "region_code": "150102"}])
    make_asof(con, "social_insurance", [{"id_number": A, "name": "王晓明", "employer_uscc": firm, "region_code": "150102"}])
    link_month(con, MONTH)
    got = con.execute("SELECT raw_uscc, uscc, method, agreed FROM firm_links").fetchall()
    assert got[0][:3] == (bad, firm, "fuzzy") and "register_gap" in got[0][3]
    # the same bad row when the candidate already has its own register row: not enough → review
    make_asof(con, "business_registration", [{"uscc": bad, "name": "呼和浩特市鑫源物流有限公司", "region_code": "150102"},
                                              {"uscc": firm, "name": "宏达建材有限公司", "region_code": "150102"}])
    link_month(con, MONTH)
    assert con.execute("SELECT count(*) FROM firm_links WHERE run_month = ?", [MONTH]).fetchall()[0][0] == 0


def test_firm_review_loop(con, tmp_path):
    firm = firm_id("91150102MA0Q7YK83")
    bad = typo(firm, 11, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    make_asof(con, "business_registration", [{"uscc": firm, "name": "鑫源物流有限公司", "region_code": "150102"}])
    # a social-insurance row with a broken employer USCC and an employee never seen with the firm
    make_asof(con, "social_insurance", [{"id_number": B, "name": "张伟", "employer_uscc": bad, "region_code": "150102"}])
    link_month(con, MONTH)
    queue = con.execute("SELECT kind, left_id, left_name, left_region, right_id, reason FROM review_queue").fetchall()
    assert queue == [("firm", bad, None, "150102", firm, queue[0][5])] and queue[0][5].startswith("存疑") and "(grey band)" in queue[0][5]
    decisions = tmp_path / "review_decisions.csv"
    decisions.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                         f"firm,{bad},,{firm},confirm,analyst2,2026-11-03\n", encoding="utf-8")
    link_month(con, MONTH)
    assert con.execute("SELECT raw_uscc, uscc, method, score FROM firm_links").fetchall() == [(bad, firm, "reviewed", 1.0)]
    assert con.execute("SELECT employer_uscc, employer_uscc_method FROM lnk_social_insurance").fetchall() == \
        [(firm, "reviewed")]
    assert con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0] == 0
    decisions.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                         f"firm,{bad},,{firm},reject,analyst2,2026-11-04\n", encoding="utf-8")
    link_month(con, MONTH)
    assert con.execute("SELECT count(*) FROM firm_links").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0] == 0


def test_a_rejected_link_is_retired_by_the_next_month_and_kept_for_the_month_that_made_it(con, tmp_path):
    from matchers.state import links_asof_sql
    bad = typo(A, 10)
    base_people(con, extra_grad=[{"id_number": bad, "name": "王晓明", "region_code": "150102"}])
    link_month(con, MONTH)
    assert links(con)[(bad, "王晓明")][:2] == (A, "id_repaired")
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("kind,raw_id,name,candidate_id,decision,reviewer,date\n"
                         f"person,{bad},王晓明,{A},reject,analyst1,2026-11-02\n", encoding="utf-8")
    stats = link_month(con, "2026-11", decisions_file=decisions)
    assert stats["person_links"] == {} and stats["person_links_carried"] == 0

    def in_force(month):
        return con.execute(f"SELECT raw_id, person_id FROM ({links_asof_sql('person', month)})").fetchall()
    assert in_force("2026-11") == [] and in_force(MONTH) == [(bad, A)]
    assert con.execute("SELECT run_month, method FROM person_links ORDER BY run_month").fetchall() == [
        (MONTH, "id_repaired"), ("2026-11", "retired")]
    assert con.execute("SELECT id_number FROM lnk_graduates").fetchall() == [(None,)]
    # the month that made the link, run again, still makes it (a later retirement does not reach back)
    link_month(con, MONTH)
    assert in_force(MONTH) == [(bad, A)] and in_force("2026-11") == []
