"""matchers.state on a real DuckDB: what each extract month showed first, kept once, and rebuilt
from the first reloaded month on."""
import datetime as dt

import duckdb

from matchers import state

SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)


def _build(e) -> str:
    others = ", ".join(f"NULL AS {f}" for f in state.FIELDS["person"] if f not in ("name", "phone"))
    return f"SELECT code, name, phone, {others} FROM occ WHERE extract_month = DATE '{e}'"


def _known(con):
    return con.execute("SELECT code, first_month FROM link_known ORDER BY ALL").fetchall()


def _tuples(con):
    return con.execute("SELECT code, name, phone, first_month FROM link_tuples_person ORDER BY ALL").fetchall()


def _attrs(con, month, code="A"):
    return con.execute(state.attrs_sql("person", month, {"names": "name", "phones": "phone"},
                                       f"SELECT '{code}' AS code")).fetchall()


def test_first_seen_kept_once_and_a_reloaded_month_rebuilds_it_and_every_later_one():
    con = duckdb.connect()
    con.execute("CREATE TABLE load_files (extract_month DATE, source VARCHAR, file_name VARCHAR, sha256 VARCHAR)")
    con.execute("CREATE TABLE occ (extract_month DATE, code VARCHAR, name VARCHAR, phone VARCHAR)")
    con.execute("INSERT INTO load_files VALUES (?, 'graduates', 'g.csv', 'a'), (?, 'graduates', 'g.csv', 'b')",
                [SEP, OCT])
    con.execute("INSERT INTO occ VALUES (?, 'A', '王晓明', NULL), (?, 'A', '王晓明', NULL), (?, 'A', '王晓明', NULL), "
                "(?, 'A', '王晓明', '13900000000'), (?, 'B', NULL, NULL)", [SEP, SEP, OCT, OCT, OCT])
    months = "SELECT extract_month FROM occ"
    assert state.refresh(con, "person", "2026-10", months, _build) == [SEP, OCT]
    assert _known(con) == [("A", SEP), ("B", OCT)]
    # a combination seen again is not kept again; a code seen with no value is known, with no attribute
    assert _tuples(con) == [("A", "王晓明", "13900000000", OCT), ("A", "王晓明", None, SEP), ("B", None, None, OCT)]
    assert state.refresh(con, "person", "2026-10", months, _build) == []     # nothing changed
    assert _attrs(con, "2026-09") == [("A", ["王晓明"], None)]
    assert _attrs(con, "2026-10") == [("A", ["王晓明"], ["13900000000"])]
    assert _attrs(con, "2026-10", "B") == [("B", None, None)]
    assert con.execute(state.known_sql("person", "2026-09")).fetchall() == [("A",)]
    assert con.execute(state.values_sql("person", "name", "2026-10")).fetchall() == [("A", "王晓明")]

    # September is loaded again (another file): it now shows B and not A
    con.execute("DELETE FROM occ WHERE extract_month = ?", [SEP])
    con.execute("INSERT INTO occ VALUES (?, 'B', '张伟', NULL)", [SEP])
    con.execute("UPDATE load_files SET sha256 = 'c' WHERE extract_month = ?", [SEP])
    assert state.refresh(con, "person", "2026-09", months, _build) == [SEP, OCT]
    assert _known(con) == [("A", OCT), ("B", SEP)]
    assert _tuples(con) == [("A", "王晓明", "13900000000", OCT), ("A", "王晓明", None, OCT),
                            ("B", "张伟", None, SEP), ("B", None, None, OCT)]
    assert _attrs(con, "2026-09") == [("A", None, None)]
    assert _attrs(con, "2026-10", "B") == [("B", ["张伟"], None)]


def test_a_warehouse_profiled_as_field_value_rows_is_profiled_again():
    con = duckdb.connect()
    con.execute("CREATE TABLE load_files (extract_month DATE, source VARCHAR, file_name VARCHAR, sha256 VARCHAR)")
    con.execute("CREATE TABLE occ (extract_month DATE, code VARCHAR, name VARCHAR, phone VARCHAR)")
    con.execute("INSERT INTO load_files VALUES (?, 'graduates', 'g.csv', 'a')", [SEP])
    con.execute("INSERT INTO occ VALUES (?, 'A', '王晓明', NULL)", [SEP])
    # the earlier layout, as an older version left it
    con.execute("CREATE TABLE link_attrs (kind VARCHAR, code VARCHAR, field VARCHAR, value VARCHAR, first_month DATE)")
    con.execute("INSERT INTO link_attrs VALUES ('person', 'A', 'name', '王晓明', ?)", [SEP])
    con.execute("CREATE TABLE link_known (kind VARCHAR, code VARCHAR, first_month DATE)")
    con.execute("INSERT INTO link_known VALUES ('person', 'A', ?)", [SEP])
    con.execute("CREATE TABLE link_profiled (kind VARCHAR, extract_month DATE, fingerprint VARCHAR, built_at TIMESTAMP)")
    con.execute("INSERT INTO link_profiled VALUES ('person', ?, 'graduates:a', now()::TIMESTAMP)", [SEP])
    assert state.refresh(con, "person", "2026-09", "SELECT extract_month FROM occ", _build) == [SEP]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'link_attrs'").fetchall() == [(0,)]
    assert _known(con) == [("A", SEP)]
    assert _tuples(con) == [("A", "王晓明", None, SEP)]
