"""Link state kept by extract month, so a month links its new occurrences, not all of history.

Each month's extracts say, once, which valid citizen IDs and USCCs they hold and with what
attributes; that is kept as one profile row per (extract month, code):

  link_person_profiles(extract_month, id, names, regions, phones, employers, schools, households)
  link_firm_profiles(extract_month, code, names, regions, registered)
  link_firm_persons(extract_month, code, person)      a firm's employees (shared-employee evidence)
  link_profiled(kind, extract_month, fingerprint)     which extract months are profiled, from what

A run for month M reads the profiles of extract months <= M (the known codes, the candidates'
attributes) instead of re-reading every as-of occurrence: the as-of contributions grow by a month
each month, the profiles by a few rows per person. A month's profile is (re)built when its
extracts changed (load_files' checksums differ from the fingerprint it was built from), so a month
loaded again is profiled again and a re-run of an old month reads exactly what it read before.

What earlier runs established (repaired and reviewed links) is the other half of the state:
`carried_links` hands a run the links of the latest earlier run month, so only records not linked
then are compared again (see matchers.persons / matchers.firms).
"""
from __future__ import annotations

import logging

import duckdb

from zhibu.warehouse import has_table, month_start

log = logging.getLogger(__name__)

DDL = (
    """CREATE TABLE IF NOT EXISTS link_person_profiles (
        extract_month DATE, id VARCHAR, names VARCHAR[], regions VARCHAR[], phones VARCHAR[],
        employers VARCHAR[], schools VARCHAR[], households VARCHAR[])""",
    """CREATE TABLE IF NOT EXISTS link_firm_profiles (
        extract_month DATE, code VARCHAR, names VARCHAR[], regions VARCHAR[], registered BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS link_firm_persons (extract_month DATE, code VARCHAR, person VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS link_profiled (kind VARCHAR, extract_month DATE, fingerprint VARCHAR,
        built_at TIMESTAMP)""",
)

PROFILE_TABLES = {"person": ("link_person_profiles",), "firm": ("link_firm_profiles", "link_firm_persons")}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _fingerprints(con: duckdb.DuckDBPyConnection, month: str, occurrences_by_month) -> dict:
    """{extract month: fingerprint} of the extract months <= `month`. From load_files' checksums in
    a loaded warehouse; where nothing was loaded through the loader (hand-built as-of tables), the
    months found in the occurrences with a NULL fingerprint, which means: always rebuild."""
    m = month_start(month)
    if has_table(con, "load_files"):
        rows = con.execute("""SELECT extract_month, string_agg(source || ':' || coalesce(sha256, ''), ','
                                                               ORDER BY source, file_name, sha256)
                              FROM load_files WHERE extract_month <= ? GROUP BY 1""", [m]).fetchall()
        if rows:
            return {r[0]: r[1] for r in rows}
    return {r[0]: None for r in con.execute(
        f"SELECT DISTINCT extract_month FROM ({occurrences_by_month(None)}) WHERE extract_month IS NOT NULL "
        "AND extract_month <= ?", [m]).fetchall()}


def refresh(con: duckdb.DuckDBPyConnection, kind: str, month: str, occurrences_by_month, build) -> list:
    """Profile every extract month <= `month` whose extracts changed since it was profiled.

    `occurrences_by_month(extract_month | None)` is the occurrences SQL (None: every month, only
    `extract_month` is read); `build(extract_month)` inserts that month's profile rows."""
    ensure_tables(con)
    wanted = _fingerprints(con, month, occurrences_by_month)
    have = {r[0]: r[1] for r in con.execute(
        "SELECT extract_month, fingerprint FROM link_profiled WHERE kind = ?", [kind]).fetchall()}
    stale = sorted(e for e, fp in wanted.items() if fp is None or have.get(e, "\0") != fp)
    for e in stale:
        con.execute("BEGIN TRANSACTION")
        try:
            for table in PROFILE_TABLES[kind]:
                con.execute(f"DELETE FROM {table} WHERE extract_month = ?", [e])
            build(e)
            con.execute("DELETE FROM link_profiled WHERE kind = ? AND extract_month = ?", [kind, e])
            con.execute("INSERT INTO link_profiled VALUES (?, ?, ?, now()::TIMESTAMP)", [kind, e, wanted[e]])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    if stale:
        log.info("%s profiles built for extract months %s", kind, ", ".join(str(e)[:7] for e in stale))
    return stale


def prior_run_month(con: duckdb.DuckDBPyConnection, table: str, month: str) -> str | None:
    """The latest run month before `month` whose links are in `table` (the state a run builds on)."""
    if not has_table(con, table):
        return None
    return con.execute(f"SELECT max(run_month) FROM {table} WHERE run_month < ?", [month]).fetchall()[0][0]
