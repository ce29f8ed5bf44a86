"""Hand-made warehouse for the reports tests (a real DuckDB file, no mocks).

Imported by the other tests/test_reports_*.py modules; holds one smoke test itself.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

MONTH = "2026-10"
PREV = "2026-09"
RUN_INFO = {
    "code_version": "test-1.0",
    "parameters": {"flexible_ratio": "2/3", "startup_amount": Decimal("5000.00")},
    "input_files": ["/somewhere/incoming/2026-10/graduates.csv", "social_insurance.parquet"],
    "timings": {"load": 1.25, "link": 2.5},
    # built-in notice texts: keep these tests independent of policies/ (edited in parallel)
    "policies_dir": str(Path(__file__).resolve().parent / "_no_policies_here"),
}

_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_C = "10X98765432"


def cid(first17: str) -> str:
    """A citizen ID with a correct GB 11643 check digit."""
    return first17 + _C[sum(int(a) * w for a, w in zip(first17, _W)) % 11]


P1 = cid("15010219950101123")   # 呼和浩特 person
P2 = cid("15010220000202456")
P3 = cid("15020319980303789")   # 包头
P4 = cid("15042119990404321")   # 赤峰
F1 = "91150102MA0N000001"        # firm in 呼和浩特
F2 = "91150203MA0N000002"        # firm in 包头

ELIG_ROWS = [
    # run_month, policy, btype, bid, bname, pid, pname, amount, ps, pe, region, league, method, score, evidence, phone
    (MONTH, "one_time_hiring", "firm", F1, "呼和浩特市青城科技有限公司", P1, "张三伟", "1500.00", None, None,
     "150102", "150100", "exact", 1.0, "毕业2025-06 本科; 用工备案2026-08-03 合同12个月", "13812345678"),
    (MONTH, "one_time_hiring", "firm", F1, "呼和浩特市青城科技有限公司", P2, "=HYPERLINK(\"http://x\",\"点我\")",
     "1500.00", None, None, "150102", "150100", "id_repaired", 0.97, "+123", "13812345678"),
    (MONTH, "hiring_social_insurance", "firm", F1, "呼和浩特市青城科技有限公司", P2, "李四", "2345.67",
     "2026-08", "2026-10", "150102", "150100", "fuzzy", 0.91, "-1", "13812345678"),
    (MONTH, "flexible_social_insurance", "person", P1, "张三伟", P1, "张三伟", "812.34", "2026-09", "2026-10",
     "150102", "150100", "exact", 1.0, "@SUM(A1:A2)", "13912345678"),
    (MONTH, "job_search", "person", P1, "张三伟", P1, "张三伟", "2000.00", None, None,
     "150102", "150100", "exact", 1.0, "毕业2027-06 低保家庭", "13912345678"),
    (MONTH, "startup_one_time", "person", P3, "王五", P3, "王五", "5000.00", None, None,
     "150203", "150200", "reviewed", 0.88, "个体工商户成立2025-09-01", None),
    (MONTH, "job_retention_refund", "firm", F2, "包头市钢铁有限公司", F2, "包头市钢铁有限公司", "123456.78",
     "2025-01", "2025-12", "150203", "150200", "exact", 1.0, "2025年失业保险费205761.30元×60%", "0472-1234567"),
    (MONTH, "job_search", "person", P4, "巴特尔·朝鲁", P4, "巴特尔·朝鲁", "2000.00", None, None,
     "150421", "150400", "exact", 1.0, "脱贫人口名单比对", "15012345678"),
]
PREV_ROWS = [
    (PREV, "job_search", "person", P3, "王五", P3, "王五", "2000.00", None, None,
     "150203", "150200", "exact", 1.0, "毕业2027-06", "13700000000"),
    (PREV, "one_time_hiring", "firm", F2, "包头市钢铁有限公司", P4, "巴特尔·朝鲁", "1500.00", None, None,
     "150203", "150200", "exact", 1.0, "", "0472-1234567"),
]


def make_warehouse(path: Path, *, verification: bool = True, review: bool = True) -> Path:
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE eligibility(run_month VARCHAR, policy_code VARCHAR, beneficiary_type VARCHAR,
          beneficiary_id VARCHAR, beneficiary_name VARCHAR, person_id_number VARCHAR,
          person_name VARCHAR, amount DECIMAL(12,2), period_start VARCHAR, period_end VARCHAR,
          region_code VARCHAR, league_code VARCHAR, match_method VARCHAR, match_score DOUBLE,
          evidence VARCHAR, phone VARCHAR)""")
    # insert in a scrambled order: the output sort must not depend on insertion order
    for r in list(reversed(ELIG_ROWS)) + PREV_ROWS:
        con.execute("INSERT INTO eligibility VALUES (" + ",".join(["?"] * 16) + ")",
                    [Decimal(x) if i == 7 else x for i, x in enumerate(r)])
    con.execute("""
        CREATE TABLE load_files(extract_month DATE, source VARCHAR, file_name VARCHAR, sha256 VARCHAR,
          format VARCHAR, encoding VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT)""")
    con.execute("""INSERT INTO load_files VALUES
        (DATE '2026-10-01', 'graduates', 'graduates.csv', 'aa11', 'csv', 'gb18030', 1200, 1195, 5),
        (DATE '2026-10-01', 'social_insurance', 'social_insurance.parquet', 'bb22', 'parquet', NULL, 250000, 249990, 10),
        (DATE '2026-10-01', 'hiring_filing', 'hiring_filing.xlsx', 'cc33', 'xlsx', NULL, 3400, 3400, 0),
        (DATE '2026-09-01', 'graduates', 'graduates.csv', 'old0', 'csv', 'utf-8', 10, 10, 0)""")
    con.execute("""
        CREATE TABLE quarantine(extract_month DATE, source VARCHAR, source_file VARCHAR,
          source_line BIGINT, reason VARCHAR, detail VARCHAR, raw JSON)""")
    q = []
    for i in range(5):
        q.append(("2026-10-01", "graduates", "graduates.csv", 100 + i,
                  "id_scientific_notation" if i < 3 else "bad_date", "1.50102E+17", '{"公民身份号码": "1.50102E+17"}'))
    for i in range(10):
        q.append(("2026-10-01", "social_insurance", "social_insurance.parquet", 9 - i, "bad_amount", "abc", '{"x": 1}'))
    q.append(("2026-09-01", "graduates", "graduates.csv", 1, "bad_date", "x", "{}"))
    con.executemany("INSERT INTO quarantine VALUES (CAST(? AS DATE), ?, ?, ?, ?, ?, ?)", q)
    con.execute("""CREATE TABLE gate_results(extract_month DATE, source VARCHAR, expectation VARCHAR,
        success BOOLEAN, observed VARCHAR, detail VARCHAR)""")
    con.execute(f"""INSERT INTO gate_results VALUES
        (DATE '2026-10-01', 'graduates', 'id_number not null', true, '0', ''),
        (DATE '2026-10-01', 'graduates', 'expect_column_values_to_be_between(graduation_date)', false, '3 unexpected', '例如 {P1}'),
        (DATE '2026-10-01', 'social_insurance', 'amount >= 0', true, '0', '')""")
    con.execute("""CREATE TABLE link_stats(run_month VARCHAR, blocking_key VARCHAR, candidate_pairs BIGINT,
        links BIGINT, method VARCHAR)""")
    con.execute("""INSERT INTO link_stats VALUES
        ('2026-10', 'name_pinyin+birth', 4200, 310, 'fuzzy'),
        ('2026-10', 'id_edit1', 900, 820, 'id_repaired'),
        ('2026-09', 'id_edit1', 10, 1, 'id_repaired')""")
    # where struck candidates belong: the person's latest staged record (exclusions' region)
    con.execute("""CREATE TABLE stg_employment_registration(id_number VARCHAR, name VARCHAR,
        registration_date DATE, region_code VARCHAR, extract_month DATE)""")
    con.execute(f"""INSERT INTO stg_employment_registration VALUES
        ('{P2}', '李四', DATE '2026-03-01', '150203', DATE '2026-03-01'),
        ('{P2}', '李四', DATE '2026-09-15', '150102', DATE '2026-09-01'),
        ('{P2}', '李四', DATE '2026-11-15', '150421', DATE '2026-11-01')""")
    con.execute("""CREATE TABLE exclusions(run_month VARCHAR, policy_code VARCHAR, beneficiary_id VARCHAR,
        person_id_number VARCHAR, reason VARCHAR, detail VARCHAR)""")
    con.execute(f"""INSERT INTO exclusions VALUES
        ('2026-10', 'job_search', '{P2}', '{P2}', 'fiscal_staff', '财政供养'),
        ('2026-10', 'one_time_hiring', '{F1}', '{P3}', 'listed_earlier', '2026-09 已列入'),
        ('2026-10', 'one_time_hiring', '{F2}', '{P4}', 'listed_earlier', '2026-09 已列入')""")
    if review:
        con.execute("""CREATE TABLE review_queue(run_month VARCHAR, kind VARCHAR, left_id VARCHAR,
            left_name VARCHAR, right_id VARCHAR, right_name VARCHAR, score DOUBLE, agreed JSON)""")
        con.execute(f"""INSERT INTO review_queue VALUES
            ('2026-10', 'person', '{P1[:-1]}0', '张三伟', '{P1}', '张三伟', 0.78, '["name"]'),
            ('2026-10', 'firm', '{F1}', '青城科技', '{F1}', '呼和浩特市青城科技有限公司', 0.71, '[]'),
            ('2026-09', 'person', 'x', 'y', 'z', 'w', 0.5, '[]')""")
    if verification:
        con.execute("""CREATE TABLE verification_findings(run_month VARCHAR, check_code VARCHAR,
            check_name VARCHAR, application_id VARCHAR, policy_code VARCHAR, beneficiary_id_number VARCHAR,
            region_code VARCHAR, league_code VARCHAR, facts VARCHAR)""")
        con.execute(f"""INSERT INTO verification_findings VALUES
            ('2026-10', 'overdue_accept', '超期未受理', 'A001', 'job_search', '{P1}', '150102', '150100', '申请2026-10-09,已超5个工作日'),
            ('2026-10', 'overdue_accept', '超期未受理', 'A002', 'job_search', '{P3}', '150203', '150200', '申请2026-10-10'),
            ('2026-10', 'fiscal_staff_paid', '发放给财政供养人员', 'A003', 'one_time_hiring', '{P2}', '150102', '150100', '=cmd'),
            ('2026-09', 'overdue_accept', '超期未受理', 'A000', 'job_search', '{P1}', '150102', '150100', '')""")
        con.execute("""CREATE TABLE verification_sample(run_month VARCHAR, employer_uscc VARCHAR, reason VARCHAR,
            amount DECIMAL(12,2), persons INTEGER, months INTEGER)""")
        con.execute(f"""INSERT INTO verification_sample VALUES
            ('2026-10', '{F1}', '金额前5%', 30000.00, 12, 36),
            ('2026-10', '{F2}', '随机抽取', 1500.00, 1, 1)""")
    con.close()
    return path


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return make_warehouse(tmp_path / "wh.duckdb")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """One published month shared by a module's read-only tests."""
    d = tmp_path_factory.mktemp("published")
    return publish(make_warehouse(d / "wh.duckdb"), d / "out")


def publish(db: Path, root: Path, month: str = MONTH, run_info: dict | None = None) -> Path:
    from reports.publish import publish_month

    con = duckdb.connect(str(db))
    try:
        return publish_month(con, month, root, dict(RUN_INFO if run_info is None else run_info))
    finally:
        con.close()


def test_publish_smoke(warehouse, tmp_path):
    out = publish(warehouse, tmp_path / "out")
    assert out == tmp_path / "out" / MONTH
    for rel in ["eligibility.parquet", "review_queue.parquet", "quarantine.parquet", "report.html",
                "manifest.json", "exports/150100/eligibility_150100_2026-10.xlsx",
                "exports/150100/eligibility_150100_2026-10.csv", "push/150100/notices.csv",
                "verification/spot_check_sample.csv", "verification/counts_by_league.csv"]:
        assert (out / rel).is_file(), rel
    assert [p.name for p in (tmp_path / "out").iterdir()] == [MONTH]
