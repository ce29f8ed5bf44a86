"""Loading real files of every format and encoding into a real DuckDB warehouse file."""
import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.loader import LoadFailed, load_month
from schemas.sources import SOURCES
from zhibu.warehouse import connect

ER = SOURCES["employment_registration"]
OTHERS = [s for s in SOURCES if s != "employment_registration"]
HEADER = ["公民身份号码", "姓名", "登记类型", "登记日期", "就业形式", "用人单位统一社会信用代码",
          "就业困难人员类别", "联系电话", "行政区划代码", "备注"]
ROWS = [
    ["11010519491231002x", "張 偉", "失业登记", "2026/1/5", "", "", "大龄失业人员", "+86 138-1234-5678", "150102", "x"],
    ["1.50102E+17", "王小明", "失业登记", "20261015", "", "", "", "", "150102", ""],
    ["110105491231002", "巴特尔•朝鲁", "就业登记", "2026年10月15日", "灵活就业", "", "", "", "150203", ""],
    ["11010519491231003X", "李四", "失业登记", "2026-10-15", "", "", "", "", "150102", ""],
    ["１１０１０５１９４９１２３１００２Ｘ", "王芳", "失业登记", "2026-13-15", "", "", "", "", "150102", ""],
    ["'11010519491231002X", "赵六", "奇怪登记", "2026-10-15", "", "", "", "", "990102", ""],
]


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def wh(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    yield con
    con.close()


def load_er(con, folder, month="2026-10"):
    return load_month(con, month, folder, disabled=OTHERS)


def staged(con):
    return con.execute("""SELECT source_line, id_number, id_number_valid, name, registration_type,
                          registration_date, phone, region_code FROM stg_employment_registration
                          ORDER BY source_line""").fetchall()


EXPECTED_STAGED = [
    (2, "11010519491231002X", True, "張偉", "失业登记", dt.date(2026, 1, 5), "13812345678", "150102"),
    (4, "11010519491231002X", True, "巴特尔·朝鲁", "就业登记", dt.date(2026, 10, 15), None, "150203"),
    (5, "11010519491231003X", False, "李四", "失业登记", dt.date(2026, 10, 15), None, "150102"),
]
EXPECTED_QUARANTINE = [(3, "id_scientific_notation"), (6, "bad_date"), (7, "bad_enum")]


def quarantined(con):
    return con.execute("SELECT source_line, reason FROM quarantine ORDER BY source_line").fetchall()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_give_the_same_canonical_rows(wh, tmp_path, encoding):
    folder = tmp_path / "in"
    folder.mkdir()
    # GBK has no '•': older systems write the full-width '．' separator instead.
    rows = [[v.replace("•", "．") for v in r] for r in ROWS] if encoding == "gbk" else ROWS
    write_csv(folder / "employment_registration.csv", rows, encoding=encoding)
    (fl,) = load_er(wh, folder)
    assert staged(wh) == EXPECTED_STAGED
    assert quarantined(wh) == EXPECTED_QUARANTINE
    assert (fl.rows_read, fl.rows_loaded, fl.rows_quarantined) == (6, 3, 3)
    import hashlib
    sha = hashlib.sha256((folder / "employment_registration.csv").read_bytes()).hexdigest()
    assert wh.execute("SELECT sha256 FROM load_files").fetchall() == [(sha,)]
    assert fl.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-bom", "gb18030": "gb18030", "gbk": "gb18030"}[encoding]
    raw = wh.execute("SELECT raw FROM quarantine WHERE source_line = 3").fetchone()[0]
    assert "1.50102E+17" in raw and "王小明" in raw        # raw values kept as received
    extra = wh.execute("SELECT extra_columns FROM raw_employment_registration WHERE source_line = 2").fetchone()[0]
    assert "备注" in extra                                  # unknown columns kept in the raw layer


def test_xlsx_with_serial_dates_and_mangled_numeric_ids(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["11010519491231002X", "张伟", "失业登记", dt.datetime(2026, 1, 5), "", "", "", "13812345678", 150102, ""])
    ws.append([150102199001011234.0, "王五", "失业登记", 46310, "", "", "", "", "150102", ""])   # ID typed as a number
    ws.append(["11010519491231002X", "张伟", "就业登记", "2026-10-15", "灵活就业", "", "", "", "150102", ""])
    wb.save(folder / "employment_registration.xlsx")
    (fl,) = load_er(wh, folder)
    rows = wh.execute("SELECT source_line, registration_date, region_code FROM stg_employment_registration ORDER BY 1").fetchall()
    assert rows == [(2, dt.date(2026, 1, 5), "150102"), (4, dt.date(2026, 10, 15), "150102")]
    assert quarantined(wh) == [(3, "id_scientific_notation")]
    assert (fl.format, fl.rows_read) == ("xlsx", 3)


def test_parquet_and_english_headers(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    t = pa.table({"id_number": ["11010519491231002X"], "name": ["张伟"], "registration_type": ["失业登记"],
                  "registration_date": pa.array([dt.date(2026, 10, 3)]), "region_code": ["150102"]})
    pq.write_table(t, folder / "employment_registration.parquet")
    (fl,) = load_er(wh, folder)
    assert wh.execute("SELECT registration_date, source_line FROM stg_employment_registration").fetchall() == \
        [(dt.date(2026, 10, 3), 2)]


def test_social_insurance_money_and_months(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    header = ["公民身份号码", "姓名", "单位统一社会信用代码", "参保身份", "险种类型", "费款所属期", "缴费基数",
              "单位缴费金额", "个人缴费金额", "到账日期", "行政区划代码"]
    rows = [["11010519491231002X", "张伟", "91350100M000100Y43", "单位职工", "110", "202610", "5,000.00",
             "800.00", "400.00", "2026-10-20", "150102"],
            ["11010519491231002X", "张伟", "91350100M000100Y43", "单位职工", "210", "2026-10", "5000",
             "25", "1,234.5", "2026/10/20", "150102"]]
    write_csv(folder / "social_insurance.csv", rows, header=header)
    load_month(wh, "2026-10", folder, disabled=[s for s in SOURCES if s != "social_insurance"])
    got = wh.execute("""SELECT insurance_type, contribution_month, contribution_base, individual_amount
                        FROM stg_social_insurance ORDER BY 1""").fetchall()
    assert got == [("110", dt.date(2026, 10, 1), Decimal("5000.00"), Decimal("400.00")),
                   ("210", dt.date(2026, 10, 1), Decimal("5000.00"), Decimal("1234.50"))]
    assert wh.execute("SELECT typeof(individual_amount) FROM stg_social_insurance LIMIT 1").fetchone()[0] == "DECIMAL(12,2)"


@pytest.mark.parametrize("make, problem", [
    (lambda p: write_csv(p, ROWS, header=[h for h in HEADER if h != "公民身份号码"]), "missing required column(s): 公民身份号码"),
    (lambda p: p.write_bytes("公民身份号码,姓名\n张伟,1\n".encode("utf-16")), "UTF-16"),
    (lambda p: p.write_bytes("公民身份号码,姓名\n".encode() + b"\x81\xff,\xfa\x80\n"), "no supported encoding"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(write_csv(p, ROWS).read_bytes()[:-25]), "truncated"),      # cut inside a character
    (lambda p: p.write_bytes(write_csv(p, ROWS).read_bytes()[:-15]), "truncated"),      # cut between fields
])
def test_bad_files_fail_naming_file_and_problem(wh, tmp_path, make, problem):
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder / "employment_registration.csv")
    with pytest.raises(LoadFailed) as e:
        load_er(wh, folder)
    assert "employment_registration.csv" in str(e.value) and problem in str(e.value)


def test_many_malformed_rows_are_each_quarantined_with_their_text(wh, tmp_path):
    """A file with thousands of broken lines (a wrong delimiter halfway through a month's export):
    each is quarantined with its own line and text, written set-wise (not one insert a row)."""
    folder = tmp_path / "in"
    folder.mkdir()
    p = write_csv(folder / "employment_registration.csv", ROWS[:1])
    with open(p, "a", encoding="utf-8") as f:
        for i in range(3000):
            f.write(f"11010519491231002X,张伟{i}\n")
        f.write(",".join(ROWS[3]) + "\n")
    (fl,) = load_er(wh, folder)
    rows = wh.execute("SELECT source_line, reason, raw->>'line_text' FROM quarantine ORDER BY source_line").fetchall()
    assert [r[0] for r in rows] == list(range(3, 3003))
    assert {r[1] for r in rows} == {"malformed_row"}
    assert rows[0][2].startswith("11010519491231002X,张伟0") and rows[-1][2].startswith("11010519491231002X,张伟2999")
    assert [r[0] for r in staged(wh)] == [2, 3003]
    assert fl.rows_read == fl.rows_loaded + fl.rows_quarantined == 3002


def test_header_only_file_is_nothing_this_month(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", [])
    (fl,) = load_er(wh, folder)
    assert (fl.rows_read, fl.rows_loaded) == (0, 0)


def test_malformed_middle_row_is_quarantined_not_fatal(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    p = write_csv(folder / "employment_registration.csv", ROWS[:1])
    with open(p, "a", encoding="utf-8") as f:
        f.write("11010519491231002X,张伟\n")
        f.write(",".join(ROWS[3]) + "\n")
    (fl,) = load_er(wh, folder)
    assert quarantined(wh) == [(3, "malformed_row")]
    assert [r[0] for r in staged(wh)] == [2, 4]
    assert fl.rows_read == fl.rows_loaded + fl.rows_quarantined == 3


def test_missing_required_source_is_named(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", ROWS)
    with pytest.raises(LoadFailed, match="missing required source hiring_filing"):
        load_month(wh, "2026-10", folder)


def test_reloading_a_month_replaces_exactly_that_month(wh, tmp_path):
    folder, september = tmp_path / "in", tmp_path / "in-09"
    folder.mkdir()
    september.mkdir()
    write_csv(folder / "employment_registration.csv", ROWS)
    write_csv(september / "employment_registration.csv", ROWS[:-1])   # (an identical file set is refused)
    load_er(wh, september, "2026-09")
    load_er(wh, folder, "2026-10")
    snapshot = lambda: (wh.execute("SELECT * FROM stg_employment_registration ORDER BY ALL").fetchall(),
                        wh.execute("SELECT * FROM quarantine ORDER BY ALL").fetchall(),
                        wh.execute("SELECT * FROM raw_employment_registration ORDER BY ALL").fetchall())
    before = snapshot()
    load_er(wh, folder, "2026-10")
    assert snapshot() == before
    assert wh.execute("SELECT count(*) FROM stg_employment_registration WHERE extract_month = '2026-10-01'").fetchone()[0] == 3


def relations(con):
    return sorted(con.execute("""SELECT table_name FROM duckdb_tables() WHERE NOT temporary
                                 UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT temporary AND NOT internal""").fetchall())


@pytest.mark.parametrize("broken", [b"", "truncated"])
def test_failed_load_leaves_warehouse_as_it_was(wh, tmp_path, broken):
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_csv(folder / "employment_registration.csv", ROWS)
    load_er(wh, folder)
    snapshot = lambda: (wh.execute("SELECT * FROM stg_employment_registration ORDER BY ALL").fetchall(),
                        wh.execute("SELECT * FROM raw_employment_registration ORDER BY ALL").fetchall(),
                        wh.execute("SELECT * FROM load_files ORDER BY ALL").fetchall(), relations(wh))
    before = snapshot()
    # A truncated file is only found bad after DuckDB has read it into its raw table.
    path.write_bytes(broken if broken == b"" else path.read_bytes() + '"150102,"张'.encode())
    with pytest.raises(LoadFailed):
        load_er(wh, folder)
    assert snapshot() == before


def test_raw_tables_of_a_killed_load_are_dropped_on_the_next(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "employment_registration.csv", ROWS)
    load_er(wh, folder)
    before = relations(wh)
    wh.execute("CREATE TABLE raw_employment_registration__f0123456789ab__in AS SELECT 1 AS c0")
    wh.execute("CREATE VIEW raw_employment_registration__f0123456789ab AS SELECT * FROM raw_employment_registration__f0123456789ab__in")
    load_er(wh, folder)
    assert relations(wh) != before          # this load's raw table replaced the first one's
    assert not [r for r in relations(wh) if "0123456789ab" in r[0]]
    assert wh.execute("SELECT count(*) FROM raw_employment_registration").fetchone()[0] == len(ROWS)


def test_snapshot_collapse_is_a_bad_file(wh, tmp_path):
    header = ["公民身份号码", "姓名", "工作单位", "行政区划代码"]
    only = [s for s in SOURCES if s != "fiscal_staff"]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_csv(a / "fiscal_staff.csv", [["11010519491231002X", "张伟", "某局", "150102"]] * 1 +
              [[f"1501021990010{i:04d}"[:17] + "0", "x", "y", "150102"] for i in range(9)], header=header)
    write_csv(b / "fiscal_staff.csv", [["11010519491231002X", "张伟", "某局", "150102"]], header=header)
    load_month(wh, "2026-09", a, disabled=only)
    with pytest.raises(LoadFailed, match="fiscal_staff.csv: snapshot has 1 rows"):
        load_month(wh, "2026-10", b, disabled=only)


def test_later_extract_supersedes_by_key_as_of_each_month(wh, tmp_path):
    from zhibu.warehouse import create_asof_views
    header = ["公民身份号码", "姓名", "死亡日期"]
    only = [s for s in SOURCES if s != "deceased"]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_csv(a / "deceased.csv", [["11010519491231002X", "张伟", "2026-09-01"]], header=header)
    write_csv(b / "deceased.csv", [["11010519491231002X", "张伟", "2026-09-03"]], header=header)
    load_month(wh, "2026-09", a, disabled=only)
    load_month(wh, "2026-10", b, disabled=only)
    seen = {}
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        create_asof_views(wh, month)
        seen[month] = wh.execute("SELECT death_date FROM asof_deceased").fetchall()
    assert seen == {"2026-08": [], "2026-09": [(dt.date(2026, 9, 1),)],
                    "2026-10": [(dt.date(2026, 9, 3),)], "2026-11": [(dt.date(2026, 9, 3),)]}
    load_month(wh, "2026-10", b, disabled=only)          # re-load: same result
    create_asof_views(wh, "2026-09")
    assert wh.execute("SELECT death_date FROM asof_deceased").fetchall() == [(dt.date(2026, 9, 1),)]


def test_gate_passes_a_clean_month_and_stops_a_broken_export(wh, tmp_path):
    from schemas.gate import GateFailed, validate_month
    folder = tmp_path / "in"
    folder.mkdir()
    good = ["11010519491231002X", "张伟", "失业登记", "2026-10-15", "", "", "", "", "150102", ""]
    write_csv(folder / "employment_registration.csv", [good] * 1 + [
        [f"{i}"] + good[1:] for i in range(1)])
    load_er(wh, folder)
    results = validate_month(wh, "2026-10")
    assert results and all(r.success for r in results)
    stored = wh.execute("SELECT count(*), bool_and(success) FROM gate_results").fetchall()[0]
    assert stored == (len(results), True)
    # A whole column unreadable: every row quarantined → the gate names the source and expectation.
    broken = [[f"110105194912310{i:02d}"[:17] + "X", "张伟", "失业登记", "someday", "", "", "", "", "150102", ""]
              for i in range(300)]
    write_csv(folder / "employment_registration.csv", broken)
    load_er(wh, folder)
    with pytest.raises(GateFailed, match=r"employment_registration: expect_column_values_to_be_between\(rows_loaded\)"):
        validate_month(wh, "2026-10")


def test_xlsx_title_row_above_the_header(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026年10月就业失业登记数据"])
    ws.append([])
    ws.append(HEADER)
    ws.append(["11010519491231002X", "张伟", "失业登记", "2026-10-15", "", "", "", "", "150102", ""])
    wb.save(folder / "employment_registration.xlsx")
    (fl,) = load_er(wh, folder)
    assert (fl.rows_read, fl.rows_loaded) == (1, 1)
    assert wh.execute("SELECT source_line FROM stg_employment_registration").fetchall() == [(4,)]


def test_xlsx_without_required_header_names_the_column(wh, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append([h for h in HEADER if h != "登记日期"])
    wb.save(folder / "employment_registration.xlsx")
    with pytest.raises(LoadFailed, match="employment_registration.xlsx: missing required column.*登记日期"):
        load_er(wh, folder)


def test_gate_judges_every_staged_row_not_a_sample(wh, tmp_path):
    """One bad value among many good ones, or one repeated key, is enough to stop the month."""
    from schemas.gate import GateFailed, validate_month
    folder = tmp_path / "in"
    folder.mkdir()
    from stdnum.cn import ric
    rows = [[f"11010519491231{i:03d}", "张伟", "失业登记", "2026-10-15", "", "", "", "", "150102", ""]
            for i in range(500)]
    for r in rows:
        r[0] += ric.calc_check_digit(r[0] + "0")
    write_csv(folder / "employment_registration.csv", rows)
    load_er(wh, folder)
    assert all(r.success for r in validate_month(wh, "2026-10"))
    # A staged ID of the wrong length, planted in row 377 of 500.
    wh.execute("""UPDATE stg_employment_registration SET id_number = left(id_number, 17)
                  WHERE source_line = 378""")
    with pytest.raises(GateFailed, match=r"expect_column_value_lengths_to_equal\(id_number\)"):
        validate_month(wh, "2026-10")
    wh.execute("""UPDATE stg_employment_registration SET id_number = id_number || 'X' WHERE source_line = 378""")
    # A repeated key: the uniqueness expectation fails.
    wh.execute("""INSERT INTO stg_employment_registration
                  SELECT * FROM stg_employment_registration WHERE source_line = 100""")
    with pytest.raises(GateFailed, match=r"expect_column_pair_values_to_be_equal"):
        validate_month(wh, "2026-10")


def test_gb18030_file_whose_first_megabytes_are_ascii(wh, tmp_path):
    """The encoding is judged on every byte: a GB18030 export that starts with 8+ MB of plain ASCII
    (English headers, empty text columns) must not be read as UTF-8 because its head is."""
    from schemas.readers import CHUNK
    folder = tmp_path / "in"
    folder.mkdir()
    header = [c.name for c in ER.columns]
    ascii_row = ["11010519491231002X", "Zhang", "", "2026-10-15", "", "", "", "", "150102", ""]
    n_ascii = CHUNK // len(",".join(ascii_row)) + 10
    rows = [ascii_row] * n_ascii + [["11010519491231003X", "巴特尔", "失业登记", "2026-10-15", "", "", "", "", "150102", ""]]
    write_csv(folder / "employment_registration.csv", rows, header=header, encoding="gb18030")
    (fl,) = load_er(wh, folder)
    assert fl.encoding == "gb18030"
    assert (fl.rows_read, fl.rows_loaded, fl.rows_quarantined) == (n_ascii + 1, 1, n_ascii)
    assert wh.execute("SELECT name FROM stg_employment_registration").fetchall() == [("巴特尔",)]


def test_big_sheets_parsed_in_a_worker_process_load_the_same_rows(wh, tmp_path, monkeypatch):
    """Above XLSX_WORKER_BYTES a sheet is parsed by openpyxl in a spawned worker while the CSVs
    load: same rows, same quarantine; a bad sheet there still fails the whole month, unwritten."""
    import schemas.loader as loader
    folder = tmp_path / "in"
    folder.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    wb.save(folder / "employment_registration.xlsx")
    (inline,) = load_er(wh, folder)
    inline_rows, inline_quarantine = staged(wh), quarantined(wh)
    monkeypatch.setattr(loader, "XLSX_WORKER_BYTES", 0)
    (worker,) = load_er(wh, folder)
    assert (worker.rows_read, worker.rows_loaded, worker.rows_quarantined) == \
        (inline.rows_read, inline.rows_loaded, inline.rows_quarantined) == (6, 3, 3)
    assert staged(wh) == inline_rows and quarantined(wh) == inline_quarantine
    # a sheet missing a required column, found by the worker: the month is not touched
    wb = openpyxl.Workbook()
    wb.active.append([h for h in HEADER if h != "登记日期"])
    wb.active.append(["11010519491231002X", "张伟", "失业登记"])
    wb.save(folder / "employment_registration.xlsx")
    with pytest.raises(LoadFailed, match="employment_registration.xlsx: missing required column.*登记日期"):
        load_er(wh, folder)
    assert staged(wh) == inline_rows
