"""Link state kept by month, so a month links its new occurrences against what earlier months
established instead of re-reading every as-of occurrence of history.

What the extracts established about valid codes — kept by the extract month that first showed it:
  link_known(kind, code, first_month)                     every valid citizen ID / USCC seen
  link_tuples_person(code, name, region, phone, employer, school, household, first_month)
  link_tuples_firm(code, name, region, person, registered, first_month)
                                                          each distinct combination of what a code
                                                          was seen with in one row (a person's name,
                                                          county, phone, employer, school, household;
                                                          a firm's name, county, employee, register)
  link_profiled(kind, extract_month, fingerprint, built_at)   which extract months are in, from what
As of run month M a code is known, and has an attribute value, when a row of it with that value has
first_month <= M: the union over the extracts <= M, whenever they were loaded, so a re-run of an old
month reads what it read then. The tables grow with new people, firms and combinations, not with
months. Combinations, not one row per (code, field, value): a month's ~20M rows hold a few
million combinations, nearly all seen the month before, so a month adds what changed by one anti
join of its rows against them; splitting them into field/value rows first cost three times as much
(issue 20).

When an extract month is loaded again (its load_files checksums differ from the fingerprint it was
profiled from), everything first seen in it or later is dropped and those months are profiled
again from their staged rows; a month is profiled from the rows it loaded (matchers.persons /
matchers.firms build_month), never from an as-of view, so profiling is the same whenever it runs.

What earlier runs decided is the other half (matchers.persons / matchers.firms): the links of the
latest earlier run are carried, and the records it left unresolved are kept per run
  link_unresolved(run_month, kind, raw_code, name, region_code, <what their rows said>)
  link_state_runs(run_month, kind)                        runs that recorded their unresolved records
so a run compares only records first seen since that run, and those unresolved then.
"""
from __future__ import annotations

import logging

import duckdb

from zhibu.warehouse import has_table, month_start

log = logging.getLogger(__name__)

# What a code is profiled with, per kind: the columns of link_tuples_<kind>.
FIELDS = {"person": ("name", "region", "phone", "employer", "school", "household"),
          "firm": ("name", "region", "person", "registered")}

DDL = (
    "CREATE TABLE IF NOT EXISTS link_known (kind VARCHAR, code VARCHAR, first_month DATE)",
    *(f"CREATE TABLE IF NOT EXISTS link_tuples_{kind} (code VARCHAR, "
      + ", ".join(f"{f} VARCHAR" for f in fields) + ", first_month DATE)" for kind, fields in FIELDS.items()),
    "CREATE TABLE IF NOT EXISTS link_profiled (kind VARCHAR, extract_month DATE, fingerprint VARCHAR, built_at TIMESTAMP)",
    """CREATE TABLE IF NOT EXISTS link_unresolved (run_month VARCHAR, kind VARCHAR, raw_code VARCHAR, name VARCHAR,
        region_code VARCHAR, regions VARCHAR[], phones VARCHAR[], employers VARCHAR[], schools VARCHAR[],
        households VARCHAR[], persons VARCHAR[], from_register BOOLEAN,
        first_seen STRUCT(source VARCHAR, file VARCHAR, line BIGINT), n_rows BIGINT)""",
    "CREATE TABLE IF NOT EXISTS link_state_runs (run_month VARCHAR, kind VARCHAR)",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse profiled into the earlier link_attrs(kind, code, field, value) is profiled again
    (every extract month, once) into link_tuples_<kind>."""
    if has_table(con, "link_attrs"):
        log.info("link state: link_attrs replaced by link_tuples_person/_firm; every extract month is profiled again")
        con.execute("BEGIN TRANSACTION")
        con.execute("DROP TABLE link_attrs")
        con.execute("DELETE FROM link_known")
        con.execute("DELETE FROM link_profiled")
        con.execute("COMMIT")


def _fingerprints(con: duckdb.DuckDBPyConnection, month: str, months_of_occurrences) -> dict:
    """{extract month: fingerprint} of every loaded extract month (load_files' checksums). Where
    nothing came through the loader (hand-built as-of tables), the months <= `month` found in the
    occurrences, with a NULL fingerprint, which means: always profile again."""
    if has_table(con, "load_files"):
        rows = con.execute("""SELECT extract_month, string_agg(source || ':' || coalesce(sha256, ''), ','
                                                               ORDER BY source, file_name, sha256)
                              FROM load_files GROUP BY 1""").fetchall()
        if rows:
            return {r[0]: r[1] for r in rows}
    return {r[0]: None for r in con.execute(
        f"SELECT DISTINCT extract_month FROM ({months_of_occurrences}) WHERE extract_month IS NOT NULL "
        "AND extract_month <= ?", [month_start(month)]).fetchall()}


def refresh(con: duckdb.DuckDBPyConnection, kind: str, month: str, months_of_occurrences: str, build_month) -> list:
    """Bring the known codes and attributes of `kind` up to date with the loaded extracts.

    `months_of_occurrences`: SQL with an `extract_month` column (which months hold occurrences,
    for hand-built warehouses); `build_month(extract_month)` returns SQL of that month's valid
    rows: `code` and the kind's FIELDS (NULL where a row has no such value)."""
    ensure_tables(con)
    _migrate(con)
    wanted = _fingerprints(con, month, months_of_occurrences)
    have = {r[0]: r[1] for r in con.execute(
        "SELECT extract_month, fingerprint FROM link_profiled WHERE kind = ?", [kind]).fetchall()}
    changed = [e for e, fp in wanted.items() if fp is None or e not in have or have[e] != fp]
    changed += [e for e in have if e not in wanted]            # a month no longer loaded
    if not changed:
        return []
    start = min(changed)
    rebuild = sorted(e for e in wanted if e >= start)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM link_known WHERE kind = ? AND first_month >= ?", [kind, start])
        con.execute(f"DELETE FROM link_tuples_{kind} WHERE first_month >= ?", [start])
        con.execute("DELETE FROM link_profiled WHERE kind = ? AND extract_month >= ?", [kind, start])
        for e in rebuild:
            _add_month(con, kind, e, build_month(e))
            con.execute("INSERT INTO link_profiled VALUES (?, ?, ?, now()::TIMESTAMP)", [kind, e, wanted[e]])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    log.info("%s link state: extract months %s profiled", kind, ", ".join(str(e)[:7] for e in rebuild))
    return rebuild


def _add_month(con: duckdb.DuckDBPyConnection, kind: str, extract_month, month_sql: str) -> None:
    """Add what extract month `extract_month` showed first (everything later was dropped)."""
    fields = FIELDS[kind]
    cols = ", ".join(("code",) + fields)
    same = " AND ".join(["k.code = n.code"] + [f"k.{f} IS NOT DISTINCT FROM n.{f}" for f in fields])
    # The anti join before the DISTINCT: probing the known combinations with the month's ~20M
    # rows costs less than grouping them first (S=1: 18-20 s -> 13-14 s, the same rows).
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _state_month AS
                    SELECT DISTINCT {cols}
                    FROM (SELECT {cols} FROM ({month_sql}) WHERE code IS NOT NULL) n
                    ANTI JOIN link_tuples_{kind} k ON {same}""")
    con.execute("""INSERT INTO link_known
                   SELECT ?, n.code, ? FROM (SELECT DISTINCT code FROM _state_month) n
                   ANTI JOIN (SELECT code FROM link_known WHERE kind = ?) k ON k.code = n.code
                   ORDER BY n.code""", [kind, extract_month, kind])
    con.execute(f"INSERT INTO link_tuples_{kind} SELECT {cols}, ? FROM _state_month ORDER BY code",
                [extract_month])
    con.execute("DROP TABLE _state_month")


def known_sql(kind: str, month: str) -> str:
    """The valid codes known as of run month `month`: (code)."""
    return (f"SELECT code FROM link_known WHERE kind = '{kind}' "
            f"AND first_month <= DATE '{month_start(month)}'")


def attrs_sql(kind: str, month: str, fields: dict[str, str], codes: str) -> str:
    """One row per code of `codes` (SQL with a `code` column): a sorted list per attribute
    (`fields`: output column -> field), NULL when it has none, as of run month `month`."""
    lists = ", ".join(f"list(DISTINCT t.{f} ORDER BY t.{f}) FILTER (WHERE t.{f} IS NOT NULL) AS {col}"
                      for col, f in fields.items())
    return (f"SELECT w.code, {lists} FROM (SELECT DISTINCT code FROM ({codes})) w "
            f"LEFT JOIN link_tuples_{kind} t ON t.code = w.code "
            f"AND t.first_month <= DATE '{month_start(month)}' GROUP BY w.code")


def values_sql(kind: str, field: str, month: str) -> str:
    """(code, value) of every value of `field` seen with a code as of run month `month`."""
    return (f"SELECT DISTINCT code, {field} AS value FROM link_tuples_{kind} "
            f"WHERE {field} IS NOT NULL AND first_month <= DATE '{month_start(month)}'")


def prior_run_month(con: duckdb.DuckDBPyConnection, kind: str, month: str) -> str | None:
    """The latest run month before `month` that recorded its state (the state a run builds on)."""
    if not has_table(con, "link_state_runs"):
        return None
    return con.execute("SELECT max(run_month) FROM link_state_runs WHERE kind = ? AND run_month < ?",
                       [kind, month]).fetchall()[0][0]


def write_run_state(con: duckdb.DuckDBPyConnection, kind: str, month: str, unresolved_sql: str) -> None:
    """Record the records run `month` left unresolved, with what their rows said (raw_code,
    name, region_code and the residue's aggregates, by name), so the next run compares them
    again without reading their rows; in the caller's transaction, beside the links."""
    ensure_tables(con)
    con.execute("DELETE FROM link_unresolved WHERE run_month = ? AND kind = ?", [month, kind])
    con.execute("DELETE FROM link_state_runs WHERE run_month = ? AND kind = ?", [month, kind])
    con.execute(f"INSERT INTO link_unresolved BY NAME SELECT ? AS run_month, ? AS kind, * FROM ({unresolved_sql}) "
                "ORDER BY ALL", [month, kind])
    con.execute("INSERT INTO link_state_runs VALUES (?, ?)", [month, kind])


LINK_KEYS = {"person": ("person_links", ("raw_id", "name")),
             "firm": ("firm_links", ("raw_uscc", "firm_name", "region_code"))}


def links_asof_sql(kind: str, month: str) -> str:
    """The links in force as of run month `month`, from the link table that holds each link once:
    a run writes the links it made and, as `retired` rows, the earlier ones it no longer holds
    (an analyst decided on the record since); per record the latest row of a run month <= `month`
    is in force unless it is a retirement. A link whose record is no longer sent (superseded, or
    gone from a later snapshot) stays in force and joins no row."""
    table, key = LINK_KEYS[kind]
    return (f"SELECT * FROM {table} WHERE run_month <= '{month}' "
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(key)} ORDER BY run_month DESC) = 1 "
            f"AND method <> 'retired'")


def residue_sql(kind: str, keys: tuple[str, ...], stored: str, merged: dict[str, str], aggregate,
                since: str, prior: str | None, reopened: bool) -> str:
    """SQL of the records a run compares (the matchers' `_<k>_residue`), without reading history:
    the records of the rows sent since the latest earlier run (`aggregate(since)`), merged with
    what that run kept of those it left unresolved (`stored`: link_unresolved's columns in the
    order of `aggregate`'s); a record in `_<k>_reopened` (an analyst decided on it after it was
    linked) is read back from all its rows; a record in `_<k>_carried` is not compared. `merged`:
    output column -> aggregate over the parts; `fresh`: first compared now."""
    k = kind[0]

    def same(a: str, b: str) -> str:
        return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in keys)
    reopened_rows = (f"SELECT *, false AS kept FROM ({aggregate('true')}) a SEMI JOIN _{k}_reopened o "
                     f"ON {same('o', 'a')}") if reopened else f"SELECT *, false AS kept FROM ({aggregate('false')})"
    return f"""
        WITH parts AS (
            SELECT *, false AS kept FROM ({aggregate(since)})
            UNION ALL
            SELECT {stored}, true FROM link_unresolved WHERE kind = '{kind}' AND run_month = '{prior or ''}'
        ),
        records AS (
            SELECT * FROM parts p WHERE NOT EXISTS (SELECT 1 FROM _{k}_reopened o WHERE {same('o', 'p')})
            UNION ALL {reopened_rows}
        )
        SELECT row_number() OVER (ORDER BY {', '.join(c + ' NULLS FIRST' for c in keys)}) AS rid, {', '.join(keys)},
               {', '.join(f'{expr} AS {col}' for col, expr in merged.items())},
               NOT bool_or(kept) AND NOT EXISTS (SELECT 1 FROM _{k}_reopened o WHERE {same('o', 'r')}) AS fresh
        FROM records r
        WHERE NOT EXISTS (SELECT 1 FROM _{k}_carried c WHERE {same('c', 'r')})
        GROUP BY {', '.join(keys)}"""
