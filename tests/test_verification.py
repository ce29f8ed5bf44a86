"""核查 checks on hand-built ledgers in a real DuckDB file.

Each check has a positive case and a clean near-miss. Deadlines are worked out by hand from the
State Council holiday notices for 2025 and 2026 (see tests/test_workdays.py), not from the code.
"""

import datetime as dt
import itertools
from decimal import Decimal

import duckdb
import pytest

from zhibu.verification import CHECK_CODES, VerificationInputError, verify_month
from zhibu.workdays import CalendarYearNotCovered

D = dt.date

FIRM_A = "91150102MA0000001A"
FIRM_B = "91150203MA0000002B"
P1 = "150102199901011234"
P2 = "150102199902021234"
P3 = "150203199903031234"
CLERK = "150102198001011111"

ID_COLUMNS = ("applicant_id", "beneficiary_id_number", "handler_id_number")

INPUT_TABLES = {
    "lnk_subsidy_ledger": {
        "application_id": "VARCHAR", "policy_code": "VARCHAR", "applicant_type": "VARCHAR",
        "applicant_id": "VARCHAR", "beneficiary_id_number": "VARCHAR", "subsidy_month": "DATE",
        "amount": "DECIMAL(12,2)", "apply_date": "DATE", "accept_date": "DATE", "review_date": "DATE",
        "pay_date": "DATE", "status": "VARCHAR", "channel": "VARCHAR", "handler_id_number": "VARCHAR",
        "region_code": "VARCHAR", "extract_month": "DATE",
        **{f"{c}_{suffix}": t for c in ID_COLUMNS
           for suffix, t in (("raw", "VARCHAR"), ("method", "VARCHAR"), ("score", "DOUBLE"))},
    },
    "lnk_fiscal_staff": {"id_number": "VARCHAR", "name": "VARCHAR", "work_unit": "VARCHAR", "region_code": "VARCHAR"},
    "lnk_deceased": {"id_number": "VARCHAR", "name": "VARCHAR", "death_date": "DATE"},
    "lnk_social_insurance": {
        "id_number": "VARCHAR", "name": "VARCHAR", "employer_uscc": "VARCHAR", "insured_type": "VARCHAR",
        "insurance_type": "VARCHAR", "contribution_month": "DATE", "contribution_base": "DECIMAL(12,2)",
        "employer_amount": "DECIMAL(12,2)", "individual_amount": "DECIMAL(12,2)", "credited_date": "DATE",
        "region_code": "VARCHAR", "extract_month": "DATE",
    },
    "lnk_hiring_filing": {
        "employer_uscc": "VARCHAR", "employer_name": "VARCHAR", "id_number": "VARCHAR", "name": "VARCHAR",
        "filing_type": "VARCHAR", "contract_start": "DATE", "contract_end": "DATE",
        "contract_term_type": "VARCHAR", "filing_date": "DATE", "region_code": "VARCHAR",
    },
    "lnk_business_registration": {
        "uscc": "VARCHAR", "name": "VARCHAR", "entity_type": "VARCHAR", "enterprise_scale": "VARCHAR",
        "legal_rep_id_number": "VARCHAR", "legal_rep_name": "VARCHAR", "established_date": "DATE",
        "status": "VARCHAR", "status_date": "DATE", "serious_dishonest": "BOOLEAN", "phone": "VARCHAR",
        "region_code": "VARCHAR",
    },
    "lnk_poverty_alleviation": {
        "id_number": "VARCHAR", "name": "VARCHAR", "household_id": "VARCHAR", "population_type": "VARCHAR",
        "is_labor_force": "BOOLEAN", "phone": "VARCHAR", "region_code": "VARCHAR",
    },
    "lnk_employment_registration": {
        "id_number": "VARCHAR", "name": "VARCHAR", "registration_type": "VARCHAR", "registration_date": "DATE",
        "employment_form": "VARCHAR", "employer_uscc": "VARCHAR", "hardship_category": "VARCHAR",
        "phone": "VARCHAR", "region_code": "VARCHAR",
    },
    "lnk_graduates": {
        "id_number": "VARCHAR", "name": "VARCHAR", "school": "VARCHAR", "degree": "VARCHAR",
        "graduation_date": "DATE", "hardship_types": "VARCHAR[]", "region_code": "VARCHAR", "phone": "VARCHAR",
    },
    "eligibility": {
        "run_month": "VARCHAR", "policy_code": "VARCHAR", "beneficiary_type": "VARCHAR",
        "beneficiary_id": "VARCHAR", "beneficiary_name": "VARCHAR", "person_id_number": "VARCHAR",
        "person_name": "VARCHAR", "amount": "DECIMAL(12,2)", "period_start": "VARCHAR",
        "period_end": "VARCHAR", "region_code": "VARCHAR", "league_code": "VARCHAR",
        "match_method": "VARCHAR", "match_score": "DOUBLE", "evidence": "VARCHAR", "phone": "VARCHAR",
    },
}


class Warehouse:
    """A warehouse file with the verification inputs as plain tables."""

    def __init__(self, path):
        self.con = duckdb.connect(str(path))
        self._ids = itertools.count(1)
        for table, columns in INPUT_TABLES.items():
            cols = ", ".join(f"{name} {type_}" for name, type_ in columns.items())
            self.con.execute(f"CREATE TABLE {table} ({cols})")

    def add(self, table, **row):
        unknown = set(row) - set(INPUT_TABLES[table])
        assert not unknown, unknown
        names = list(row)
        self.con.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [row[n] for n in names],
        )

    def grant(self, **row):
        """A ledger row: a paid firm one-off grant unless told otherwise."""
        application_id = row.pop("application_id", f"A{next(self._ids):04d}")
        row = {
            "policy_code": "one_time_hiring", "applicant_type": "单位", "applicant_id": FIRM_A,
            "beneficiary_id_number": P1, "amount": Decimal("1500.00"), "channel": "直补快办",
            "handler_id_number": CLERK, "region_code": "150102", **row,
        }
        row.setdefault("status", self._status(row))
        if "extract_month" not in row:
            last = max(d for d in (row.get(k) for k in ("apply_date", "accept_date", "review_date", "pay_date")) if d)
            row["extract_month"] = last.replace(day=1)
        for col in ID_COLUMNS:
            row.setdefault(f"{col}_raw", row[col])
            row.setdefault(f"{col}_method", "exact")
            row.setdefault(f"{col}_score", 1.0)
        self.add("lnk_subsidy_ledger", application_id=application_id, **row)
        return application_id

    @staticmethod
    def _status(row):
        for col, status in (("pay_date", "已拨付"), ("review_date", "已审核"), ("accept_date", "已受理")):
            if row.get(col):
                return status
        return "已申请"

    def paid_grant(self, pay_date, **row):
        """A grant that went through every stage promptly and was paid on pay_date."""
        row.setdefault("apply_date", pay_date - dt.timedelta(days=3))
        row.setdefault("accept_date", row["apply_date"])
        row.setdefault("review_date", row["apply_date"])
        return self.grant(pay_date=pay_date, **row)

    def run(self, month):
        return verify_month(self.con, month)

    def findings(self, month, check_code=None):
        sql = "SELECT * FROM verification_findings WHERE run_month = ?"
        args = [month]
        if check_code:
            sql += " AND check_code = ?"
            args.append(check_code)
        cur = self.con.execute(sql + " ORDER BY check_code, application_id", args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def flagged(self, month, check_code):
        return {f["application_id"] for f in self.findings(month, check_code)}


@pytest.fixture
def wh(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.con.close()


# -- the output contract ------------------------------------------------------------------------

def test_findings_table_columns_and_empty_run(wh):
    summary = wh.run("2025-10")
    cols = wh.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'verification_findings' ORDER BY ordinal_position"
    ).fetchall()
    assert cols == [
        ("run_month", "VARCHAR"), ("check_code", "VARCHAR"), ("check_name", "VARCHAR"),
        ("application_id", "VARCHAR"), ("policy_code", "VARCHAR"), ("beneficiary_id_number", "VARCHAR"),
        ("region_code", "VARCHAR"), ("league_code", "VARCHAR"), ("facts", "VARCHAR"),
    ]
    assert summary["findings"] == dict.fromkeys(CHECK_CODES, 0)
    assert summary["take_up"]["decisions_listed"] == 0 and summary["take_up"]["paid_share"] is None
    assert summary["as_of"] == D(2025, 10, 31)


def test_missing_input_is_a_clear_error(wh):
    wh.con.execute("DROP TABLE lnk_deceased")
    with pytest.raises(VerificationInputError, match="lnk_deceased"):
        wh.run("2025-10")


def test_bad_month_is_rejected(wh):
    with pytest.raises(ValueError):
        wh.run("2025-13")


def test_rerun_replaces_the_months_rows_only(wh):
    wh.grant(application_id="LATE", apply_date=D(2025, 9, 1))
    wh.run("2025-09")
    wh.run("2025-10")
    wh.run("2025-10")
    assert wh.flagged("2025-10", "overdue_accept") == {"LATE"}
    # also not linked to the firm: an irregularity, reported once (by September's run)
    assert {f["check_code"] for f in wh.findings("2025-09")} == {"overdue_accept", "beneficiary_not_linked"}
    assert len(wh.findings("2025-10")) == 1
    assert wh.flagged("2025-09", "overdue_accept") == {"LATE"}
    # the case is accepted in the next extract: re-running October no longer reports it
    wh.con.execute("UPDATE lnk_subsidy_ledger SET accept_date = DATE '2025-09-05', status = '已受理', "
                   "review_date = DATE '2025-09-10', extract_month = DATE '2025-09-01'")
    wh.run("2025-10")
    assert wh.flagged("2025-10", "overdue_accept") == set()
    assert wh.flagged("2025-09", "overdue_accept") == {"LATE"}


def test_uncovered_calendar_year_is_an_error_naming_the_year(wh):
    wh.grant(apply_date=D(2003, 6, 2))  # still waiting for acceptance; 2003 predates the calendar
    with pytest.raises(CalendarYearNotCovered, match="2003"):
        wh.run("2025-10")


# -- overdue while waiting ----------------------------------------------------------------------

def test_overdue_acceptance_across_spring_festival_2026(wh):
    # 2-14 (Sat) is a working day, 2-15..2-23 off, 2-28 (Sat) a working day and the as-of date.
    late = wh.grant(apply_date=D(2026, 2, 13))  # deadline: 2-14, 2-24, 2-25, 2-26, 2-27
    on_time = wh.grant(apply_date=D(2026, 2, 14))  # deadline: 2-24 .. 2-28 = as-of: not later
    wh.run("2026-02")
    findings = wh.findings("2026-02", "overdue_accept")
    assert [f["application_id"] for f in findings] == [late]
    assert on_time not in wh.flagged("2026-02", "overdue_accept")
    f = findings[0]
    assert f["check_name"] == "超期未受理"
    assert f["facts"].startswith("申请2026-02-13，受理时限2026-02-27（5个工作日），截至2026-02-28仍未受理，超期1个工作日")
    assert f["region_code"] == "150102" and f["league_code"] == "150100"
    assert f["policy_code"] == "one_time_hiring" and f["beneficiary_id_number"] == P1


def test_overdue_acceptance_across_national_day_2025(wh):
    waiting = wh.grant(apply_date=D(2025, 9, 26))  # deadline 9-28 (Sun), 9-29, 9-30, 10-9, 10-10
    wh.run("2025-09")
    assert wh.flagged("2025-09", "overdue_accept") == set()
    wh.run("2025-10")
    (f,) = wh.findings("2025-10", "overdue_accept")
    assert f["application_id"] == waiting
    # working days after 10-10 up to 10-31: 10-11 (Sat), 13-17, 20-24, 27-31
    assert "受理时限2025-10-10" in f["facts"] and "超期16个工作日" in f["facts"]


def test_accepted_on_the_fifth_working_day_is_not_overdue_acceptance(wh):
    # accepted exactly on the deadline (10-10); then waiting for review: 10 working days after
    # 10-10 are 10-11 (Sat), 13, 14, 15, 16, 17, 20, 21, 22, 23 -> overdue for review on 10-31
    case = wh.grant(apply_date=D(2025, 9, 26), accept_date=D(2025, 10, 10))
    wh.run("2025-10")
    assert wh.flagged("2025-10", "overdue_accept") == set()
    (f,) = wh.findings("2025-10", "overdue_review")
    assert f["application_id"] == case and f["check_name"] == "超期未审核"
    assert "受理2025-10-10，审核时限2025-10-23（10个工作日），截至2025-10-31仍未审核，超期6个工作日" in f["facts"]


def test_rejected_cases_are_not_waiting(wh):
    wh.grant(apply_date=D(2025, 3, 3), status="不予受理")
    wh.grant(apply_date=D(2025, 3, 3), accept_date=D(2025, 3, 4), review_date=D(2025, 3, 5), status="审核不通过")
    wh.grant(apply_date=D(2025, 3, 3), accept_date=D(2025, 3, 4), status="审核不通过")
    wh.run("2025-06")
    assert wh.findings("2025-06") == []


def test_overdue_review_at_year_end(wh):
    # 10 working days after 12-17: 18, 19, 22, 23, 24, 25, 26, 29, 30, 31 -> the as-of date itself
    on_time = wh.grant(apply_date=D(2025, 12, 16), accept_date=D(2025, 12, 17))
    late = wh.grant(apply_date=D(2025, 12, 15), accept_date=D(2025, 12, 16))  # deadline 12-30
    # deadline falls in 2026: not overdue on 2025-12-31, and no 2026 lookup needed to say so
    fresh = wh.grant(apply_date=D(2025, 12, 29), accept_date=D(2025, 12, 29))
    wh.run("2025-12")
    assert wh.flagged("2025-12", "overdue_review") == {late}
    assert on_time not in wh.flagged("2025-12", "overdue_review")
    assert fresh not in wh.flagged("2025-12", "overdue_review")
    assert "超期1个工作日" in wh.findings("2025-12", "overdue_review")[0]["facts"]


def test_overdue_payment_after_labour_day_2026(wh):
    # 5 working days after 4-30: 5-6, 5-7, 5-8, 5-9 (Sat), 5-11
    late = wh.grant(apply_date=D(2026, 4, 27), accept_date=D(2026, 4, 28), review_date=D(2026, 4, 30))
    # 5 working days after 5-25: 26, 27, 28, 29, 6-1 -> not yet due on 5-31
    due_in_june = wh.grant(apply_date=D(2026, 5, 20), accept_date=D(2026, 5, 21), review_date=D(2026, 5, 25))
    # deadline 5-29 (Fri); the as-of date 5-31 is a Sunday: later than the deadline day, 0 working days late
    just_past = wh.grant(apply_date=D(2026, 5, 20), accept_date=D(2026, 5, 21), review_date=D(2026, 5, 22))
    wh.run("2026-05")
    findings = {f["application_id"]: f for f in wh.findings("2026-05", "overdue_payment")}
    assert set(findings) == {late, just_past}
    assert due_in_june not in findings
    assert "拨付时限2026-05-11" in findings[late]["facts"] and "超期14个工作日" in findings[late]["facts"]
    assert "已过时限日（其后尚无工作日）" in findings[just_past]["facts"]
    assert findings[late]["check_name"] == "超期未拨付"


def test_status_says_accepted_without_a_date(wh):
    # status 已受理 but no 受理日期: it was accepted (not waiting for acceptance); the review clock
    # cannot be started without the date, so nothing is reported
    wh.grant(apply_date=D(2025, 3, 3), status="已受理")
    wh.run("2025-06")
    assert {f["check_code"] for f in wh.findings("2025-06")} == {"beneficiary_not_linked"}


def test_case_applied_after_the_as_of_date_is_not_overdue(wh):
    wh.grant(apply_date=D(2025, 11, 3), extract_month=D(2025, 10, 1))
    wh.run("2025-10")
    assert wh.flagged("2025-10", "overdue_accept") == set()


# -- 超期办结 -------------------------------------------------------------------------------------

def test_overdue_completion_reported_by_the_extract_month_of_the_payment(wh):
    # 20 working days after 9-15: 16-19 (4), 22-26 (9), 28 Sun (10), 29, 30 (12), 10-9, 10, 11 Sat (15),
    # 13-17 (20) -> deadline 10-17
    on_time = wh.paid_grant(apply_date=D(2025, 9, 15), pay_date=D(2025, 10, 17))
    late = wh.paid_grant(apply_date=D(2025, 9, 15), pay_date=D(2025, 10, 20))
    late_next_extract = wh.paid_grant(apply_date=D(2025, 9, 15), pay_date=D(2025, 10, 20),
                                      extract_month=D(2025, 11, 1))
    wh.run("2025-10")
    (f,) = wh.findings("2025-10", "overdue_completion")
    assert f["application_id"] == late and f["check_name"] == "超期办结"
    assert "拨付2025-10-20" in f["facts"]
    assert "办结时限2025-10-17（20个工作日），用时21个工作日，超期1个工作日" in f["facts"]
    assert on_time not in wh.flagged("2025-10", "overdue_completion")
    wh.run("2025-11")
    assert wh.flagged("2025-11", "overdue_completion") == {late_next_extract}


# -- irregular payments -------------------------------------------------------------------------

def test_paid_to_fiscal_staff_whoever_received_the_money(wh):
    wh.add("lnk_fiscal_staff", id_number=P1, name="张伟", work_unit="某旗教育局", region_code="150102")
    via_firm = wh.paid_grant(D(2025, 5, 10))
    direct = wh.paid_grant(D(2025, 5, 12), policy_code="job_search", applicant_type="个人", applicant_id=P1,
                           amount=Decimal("2000.00"))
    wh.grant(apply_date=D(2025, 5, 6), accept_date=D(2025, 5, 7), review_date=D(2025, 5, 8),
             status="审核不通过")  # rejected: no grant
    wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=P2)  # not on the list
    wh.run("2025-05")
    findings = {f["application_id"]: f for f in wh.findings("2025-05", "paid_to_fiscal_staff")}
    assert set(findings) == {via_firm, direct}
    assert findings[via_firm]["facts"] == (
        f"受益人在财政供养人员名单中（工作单位：某旗教育局）；一次性扩岗补助 1500.00元，2025-05-10拨付，申领主体：单位 {FIRM_A}"
    )
    assert findings[via_firm]["check_name"] == "向财政供养人员发放补贴"


def test_paid_after_death(wh):
    wh.add("lnk_deceased", id_number=P1, name="张伟", death_date=D(2025, 3, 20))
    month_after = wh.paid_grant(D(2025, 5, 10), policy_code="hiring_social_insurance",
                                subsidy_month=D(2025, 4, 1), amount=Decimal("812.34"))
    month_of_death = wh.paid_grant(D(2025, 5, 10), policy_code="hiring_social_insurance",
                                   subsidy_month=D(2025, 3, 1), amount=Decimal("812.34"))
    one_off_after = wh.paid_grant(D(2025, 3, 21))
    one_off_same_day = wh.paid_grant(D(2025, 3, 20), beneficiary_id_number=P1, applicant_id=FIRM_B)
    pending_one_off = wh.grant(apply_date=D(2025, 3, 10), accept_date=D(2025, 3, 12), policy_code="job_search",
                               applicant_type="个人", applicant_id=P1)
    wh.run("2025-05")
    flagged = wh.flagged("2025-05", "paid_after_death")
    assert flagged == {month_after, one_off_after, pending_one_off}
    assert month_of_death not in flagged and one_off_same_day not in flagged
    facts = {f["application_id"]: f["facts"] for f in wh.findings("2025-05", "paid_after_death")}
    assert facts[month_after] == (
        f"死亡日期2025-03-20，补贴所属期2025-04晚于死亡当月；企业吸纳就业社会保险补贴 812.34元，2025-05-10拨付，申领主体：单位 {FIRM_A}"
    )
    assert facts[one_off_after].startswith("死亡日期2025-03-20，一次性补贴于死亡后拨付；一次性扩岗补助 1500.00元，2025-03-21拨付")
    assert facts[pending_one_off].startswith("死亡日期2025-03-20，死亡后申领仍在办理；求职创业补贴 1500.00元，尚未拨付（状态：已受理）")


def test_duplicate_one_off_any_firm_any_region(wh):
    first = wh.paid_grant(D(2025, 4, 10), applicant_id=FIRM_A, region_code="150102")
    second = wh.paid_grant(D(2025, 7, 10), applicant_id=FIRM_B, region_code="150203")
    wh.paid_grant(D(2025, 7, 10), beneficiary_id_number=P2)  # once only: clean
    wh.grant(apply_date=D(2025, 7, 1), beneficiary_id_number=P2, status="不予受理")  # rejected second claim
    wh.paid_grant(D(2025, 7, 10), beneficiary_id_number=P2, policy_code="job_search",
                  applicant_type="个人", applicant_id=P2)  # another policy
    for month in (D(2025, 5, 1), D(2025, 6, 1)):  # a recurring policy repeats by nature
        wh.paid_grant(D(2025, 7, 10), beneficiary_id_number=P3, policy_code="hiring_social_insurance",
                      subsidy_month=month)
    wh.run("2025-07")
    (f,) = wh.findings("2025-07", "duplicate_one_off")
    assert f["application_id"] == second and first not in wh.flagged("2025-07", "duplicate_one_off")
    assert f["region_code"] == "150203" and f["league_code"] == "150200"
    assert f["facts"] == (
        f"同一人员一次性扩岗补助每人限享受一次，本笔为第2笔（1500.00元，2025-07-10拨付，申领主体：单位 {FIRM_B}）"
        f"；此前已有：{first}（{FIRM_A}，区划150102，1500.00元，2025-04-10拨付）"
    )


def test_duplicate_one_off_the_paid_grant_stands(wh):
    # an older application still in process is the duplicate of a grant already paid
    pending = wh.grant(apply_date=D(2025, 3, 3), accept_date=D(2025, 3, 5), beneficiary_id_number=P2,
                       policy_code="startup_one_time", applicant_type="个人", applicant_id=P2,
                       amount=Decimal("5000.00"))
    paid = wh.paid_grant(D(2025, 6, 10), beneficiary_id_number=P2, policy_code="startup_one_time",
                         applicant_type="个人", applicant_id=P2, amount=Decimal("5000.00"), region_code="150203")
    third = wh.grant(apply_date=D(2025, 6, 20), beneficiary_id_number=P2, policy_code="startup_one_time",
                     applicant_type="个人", applicant_id=P2, amount=Decimal("5000.00"))
    wh.run("2025-06")
    findings = {f["application_id"]: f for f in wh.findings("2025-06", "duplicate_one_off")}
    assert set(findings) == {pending, third}
    assert paid not in findings
    assert "本笔为第3笔" in findings[third]["facts"]
    assert findings[third]["facts"].endswith(f"此前已有：{paid}（{P2}，区划150203，5000.00元，2025-06-10拨付）"
                                             f"；{pending}（{P2}，区划150102，5000.00元，尚未拨付（状态：已受理））")


def test_no_contribution_behind_a_social_insurance_month(wh):
    def contribution(id_number, month, firm, insured_type="单位职工", insurance_type="110",
                     employer_amount="400.00", individual_amount="160.00"):
        wh.add("lnk_social_insurance", id_number=id_number, employer_uscc=firm, insured_type=insured_type,
               insurance_type=insurance_type, contribution_month=month, employer_amount=Decimal(employer_amount),
               individual_amount=Decimal(individual_amount), credited_date=month.replace(day=20))

    contribution(P1, D(2025, 3, 1), FIRM_A)
    contribution(P1, D(2025, 4, 1), FIRM_A, insurance_type="410")  # 工伤 only: not a subsidised type
    contribution(P1, D(2025, 5, 1), FIRM_B)  # another firm paid
    contribution(P2, D(2025, 3, 1), None, insured_type="灵活就业人员", employer_amount="0.00")
    contribution(P2, D(2025, 4, 1), FIRM_A)  # a firm contribution does not back a flexible month

    hsi = dict(policy_code="hiring_social_insurance", amount=Decimal("612.00"))
    backed = wh.paid_grant(D(2025, 6, 10), subsidy_month=D(2025, 3, 1), **hsi)
    only_injury = wh.paid_grant(D(2025, 6, 10), subsidy_month=D(2025, 4, 1), **hsi)
    other_firm = wh.paid_grant(D(2025, 6, 10), subsidy_month=D(2025, 5, 1), **hsi)
    flex = dict(policy_code="flexible_social_insurance", applicant_type="个人", applicant_id=P2,
                beneficiary_id_number=P2, amount=Decimal("213.33"))
    flex_backed = wh.paid_grant(D(2025, 6, 10), subsidy_month=D(2025, 3, 1), **flex)
    flex_unbacked = wh.paid_grant(D(2025, 6, 10), subsidy_month=D(2025, 4, 1), **flex)
    wh.run("2025-06")
    findings = {f["application_id"]: f for f in wh.findings("2025-06", "no_contributions")}
    assert set(findings) == {only_injury, other_firm, flex_unbacked}
    assert backed not in findings and flex_backed not in findings
    assert findings[other_firm]["facts"] == (
        f"企业吸纳就业社会保险补贴所属期2025-05：申领单位{FIRM_A}在该月没有为该人员缴纳单位职工社会保险（养老/失业/医疗）"
        "；补贴612.00元，2025-06-10拨付"
    )
    assert "灵活就业人员" in findings[flex_unbacked]["facts"]


def test_beneficiary_not_linked_to_the_applicant_firm(wh):
    wh.add("lnk_business_registration", uscc=FIRM_A, name="呼和浩特市某某科技有限公司", legal_rep_id_number=P3)
    wh.add("lnk_hiring_filing", employer_uscc=FIRM_A, id_number=P1, filing_type="招用", contract_start=D(2025, 1, 2))
    wh.add("lnk_social_insurance", id_number=P2, employer_uscc=FIRM_A, insured_type="单位职工",
           insurance_type="410", contribution_month=D(2025, 2, 1), employer_amount=Decimal("10.00"),
           individual_amount=Decimal("0.00"))
    filed = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=P1)
    insured = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=P2)
    stranger = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=P3)
    filed_elsewhere = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=P1, applicant_id=FIRM_B)
    wh.paid_grant(D(2025, 5, 10), policy_code="job_search", applicant_type="个人", applicant_id=P3,
                  beneficiary_id_number=P3)  # a person's own claim: no firm to link
    wh.run("2025-05")
    findings = {f["application_id"]: f for f in wh.findings("2025-05", "beneficiary_not_linked")}
    assert set(findings) == {stranger, filed_elsewhere}
    assert filed not in findings and insured not in findings
    assert findings[stranger]["facts"].startswith(
        f"申领单位{FIRM_A}（呼和浩特市某某科技有限公司）与受益人既无用工备案，也无该单位为其缴纳社会保险的记录"
    )


def test_handler_conflicts(wh):
    relative, phone_friend, rep, clean, stranger = (
        "150102199001010001", "150102199001010002", "150102199001010003",
        "150102199001010004", "150102199001010005",
    )
    wh.add("lnk_business_registration", uscc=FIRM_B, name="包头市某某商贸有限公司", legal_rep_id_number=rep)
    wh.add("lnk_poverty_alleviation", id_number=CLERK, household_id="H001", phone="13800001111")
    wh.add("lnk_poverty_alleviation", id_number=relative, household_id="H001")
    wh.add("lnk_poverty_alleviation", id_number=clean, household_id="H002", phone="13900002222")
    wh.add("lnk_graduates", id_number=phone_friend, phone="13800001111")
    wh.add("lnk_employment_registration", id_number=stranger, phone="13700003333")

    own = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=CLERK)
    household = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=relative)
    phone = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=phone_friend)
    legal_rep = wh.paid_grant(D(2025, 5, 10), applicant_id=FIRM_B, beneficiary_id_number=stranger,
                              handler_id_number=rep)
    no_conflict = wh.paid_grant(D(2025, 5, 10), beneficiary_id_number=clean)
    wh.grant(apply_date=D(2025, 5, 6), beneficiary_id_number=relative, status="不予受理")  # rejected
    wh.run("2025-05")
    findings = {(f["check_code"], f["application_id"]): f for f in wh.findings("2025-05")
                if f["check_code"].startswith("handler_")}
    assert set(findings) == {
        ("handler_is_beneficiary", own),
        ("handler_same_household", household),
        ("handler_same_phone", phone),
        ("handler_is_legal_rep", legal_rep),
    }
    assert no_conflict not in {app for _code, app in findings}
    assert findings[("handler_is_beneficiary", own)]["facts"].startswith("经办人即受益人本人；一次性扩岗补助 1500.00元")
    assert findings[("handler_same_household", household)]["facts"].startswith(
        "经办人与受益人在脱贫人口名单中同户（户编号H001）；")
    assert findings[("handler_same_phone", phone)]["facts"].startswith("经办人与受益人登记的联系电话相同（138****1111）；")
    assert findings[("handler_is_legal_rep", legal_rep)]["facts"].startswith(
        "经办人是申领单位（包头市某某商贸有限公司）的法定代表人；")
    assert findings[("handler_is_beneficiary", own)]["check_name"] == "优亲厚友：经办人即受益人"


def test_handler_conflicts_each_reported_once_per_application(wh):
    wh.add("lnk_business_registration", uscc=FIRM_A, legal_rep_id_number=CLERK, name="某公司", phone="13800001111")
    wh.add("lnk_poverty_alleviation", id_number=CLERK, household_id="H9", phone="13800001111")
    wh.add("lnk_poverty_alleviation", id_number=P1, household_id="H9", phone="13800001111")
    wh.add("lnk_graduates", id_number=P1, phone="13800001111")
    wh.add("lnk_employment_registration", id_number=P1, phone="13900002222")
    wh.add("lnk_employment_registration", id_number=CLERK, phone="13900002222")
    case = wh.paid_grant(D(2025, 5, 10))
    wh.run("2025-05")
    findings = {f["check_code"]: f for f in wh.findings("2025-05") if f["check_code"].startswith("handler_")}
    assert set(findings) == {"handler_is_legal_rep", "handler_same_household", "handler_same_phone"}
    assert len([f for f in wh.findings("2025-05") if f["check_code"].startswith("handler_")]) == 3
    assert all(f["application_id"] == case for f in findings.values())
    assert findings["handler_same_phone"]["facts"].startswith(
        "经办人与受益人登记的联系电话相同（138****1111、139****2222）；一次性扩岗补助")


# -- firms for joint verification and the random sample -----------------------------------------

def _firm(i):
    return f"91150102MA{i:07d}X"


def test_firm_ranking_and_reproducible_random_sample(wh):
    # 40 firms paid in the window: firm 1 the largest amount, firm 2 the most persons,
    # firm 3 the most person-months; top 5% of 40 = 2 firms per measure
    for i in range(1, 41):
        wh.paid_grant(D(2025, 6, 10), applicant_id=_firm(i), beneficiary_id_number=f"1501021990010{i:05d}",
                      amount=Decimal("1000.00") + i)
    wh.paid_grant(D(2025, 6, 10), applicant_id=_firm(1), beneficiary_id_number=P1, amount=Decimal("90000.00"))
    for k in range(5):
        wh.paid_grant(D(2025, 6, 10), applicant_id=_firm(2), beneficiary_id_number=f"15010219910101{k:04d}",
                      amount=Decimal("10.00"))
    for m in range(1, 8):
        wh.paid_grant(D(2025, 6, 10), applicant_id=_firm(3), beneficiary_id_number=P2,
                      policy_code="hiring_social_insurance", subsidy_month=D(2025, m, 1), amount=Decimal("1.00"))
    wh.paid_grant(D(2024, 6, 30), applicant_id=_firm(99), amount=Decimal("999999.00"))  # outside the 12 months
    summary = wh.run("2025-06")

    rows = wh.con.execute(
        "SELECT employer_uscc, selection, reason, amount, persons, months, amount_rank, draw_no, firms_ranked "
        "FROM verification_sample WHERE run_month = '2025-06'"
    ).fetchall()
    ranking = {r[0]: r for r in rows if r[1] == "ranking"}
    random_rows = [r for r in rows if r[1] == "random"]
    assert _firm(99) not in {r[0] for r in rows}
    assert {_firm(1), _firm(2), _firm(3)} <= set(ranking)
    assert ranking[_firm(1)][3] == Decimal("91001.00") and ranking[_firm(1)][6] == 1
    assert "补贴金额居前5%（第1名）" in ranking[_firm(1)][2]
    assert "受益人数居前5%（第1名）" in ranking[_firm(2)][2]
    assert "补贴人月数居前5%（第1名）" in ranking[_firm(3)][2]
    assert ranking[_firm(3)][5] == 7
    assert all(r[8] == 40 for r in rows)
    assert len(random_rows) == 20 and sorted(r[7] for r in random_rows) == list(range(1, 21))
    assert not set(ranking) & {r[0] for r in random_rows}
    assert summary["sample"] == {"firms_ranked": 40, "ranking": len(ranking), "random": 20}

    # reproducible for the same month, different for another month
    drawn = sorted((r[7], r[0]) for r in random_rows)
    wh.run("2025-06")
    again = sorted(wh.con.execute(
        "SELECT draw_no, employer_uscc FROM verification_sample WHERE run_month = '2025-06' AND selection = 'random'"
    ).fetchall())
    assert again == drawn
    wh.run("2025-07")
    july = sorted(wh.con.execute(
        "SELECT draw_no, employer_uscc FROM verification_sample WHERE run_month = '2025-07' AND selection = 'random'"
    ).fetchall())
    assert july != drawn


def test_ties_do_not_flood_the_top_five_percent(wh):
    # 30 firms, each paid once 1500.00 for one person: nobody stands out, so none is "top 5%";
    # 20 of them are drawn for unannounced checks
    for i in range(1, 31):
        wh.paid_grant(D(2025, 6, 10), applicant_id=_firm(i), beneficiary_id_number=f"1501021990010{i:05d}")
    summary = wh.run("2025-06")
    assert summary["sample"] == {"firms_ranked": 30, "ranking": 0, "random": 20}


def test_sample_money_is_decimal(wh):
    wh.paid_grant(D(2025, 6, 10), amount=Decimal("0.10"))
    wh.paid_grant(D(2025, 6, 10), amount=Decimal("0.20"), beneficiary_id_number=P2)
    wh.run("2025-06")
    (amount, type_), = wh.con.execute(
        "SELECT amount, typeof(amount) FROM verification_sample WHERE run_month = '2025-06'"
    ).fetchall()
    assert amount == Decimal("0.30") and type_ == "DECIMAL(12,2)"


# -- take-up ------------------------------------------------------------------------------------

def test_take_up_of_earlier_listings(wh):
    def listed(run_month, person, policy="one_time_hiring", firm=FIRM_A, period=(None, None)):
        wh.add("eligibility", run_month=run_month, policy_code=policy, beneficiary_type="firm",
               beneficiary_id=firm, person_id_number=person, amount=Decimal("1500.00"),
               period_start=period[0], period_end=period[1])

    # listed in 2025-09: 20 working days after 9-30 are 10-9, 10, 11 (Sat), 13-17, 20-24, 27-31, 11-3, 11-4
    listed("2025-09", P1)
    listed("2025-09", P2)
    listed("2025-09", P3)
    listed("2025-09", P3, policy="hiring_social_insurance", period=("2025-07", "2025-08"))
    listed("2025-11", "150102199905051234")  # this run's own listing: not counted
    wh.paid_grant(D(2025, 11, 4), beneficiary_id_number=P1)  # on the 20th working day
    wh.paid_grant(D(2025, 11, 5), beneficiary_id_number=P2)  # one day late
    wh.paid_grant(D(2025, 10, 20), beneficiary_id_number=P3, policy_code="hiring_social_insurance",
                  subsidy_month=D(2025, 6, 1))  # a month outside the listed period
    summary = wh.run("2025-11")
    take_up = summary["take_up"]
    assert take_up["decisions_listed"] == 4
    assert take_up["paid"] == 2
    assert take_up["paid_within_deadline"] == 1
    assert take_up["paid_share"] == 0.5 and take_up["paid_within_deadline_share"] == 0.25
    assert take_up["by_listing_month"] == [
        {"listing_month": "2025-09", "decisions": 4, "paid": 2, "paid_within_deadline": 1}
    ]


def test_empty_status_and_amount_still_give_readable_facts(wh):
    # an empty 办理状态 is not a rejection, and an empty amount never blanks the facts
    wh.add("lnk_fiscal_staff", id_number=P1, work_unit=None)
    case = wh.grant(apply_date=D(2025, 9, 1), status=None, amount=None, policy_code=None)
    wh.run("2025-10")
    findings = wh.findings("2025-10")
    assert {f["check_code"] for f in findings} == {"overdue_accept", "paid_to_fiscal_staff", "beneficiary_not_linked"}
    assert all(f["application_id"] == case and f["facts"] for f in findings)
    fiscal = next(f for f in findings if f["check_code"] == "paid_to_fiscal_staff")
    assert fiscal["facts"].startswith("受益人在财政供养人员名单中（工作单位：单位不详）；政策不详 金额不详，尚未拨付（状态：无）")


def test_facts_are_deterministic_with_several_work_units(wh):
    for unit in ("乙单位", "甲单位", "丙单位"):
        wh.add("lnk_fiscal_staff", id_number=P1, work_unit=unit)
    wh.paid_grant(D(2025, 5, 10))
    wh.run("2025-05")
    (f,) = wh.findings("2025-05", "paid_to_fiscal_staff")
    assert "工作单位：丙单位、乙单位、甲单位" in f["facts"]


def test_irregularities_are_reported_once_and_late_evidence_still_counts(wh):
    wh.add("lnk_fiscal_staff", id_number=P1, work_unit="某局")
    wh.add("lnk_hiring_filing", employer_uscc=FIRM_A, id_number=P1, filing_type="招用")
    wh.add("lnk_hiring_filing", employer_uscc=FIRM_A, id_number=P2, filing_type="招用")
    to_fiscal = wh.paid_grant(D(2025, 4, 10))
    to_later_dead = wh.paid_grant(D(2025, 4, 20), beneficiary_id_number=P2)
    wh.run("2025-04")
    assert wh.flagged("2025-04", "paid_to_fiscal_staff") == {to_fiscal}
    wh.run("2025-05")
    assert wh.findings("2025-05") == []
    # a death before the payment, reported only in June's extract
    wh.add("lnk_deceased", id_number=P2, death_date=D(2025, 4, 15))
    wh.run("2025-06")
    assert {(f["check_code"], f["application_id"]) for f in wh.findings("2025-06")} == {
        ("paid_after_death", to_later_dead)
    }
    # re-running April (whose as-of inputs do not show the June death) reproduces April: only runs
    # of earlier months count as "reported before", not May's or June's
    wh.con.execute("DELETE FROM lnk_deceased")
    wh.run("2025-04")
    assert {(f["check_code"], f["application_id"]) for f in wh.findings("2025-04")} == {
        ("paid_to_fiscal_staff", to_fiscal)
    }
    assert len(wh.findings("2025-06")) == 1
