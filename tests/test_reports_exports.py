import csv
import hashlib
import time
from decimal import Decimal

import openpyxl
import pytest

from reports.common import LEAGUES
from reports.exports import EXPORT_COLUMNS, write_xlsx
from test_reports_data import ELIG_ROWS, F1, MONTH, P1, P2, P3, P4, publish, published, warehouse  # noqa: F401

HEADERS = ["政策代码", "政策名称", "受益主体类型", "受益主体证件号码", "受益主体名称", "人员身份证号",
           "人员姓名", "补贴金额(元)", "起始月份", "截止月份", "行政区划代码", "盟市代码", "匹配方式",
           "匹配得分", "依据", "联系电话"]
TEXT_HEADERS = {"政策代码", "受益主体证件号码", "人员身份证号", "起始月份", "截止月份", "行政区划代码",
                "盟市代码", "联系电话"}


@pytest.fixture
def out(published):  # noqa: F811
    return published


def _xlsx(out, league):
    return openpyxl.load_workbook(out / "exports" / league / f"eligibility_{league}_{MONTH}.xlsx")


def _csv(out, league):
    raw = (out / "exports" / league / f"eligibility_{league}_{MONTH}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def _policy_sheets(wb):
    return [ws for ws in wb.worksheets[1:] if ws.title != "不予列入"]


def _data_rows(ws):
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    return rows, None                   # data sheets hold the rows only (totals: 汇总)


def test_headers_sheets_and_frozen_row(out):
    wb = _xlsx(out, "150100")
    assert wb.sheetnames[0] == "汇总"
    assert "一次性扩岗补助" in wb.sheetnames and "失业保险稳岗返还" in wb.sheetnames
    ws = wb["一次性扩岗补助"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.freeze_panes == "A2"
    assert wb["汇总"].freeze_panes == "A2"
    assert ws.column_dimensions["D"].width > 15          # widths are set


def test_id_cells_are_text(out):
    ws = _xlsx(out, "150100")["一次性扩岗补助"]
    idx = {h: i for i, h in enumerate(HEADERS)}
    body = list(ws.iter_rows(min_row=2, max_row=3))
    assert len(body) == 2
    for row in body:
        for h in TEXT_HEADERS:
            c = row[idx[h]]
            if c.value is None:
                continue
            assert c.data_type == "s", (h, c.value)
            assert c.number_format == "@", (h, c.number_format)
        assert row[idx["受益主体证件号码"]].value == F1
        amt = row[idx["补贴金额(元)"]]
        assert amt.data_type == "n" and amt.number_format == "0.00"
    assert {r[idx["人员身份证号"]].value for r in body} == {P1, P2}


def test_totals_are_outside_the_data_sheets(out):
    import pandas as pd
    path = out / "exports" / "150100" / f"eligibility_150100_{MONTH}.xlsx"
    wb = _xlsx(out, "150100")
    idx = HEADERS.index("补贴金额(元)")
    rows, _ = _data_rows(wb["一次性扩岗补助"])
    assert len(rows) == 2 and all(r[0] == "one_time_hiring" for r in rows)
    assert sum(Decimal(str(r[idx])) for r in rows) == Decimal("3000.00")
    # an importer reading a data sheet gets exactly the data rows
    for sheet in wb.sheetnames[1:]:              # policy sheets and 不予列入
        df = pd.read_excel(path, sheet_name=sheet, dtype=str)
        assert "合计" not in df.to_numpy().ravel().tolist(), sheet
        assert not df.isna().all(axis=1).any(), sheet
    df = pd.read_excel(path, sheet_name="一次性扩岗补助", dtype=str)
    assert list(df.columns) == HEADERS and len(df) == 2
    assert set(df["人员身份证号"]) == {P1, P2}          # IDs come back as text, intact
    summ = {r[0]: r for r in wb["汇总"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summ["one_time_hiring"][2:] == (2, 1, 3000.0)
    expected = sum(Decimal(r[7]) for r in ELIG_ROWS if r[11] == "150100")
    assert Decimal(str(summ["合计"][4])).quantize(Decimal("0.01")) == expected
    assert summ["合计"][2] == 5


def test_page_setup_prints_a4_landscape_one_page_wide(out):
    wb = _xlsx(out, "150100")
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and str(ps.paperSize) == "9", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth in (1, None)
        assert str(ps.fitToHeight) == "0"
    ws = wb["一次性扩岗补助"]
    assert ws.print_title_rows.replace("$", "") == "1:1"                # header repeated on every page
    ev = HEADERS.index("依据")
    letter = openpyxl.utils.get_column_letter(ev + 1)
    assert ws.column_dimensions[letter].width >= 40 - 1e-6
    assert ws.cell(row=2, column=ev + 1).alignment.wrap_text


def test_bureau_readme_explains_opening_the_csv(out):
    for league in LEAGUES:
        text = (out / "exports" / league / "README.txt").read_text(encoding="utf-8-sig")
        assert "文本" in text and "xlsx" in text and "数据" in text
        assert league in text


def test_region_scoping(out):
    assert sorted(p.name for p in (out / "exports").iterdir()) == sorted(LEAGUES)
    assert sorted(p.name for p in (out / "push").iterdir()) == sorted(LEAGUES)
    for league in LEAGUES:
        rows = _csv(out, league)
        assert rows[0] == HEADERS
        expected = [r for r in ELIG_ROWS if r[11] == league]
        assert len(rows) - 1 == len(expected)
        assert all(r[11] == league for r in rows[1:])
        wb = _xlsx(out, league)
        for ws in _policy_sheets(wb):
            data, _total = _data_rows(ws)
            assert all(r[11] == league for r in data), (league, ws.title)
        n = sum(len(_data_rows(ws)[0]) for ws in _policy_sheets(wb))
        assert n == len(expected)
    # a league with nothing this month still gets a (header-only) list
    assert len(_csv(out, "152900")) == 1


def test_csv_same_rows_as_xlsx(out):
    rows = _csv(out, "150200")
    wb = _xlsx(out, "150200")
    xrows = [r for ws in _policy_sheets(wb) for r in _data_rows(ws)[0]]
    amounts_csv = sorted(Decimal(r[7]) for r in rows[1:])
    amounts_xlsx = sorted(Decimal(str(r[7])).quantize(Decimal("0.01")) for r in xrows)
    assert amounts_csv == amounts_xlsx == [Decimal("5000.00"), Decimal("123456.78")]
    assert sorted(r[3] for r in rows[1:]) == sorted(r[3] for r in xrows)


def test_formula_injection_neutralised(out):
    rows = _csv(out, "150100")
    flat = [c for r in rows[1:] for c in r]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in flat
    assert "'+123" in flat and "'-1" in flat and "'@SUM(A1:A2)" in flat
    assert not any(c[:1] in "=+-@" for c in flat if c)
    wb = _xlsx(out, "150100")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    values = {c.value for c in cells}
    # xlsx: the text as sent, stored as a string with Excel's quote-prefix flag (no apostrophe)
    assert "=HYPERLINK(\"http://x\",\"点我\")" in values
    assert {"+123", "-1", "@SUM(A1:A2)"} <= values
    assert not any(v.startswith("'") for v in values)
    assert all(c.data_type == "s" for c in cells)         # never a formula cell
    risky = [c for c in cells if c.value[:1] in "=+-@"]
    assert len(risky) == 4 and all(c.quotePrefix for c in risky)
    notices = (out / "push" / "150100" / "notices.csv").read_text(encoding="utf-8-sig")
    assert ",=" not in notices


def test_xlsx_bytes_reproducible(tmp_path):
    rows = [dict(zip([c[1] for c in EXPORT_COLUMNS], [None] * len(EXPORT_COLUMNS)))]
    rows[0].update(policy_code="job_search", beneficiary_type="person", beneficiary_id=P1,
                   amount=Decimal("2000.00"), league_code="150100", match_score=1.0)
    a = write_xlsx(rows, tmp_path / "a.xlsx", MONTH, "150100")
    time.sleep(1.1)                     # a timestamp leaking into the file would show
    b = write_xlsx(rows, tmp_path / "b.xlsx", MONTH, "150100")
    h = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert h(a) == h(b)


def test_rows_without_league_go_to_the_regional_department(tmp_path):
    import duckdb

    from test_reports_data import make_warehouse
    db = make_warehouse(tmp_path / "wh.duckdb")
    con = duckdb.connect(str(db))
    con.execute("UPDATE eligibility SET league_code = NULL WHERE policy_code = 'startup_one_time'")
    con.close()
    out = publish(db, tmp_path / "out")
    rows = _csv(out, "150000")
    assert len(rows) == 2 and rows[1][0] == "startup_one_time"
    assert all(r[0] != "startup_one_time" for league in LEAGUES for r in _csv(out, league)[1:])
    assert (out / "push" / "150000" / "notices.csv").is_file()


def test_exclusions_sheet_holds_the_regions_own_strikes(out):
    import pyarrow.parquet as pq
    ex = pq.read_table(out / "exclusions.parquet").to_pylist()
    assert {(r["reason"], r["person_id_number"]) for r in ex} == {
        ("fiscal_staff", P2), ("listed_earlier", P3), ("listed_earlier", P4)}
    fiscal = next(r for r in ex if r["reason"] == "fiscal_staff")
    # the person's latest record up to the month (2026-09, 新城区), not the later 2026-11 one
    assert (fiscal["region_code"], fiscal["league_code"], fiscal["person_name"]) == ("150102", "150100", "李四")
    assert fiscal["detail"] == "财政供养"
    ws = _xlsx(out, "150100")["不予列入"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [c.value for c in ws[1]][:4] == ["政策名称", "不予列入原因", "受益主体证件号码", "人员身份证号"]
    assert rows == [("求职创业补贴", "财政供养人员", P2, P2, "李四", "150102", "财政供养")]
    for league in LEAGUES:                    # routine earlier listings are not shown; no one else's
        if league != "150100":
            assert list(_xlsx(out, league)["不予列入"].iter_rows(min_row=2, values_only=True)) == []


def test_each_bureau_gets_its_own_verification(out):
    import csv as _csv_mod
    from reports.common import CHECK_NAMES
    for league in LEAGUES:
        folder = out / "exports" / league / "verification"
        counts = list(_csv_mod.DictReader(
            (folder / "counts.csv").read_text(encoding="utf-8-sig").splitlines()))
        assert {r["核查代码"] for r in counts} >= set(CHECK_NAMES)      # zeros included
        for f in folder.glob("findings_*.csv"):
            body = list(_csv_mod.DictReader(f.read_text(encoding="utf-8-sig").splitlines()))
            assert body and all(r["盟市代码"] == league for r in body), (league, f.name)
        sample = list(_csv_mod.DictReader(
            (folder / "spot_check_sample.csv").read_text(encoding="utf-8-sig").splitlines()))
        assert all(r["单位统一社会信用代码"][2:6] == league[:4] for r in sample)
    hohhot = {r["单位统一社会信用代码"] for r in _csv_mod.DictReader(
        (out / "exports" / "150100" / "verification" / "spot_check_sample.csv")
        .read_text(encoding="utf-8-sig").splitlines())}
    assert hohhot == {F1}
