"""The defects found on independently generated months (issue 14), each pinned at the loader."""
import csv
import io
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import ric, uscc

from schemas.gate import validate_month
from schemas.loader import LoadFailed, load_month
from schemas.sources import SOURCES
from zhibu.warehouse import connect
from tests.test_schemas_loader import HEADER, ROWS, write_csv


@pytest.fixture
def wh(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    yield con
    con.close()


def only(name):
    return [s for s in SOURCES if s != name]


def person_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def firm_code(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


LEDGER_HEADER = ["业务流水号", "政策代码", "申领主体类型", "申领主体证件号码", "受益人员身份证号", "补贴所属期",
                 "补贴金额", "申请日期", "办理状态", "行政区划代码"]


def ledger_row(app, kind, applicant, amount="1500.00", apply="2026-10-08"):
    return [app, "one_time_hiring", kind, applicant, person_id("15010219900307123"), "", amount, apply,
            "已拨付", "150102"]


def quarantine(con, source):
    return con.execute("SELECT source_line, reason FROM quarantine WHERE source = ? ORDER BY source_line",
                       [source]).fetchall()


def test_all_digit_uscc_of_a_firm_applicant_is_valid_because_the_type_decides(wh, tmp_path):
    # converted from an organisation code: digits only
    digits = next(c for c in (firm_code(f"911501021234567{i:02d}") for i in range(100)) if c.isdigit())
    assert digits.isdigit() and uscc.is_valid(digits)
    person = person_id("15010219900307123")
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "subsidy_ledger.csv", [ledger_row("A1", "单位", digits), ledger_row("A2", "个人", person),
                                              ledger_row("A3", "单位", person)], header=LEDGER_HEADER)
    load_month(wh, "2026-10", folder, disabled=only("subsidy_ledger"))
    got = dict(((a, (i, v)) for a, i, v in wh.execute(
        "SELECT application_id, applicant_id, applicant_id_valid FROM stg_subsidy_ledger").fetchall()))
    assert got["A1"] == (digits, True)
    assert got["A2"] == (person, True)
    # a citizen ID given for a 单位 is not a valid USCC, whatever it looks like
    assert got["A3"][1] is False


@pytest.mark.parametrize("written, expected", [
    ("288,61", None), ("1.234,50", None), ("12.345", None), ("1,234.50", Decimal("1234.50")),
    ("1,234", Decimal("1234.00")), ("￥1,500.00元", Decimal("1500.00")), ("1500", Decimal("1500.00")),
])
def test_an_amount_that_does_not_parse_unambiguously_is_quarantined(wh, tmp_path, written, expected):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "subsidy_ledger.csv", [ledger_row("A1", "个人", person_id("15010219900307123"), written)],
              header=LEDGER_HEADER)
    load_month(wh, "2026-10", folder, disabled=only("subsidy_ledger"))
    loaded = wh.execute("SELECT amount FROM stg_subsidy_ledger").fetchall()
    if expected is None:
        assert loaded == [] and quarantine(wh, "subsidy_ledger") == [(2, "bad_amount")]
    else:
        assert loaded == [(expected,)]


def test_negative_amount_is_quarantined_except_a_correction_of_contributions(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "subsidy_ledger.csv", [ledger_row("A1", "个人", person_id("15010219900307123"), "-1500.00")],
              header=LEDGER_HEADER)
    write_csv(folder / "social_insurance.csv",
              [[person_id("15010219900307123"), "张三", firm_code("91150102MA0000001"), "单位职工", "110", "202609",
                "-4000", "-640.00", "-320.00", "2026-10-12", "150102"]],
              header=["公民身份号码", "姓名", "单位统一社会信用代码", "参保身份", "险种类型", "费款所属期", "缴费基数",
                      "单位缴费金额", "个人缴费金额", "到账日期", "行政区划代码"])
    load_month(wh, "2026-10", folder, disabled=[s for s in SOURCES if s not in ("subsidy_ledger", "social_insurance")])
    assert quarantine(wh, "subsidy_ledger") == [(2, "negative_amount")]
    assert wh.execute("SELECT employer_amount FROM stg_social_insurance").fetchall() == [(Decimal("-640.00"),)]


def test_a_few_future_dated_rows_are_quarantined_more_refuse_the_file(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = [r for r in ROWS if r[3] == "2026-10-15"][:1]
    future = [[person_id(f"1501021990030{i:04d}"), "李四", "失业登记", "2026-11-03", "", "", "", "", "150102", ""]
              for i in range(5)]
    write_csv(folder / "employment_registration.csv", good + future[:2])
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert [r for _, r in quarantine(wh, "employment_registration") if r == "future_date"] == ["future_date"] * 2
    write_csv(folder / "employment_registration.csv", good + future)
    with pytest.raises(LoadFailed, match=r"employment_registration.csv: 5 rows dated after 2026-10-31 \(2026-11-03"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    # the refused re-load left the earlier load of the month as it was
    assert len([r for _, r in quarantine(wh, "employment_registration") if r == "future_date"]) == 2


def test_run_month_after_this_month_and_folder_of_another_month_are_refused(wh, tmp_path):
    folder = tmp_path / "2025-03"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", ROWS)
    with pytest.raises(LoadFailed, match="run month 2099-01 is after the current month"):
        load_month(wh, "2099-01", folder, disabled=only("employment_registration"))
    with pytest.raises(LoadFailed, match="input folder 2025-03 is named for month 2025-03, not 2025-07"):
        load_month(wh, "2025-07", folder, disabled=only("employment_registration"))
    assert wh.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'stg_%'").fetchall()[0][0] == 0


def test_last_months_files_resent_as_this_month_are_refused(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", ROWS)
    load_month(wh, "2026-09", folder, disabled=only("employment_registration"))
    with pytest.raises(LoadFailed, match="byte-identical .* already loaded as 2026-09"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))


def test_header_only_months_are_not_taken_for_a_resent_month(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", [])
    load_month(wh, "2026-09", folder, disabled=only("employment_registration"))
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))


@pytest.mark.parametrize("extra, why", [
    ("employment_registration_2.csv", "one file per source"),
    ("notes.txt", "not a source of the contract"),
    ("employment_registration.xls", "format .xls is not supported"),
])
def test_every_extra_file_is_refused_by_name_never_ignored(wh, tmp_path, extra, why):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", ROWS)
    write_csv(folder / extra, ROWS)
    with pytest.raises(LoadFailed, match=f"unexpected file {extra}: .*{why}"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))


def test_every_sheet_with_the_sources_header_is_read_others_refused(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(ROWS[0])
    ws2 = wb.create_sheet("第二页")
    ws2.append(["2026年10月就业失业登记（续）"])
    ws2.append(HEADER)
    ws2.append(ROWS[3])
    ws2.append(ROWS[2])
    wb.save(folder / "employment_registration.xlsx")
    loads = load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert loads[0].rows_read == 3
    rows = wh.execute("""SELECT s.source_line, s.name, r.extra_columns->>'工作表', r.extra_columns->>'工作表行号'
                         FROM stg_employment_registration s JOIN raw_employment_registration r USING (source_line)
                         ORDER BY 1""").fetchall()
    assert rows == [(2, "張偉", "Sheet", "2"), (3, "李四", "第二页", "3"), (4, "巴特尔·朝鲁", "第二页", "4")]
    ws3 = wb.create_sheet("说明")
    ws3.append(["备注：本表由系统导出"])
    wb.save(folder / "employment_registration.xlsx")
    with pytest.raises(LoadFailed, match="sheet '说明' holds rows that are not a employment_registration table"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))


def test_big5_is_refused_not_guessed_and_no_decoded_copy_is_left(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [[person_id(f"1501021990030{i:04d}"), name, "失业登记", "2026-10-15", "", "", "", "", "150102", ""]
            for i, name in enumerate(["張偉", "陳曉紅", "王小明", "巴特爾朝魯", "李娜"] * 10)]
    english = ["id_number", "name", "registration_type", "registration_date", "employment_form", "employer_uscc",
               "hardship_category", "phone", "region_code", "note"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([english] + rows)
    big5 = buf.getvalue().replace("失业登记", "失業登記").encode("big5")
    (folder / "employment_registration.csv").write_bytes(big5)
    before = set(os.listdir(tempfile.gettempdir()))
    with pytest.raises(LoadFailed, match="encoding cannot be proved"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert set(os.listdir(tempfile.gettempdir())) - before == set()
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".zhibu-scratch")]
    # the same rows in GBK (traditional names included) load
    (folder / "employment_registration.csv").write_bytes(buf.getvalue().encode("gb18030"))
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert wh.execute("SELECT count(*) FROM stg_employment_registration").fetchall()[0][0] == 50


def test_unknown_header_written_twice_is_kept_not_a_crash(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", [r + ["y"] for r in ROWS], header=HEADER + ["备注"])
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    extras = wh.execute("SELECT extra_columns FROM raw_employment_registration ORDER BY source_line LIMIT 1").fetchall()
    assert '"备注":"x"' in extras[0][0] and '"备注(2)":"y"' in extras[0][0]


@pytest.mark.parametrize("rows", [[], [["1.50102E+17", "王小明", "失业登记", "2026-10-15", "", "", "", "", "150102", ""]]],
                         ids=["header-only", "all-quarantined"])
def test_a_delta_month_with_nothing_loaded_passes_the_gate(wh, tmp_path, rows):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", rows)
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert all(c.success for c in validate_month(wh, "2026-10"))


def test_thresholds_are_settings(wh, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    future = [[person_id(f"1501021990030{i:04d}"), "李四", "失业登记", "2026-11-03", "", "", "", "", "150102", ""]
              for i in range(5)]
    write_csv(folder / "employment_registration.csv", future)
    settings = tmp_path / "settings.yaml"
    settings.write_text("future_dated_rows_max: 10\n", encoding="utf-8")
    monkeypatch.setenv("ZHIBU_SETTINGS", str(settings))
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    settings.write_text("future_dated_rows_max: ten\n", encoding="utf-8")
    with pytest.raises(ValueError, match="future_dated_rows_max must be a int"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))


def test_gb18030_names_with_the_katakana_separator_dot_load(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [[person_id("15010219900307123"), "巴特尔・朝鲁", "失业登记", "2026-10-15", "", "", "", "", "150102", ""]]
    write_csv(folder / "employment_registration.csv", rows, encoding="gb18030")
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert wh.execute("SELECT name FROM stg_employment_registration").fetchall() == [("巴特尔·朝鲁",)]


def test_a_flexible_workers_corrected_contribution_supersedes_the_first_version(wh, tmp_path):
    """A 灵活就业 contribution has no employer: the key (ID, employer, type, month) holds a NULL,
    and the later month's correction must still supersede the first version (it was counted
    twice, found by the policy cases run end to end)."""
    header = [c.header for c in SOURCES["social_insurance"].columns]
    pid = person_id("15010219910101161")

    def row(amount, credited):
        values = {"id_number": pid, "name": "王建国", "insured_type": "灵活就业人员", "insurance_type": "310",
                  "contribution_month": "2026-09", "contribution_base": "4000.00", "employer_amount": "0.00",
                  "individual_amount": amount, "credited_date": credited, "region_code": "150102"}
        return [values.get(c.name, "") for c in SOURCES["social_insurance"].columns]
    for month, amount, credited in (("2026-09", "200.00", "2026-09-15"), ("2026-10", "100.00", "2026-10-18")):
        folder = tmp_path / month
        folder.mkdir()
        with open(folder / "social_insurance.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([header, row(amount, credited)])
        load_month(wh, month, folder, disabled=only("social_insurance"))
    got = wh.execute("SELECT strftime(extract_month, '%Y-%m'), individual_amount, strftime(superseded_in, '%Y-%m') "
                     "FROM stg_social_insurance ORDER BY extract_month").fetchall()
    assert got == [("2026-09", Decimal("200.00"), "2026-10"), ("2026-10", Decimal("100.00"), None)]


def test_an_id_whose_county_code_is_younger_than_its_holder_is_valid(wh, tmp_path):
    """Shrunk from the contract corpus (fuzz): 150902 集宁区 dates from 2003, yet people born in
    2001 carry it (IDs are issued where the hukou is registered). The contract's test is the
    MOD 11-2 check digit; a birth-place table would reject real people."""
    pid = person_id("15090220010326035")
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv",
              [[pid, "乌云", "失业登记", "2026-10-15", "", "", "", "", "150902", ""]])
    load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert wh.execute("SELECT id_number, id_number_valid FROM stg_employment_registration").fetchall() == [(pid, True)]


def test_an_unterminated_quote_refuses_the_file_instead_of_swallowing_the_rest(wh, tmp_path):
    """Found by a new user: one stray quote turned lines 31..76 into a single quarantined row, so the
    month published with 45 registrations missing and every check green."""
    rows = [[person_id(f"150102199001{i:05d}"), f"张{i}", "失业登记", "2026-10-15", "", "", "", "", "150102", ""]
            for i in range(10)]
    rows[3][1] = '"张3'
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", rows)
    text = (folder / "employment_registration.csv").read_text(encoding="utf-8").replace('"""张3"', '"张3')
    (folder / "employment_registration.csv").write_text(text, encoding="utf-8")
    with pytest.raises(LoadFailed, match=r"employment_registration.csv: line 5: an unterminated quote .* swallows the 6 line"):
        load_month(wh, "2026-10", folder, disabled=only("employment_registration"))
    assert not wh.execute("SELECT count(*) FROM load_files").fetchall()[0][0]
