"""matchers.state on a real DuckDB: what each extract month showed first, kept once, and rebuilt
from the first reloaded month on."""
import datetime as dt

import duckdb

from matchers import state

SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)


def _build(e) -> str:
    return f"SELECT code, field, value FROM occ WHERE extract_month = DATE '{e}'"


def _known(con):
    return con.execute("SELECT code, first_month FROM link_known ORDER BY ALL").fetchall()


def _attrs(con):
    return con.execute("SELECT code, field, value, first_month FROM link_attrs ORDER BY ALL").fetchall()


def test_first_seen_kept_once_and_a_reloaded_month_rebuilds_it_and_every_later_one():
    con = duckdb.connect()
    con.execute("CREATE TABLE load_files (extract_month DATE, source VARCHAR, file_name VARCHAR, sha256 VARCHAR)")
    con.execute("CREATE TABLE occ (extract_month DATE, code VARCHAR, field VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO load_files VALUES (?, 'graduates', 'g.csv', 'a'), (?, 'graduates', 'g.csv', 'b')",
                [SEP, OCT])
    con.execute("INSERT INTO occ VALUES (?, 'A', 'name', '王晓明'), (?, 'A', 'name', '王晓明'), "
                "(?, 'A', 'phone', '13900000000'), (?, 'B', 'name', NULL)", [SEP, OCT, OCT, OCT])
    months = "SELECT extract_month FROM occ"
    assert state.refresh(con, "person", "2026-10", months, _build) == [SEP, OCT]
    assert _known(con) == [("A", SEP), ("B", OCT)]
    # a value seen again is not kept again; a code seen with no value is known, with no attribute
    assert _attrs(con) == [("A", "name", "王晓明", SEP), ("A", "phone", "13900000000", OCT)]
    assert state.refresh(con, "person", "2026-10", months, _build) == []     # nothing changed
    as_of_sep = con.execute(state.attrs_sql("person", "2026-09", {"names": "name", "phones": "phone"},
                                            "SELECT 'A' AS code")).fetchall()
    assert as_of_sep == [("A", ["王晓明"], None)]
    assert con.execute(state.known_sql("person", "2026-09")).fetchall() == [("A",)]

    # September is loaded again (another file): it now shows B and not A
    con.execute("DELETE FROM occ WHERE extract_month = ?", [SEP])
    con.execute("INSERT INTO occ VALUES (?, 'B', 'name', '张伟')", [SEP])
    con.execute("UPDATE load_files SET sha256 = 'c' WHERE extract_month = ?", [SEP])
    assert state.refresh(con, "person", "2026-09", months, _build) == [SEP, OCT]
    assert _known(con) == [("A", OCT), ("B", SEP)]
    assert _attrs(con) == [("A", "name", "王晓明", OCT), ("A", "phone", "13900000000", OCT),
                           ("B", "name", "张伟", SEP)]
