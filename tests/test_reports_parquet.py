from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from reports.common import ELIGIBILITY_COLUMNS
from test_reports_data import ELIG_ROWS, MONTH, make_warehouse, publish, warehouse  # noqa: F401


def test_eligibility_parquet_schema_and_sort(warehouse, tmp_path):  # noqa: F811
    out = publish(warehouse, tmp_path / "out")
    t = pq.read_table(out / "eligibility.parquet")
    assert t.column_names == ELIGIBILITY_COLUMNS
    assert t.schema.field("amount").type == pa.decimal128(12, 2)
    assert t.schema.field("match_score").type == pa.float64()
    assert t.schema.metadata is None or b"pandas" not in t.schema.metadata
    rows = t.to_pylist()
    assert len(rows) == len(ELIG_ROWS)
    assert {r["run_month"] for r in rows} == {MONTH}
    key = lambda r: tuple("" if r[c] is None else r[c] for c in (  # noqa: E731
        "policy_code", "league_code", "region_code", "beneficiary_id", "person_id_number", "period_start"))
    assert [key(r) for r in rows] == sorted(key(r) for r in rows)
    assert all(isinstance(r["amount"], Decimal) for r in rows)
    assert sum(r["amount"] for r in rows) == sum(Decimal(r[7]) for r in ELIG_ROWS)


def test_review_and_quarantine_are_month_scoped(warehouse, tmp_path):  # noqa: F811
    out = publish(warehouse, tmp_path / "out")
    rq = pq.read_table(out / "review_queue.parquet")
    assert rq.num_rows == 2 and set(rq.column("run_month").to_pylist()) == {MONTH}
    q = pq.read_table(out / "quarantine.parquet")
    assert q.num_rows == 15
    assert q.column_names == ["extract_month", "source", "source_file", "source_line", "reason",
                              "detail", "raw"]
    lines = [(r["source"], r["source_line"]) for r in q.to_pylist()]
    assert lines == sorted(lines)


def test_absent_review_queue_gives_empty_file(tmp_path):
    db = make_warehouse(tmp_path / "wh.duckdb", review=False)
    out = publish(db, tmp_path / "out")
    assert pq.read_table(out / "review_queue.parquet").num_rows == 0


def test_bytes_do_not_depend_on_insertion_order(tmp_path):
    a = make_warehouse(tmp_path / "a.duckdb")
    b = make_warehouse(tmp_path / "b.duckdb")
    con = duckdb.connect(str(b))
    con.execute("CREATE TABLE e2 AS SELECT * FROM eligibility ORDER BY random()")
    con.execute("DELETE FROM eligibility")
    con.execute("INSERT INTO eligibility SELECT * FROM e2")
    con.execute("CREATE TABLE q2 AS SELECT * FROM quarantine ORDER BY random()")
    con.execute("DELETE FROM quarantine")
    con.execute("INSERT INTO quarantine SELECT * FROM q2")
    con.close()
    oa = publish(a, tmp_path / "oa")
    ob = publish(b, tmp_path / "ob")
    for name in ("eligibility.parquet", "quarantine.parquet", "review_queue.parquet"):
        assert (oa / name).read_bytes() == (ob / name).read_bytes(), name
