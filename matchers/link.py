"""Stage entry point: link people and firms for run month M, write the link tables, create lnk_<source>.

    stats = link_month(con, "2026-10", decisions_file=None)

Reads the temp views `asof_<source>` (zhibu.warehouse.create_asof_views). Writes, replacing the
rows of run month M:
  person_links(run_month, raw_id, name, person_id, method, score, agreed, evidence)
  firm_links(run_month, raw_uscc, firm_name, region_code, uscc, method, score, agreed, evidence)
  review_queue(run_month, kind, source, source_file, source_line, left_id, left_name, left_region,
               left_phone, right_id, right_name, right_region, right_phone, score, agreed, reason)
  link_stats(run_month, stage, blocking_key, candidate_pairs, links, method)
  link_weights(run_month, stage, comparison, level, m_hand, u_hand, weight_hand, m_est, u_est,
               weight_est, weight_used, ...)   the person weights estimated this run (matchers.weights)
and creates temp views `lnk_<source>` = `asof_<source>` with every ID/USCC column `c` replaced by
the linked canonical value plus `c_raw`, `c_method`, `c_score`.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb

from matchers import levels, state, weights
from matchers.firms import match_firms
from matchers.persons import match_persons, relation_columns
from matchers.review import read_decisions
from zhibu.warehouse import LOOKUP_FLAG

log = logging.getLogger(__name__)

DECISIONS_FILE_NAME = "review_decisions.csv"

DDL = {
    "person_links": """CREATE TABLE IF NOT EXISTS person_links (
        run_month VARCHAR, raw_id VARCHAR, name VARCHAR, person_id VARCHAR, method VARCHAR,
        score DOUBLE, agreed VARCHAR, evidence VARCHAR, established_in VARCHAR)""",
    "firm_links": """CREATE TABLE IF NOT EXISTS firm_links (
        run_month VARCHAR, raw_uscc VARCHAR, firm_name VARCHAR, region_code VARCHAR, uscc VARCHAR,
        method VARCHAR, score DOUBLE, agreed VARCHAR, evidence VARCHAR, established_in VARCHAR)""",
    "review_queue": """CREATE TABLE IF NOT EXISTS review_queue (
        run_month VARCHAR, kind VARCHAR, source VARCHAR, source_file VARCHAR, source_line BIGINT,
        left_id VARCHAR, left_name VARCHAR, left_region VARCHAR, left_phone VARCHAR,
        right_id VARCHAR, right_name VARCHAR, right_region VARCHAR, right_phone VARCHAR,
        score DOUBLE, agreed VARCHAR, reason VARCHAR)""",
    "link_stats": """CREATE TABLE IF NOT EXISTS link_stats (
        run_month VARCHAR, stage VARCHAR, blocking_key VARCHAR, candidate_pairs BIGINT, links BIGINT,
        method VARCHAR)""",
}
COLUMNS = {
    "person_links": ["run_month", "raw_id", "name", "person_id", "method", "score", "agreed", "evidence",
                     "established_in"],
    "firm_links": ["run_month", "raw_uscc", "firm_name", "region_code", "uscc", "method", "score", "agreed",
                   "evidence", "established_in"],
    "review_queue": ["run_month", "kind", "source", "source_file", "source_line", "left_id", "left_name",
                     "left_region", "left_phone", "right_id", "right_name", "right_region", "right_phone",
                     "score", "agreed", "reason"],
    "link_stats": ["run_month", "stage", "blocking_key", "candidate_pairs", "links", "method"],
}
ORDER = {
    "person_links": "raw_id, name NULLS FIRST",
    "firm_links": "raw_uscc NULLS FIRST, firm_name NULLS FIRST, region_code NULLS FIRST",
    "review_queue": "kind, left_id NULLS FIRST, left_name NULLS FIRST, left_region NULLS FIRST, score DESC, right_id",
    "link_stats": "stage, blocking_key, method",
}


def default_decisions_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`<warehouse dir>/review_decisions.csv` for a file-backed warehouse, else None."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    row = rows[0] if rows else None
    if not row or not row[0]:
        return None
    return Path(row[0]).resolve().parent / DECISIONS_FILE_NAME


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, ddl in DDL.items():
        con.execute(ddl)
    for table in ("person_links", "firm_links"):   # the run month a link was first made (matchers.state)
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS established_in VARCHAR")


def _write(con: duckdb.DuckDBPyConnection, table: str, month: str, select_sql: str) -> None:
    """Replace run month `month` of `table` with the rows of `select_sql` (canonical columns but run_month)."""
    con.execute(f"DELETE FROM {table} WHERE run_month = ?", [month])
    cols = ", ".join(COLUMNS[table])
    con.execute(f"INSERT INTO {table} ({cols}) SELECT ? AS run_month, {', '.join(COLUMNS[table][1:])} "
                f"FROM ({select_sql}) ORDER BY {ORDER[table]}", [month])


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def links_in_force(con: duckdb.DuckDBPyConnection, kind: str, month: str, fresh: bool = False) -> str:
    """The temp table links_<kind>: the links in force as of `month`, built once per connection
    and month (the link views and the report read the same table; the month it holds is kept
    in the variable zb_links_<kind>_month)."""
    var = f"zb_links_{kind}_month"
    if fresh or relation_columns(con, f"links_{kind}") is None or \
            con.execute(f"SELECT getvariable('{var}')").fetchall()[0][0] != month:
        con.execute(f"CREATE OR REPLACE TEMP TABLE links_{kind} AS {state.links_asof_sql(kind, month)}")
        con.execute(f"SET VARIABLE {var} = ?", [month])
    return f"links_{kind}"


def create_link_views(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """Temp views lnk_<source>: asof_<source> with each ID/USCC column replaced by its linked value
    (the links in force as of `month`, materialised once as temp tables links_person / links_firm)."""
    for kind in ("person", "firm"):
        table = state.LINK_KEYS[kind][0]
        if relation_columns(con, table) is None:
            ensure_tables(con)
        links_in_force(con, kind, month, fresh=True)
    by_source: dict[str, list[tuple[str, object]]] = {}
    for spec in levels.PERSON_ID_COLUMNS:
        by_source.setdefault(spec.source, []).append(("person", spec))
    for spec in levels.FIRM_ID_COLUMNS:
        by_source.setdefault(spec.source, []).append(("firm", spec))
    created = []
    for source, specs in by_source.items():
        cols_list = [r[0] for r in con.execute(f"DESCRIBE asof_{source}").fetchall()] \
            if relation_columns(con, f"asof_{source}") is not None else None
        if cols_list is None:
            continue
        cols = set(cols_list)
        joins, exprs_by_col, valid_by_col, settled = [], {}, {}, {}
        for i, (kind, spec) in enumerate(specs):
            c = spec.column
            if c not in cols:
                continue
            valid = f"coalesce(a.{c}_valid, false)" if f"{c}_valid" in cols else "false"
            alias = f"l{i}"
            # a row this column needs no lookup for: a valid code, or one no link can exist for
            # (person links have a raw ID; firm links a USCC or a name)
            if kind == "person":
                name = f"a.{spec.name}" if spec.name and spec.name in cols else "NULL"
                unlinkable = f"a.{c} IS NULL"
                joins.append(f"LEFT JOIN links_person {alias} ON NOT {valid} "
                             f"AND {alias}.raw_id = a.{c} AND {alias}.name IS NOT DISTINCT FROM {name}")
                linked = f"{alias}.person_id"
            else:
                name = f"a.{spec.name}" if spec.name and spec.name in cols else "NULL"
                region = f"a.{spec.region}" if spec.region and spec.region in cols else "NULL"
                unlinkable = f"a.{c} IS NULL" + (f" AND {name} IS NULL" if name != "NULL" else "")
                joins.append(f"LEFT JOIN links_firm {alias} ON NOT {valid} "
                             f"AND {alias}.raw_uscc IS NOT DISTINCT FROM a.{c} "
                             f"AND {alias}.firm_name IS NOT DISTINCT FROM {name} "
                             f"AND {alias}.region_code IS NOT DISTINCT FROM CAST({region} AS VARCHAR)")
                linked = f"{alias}.uscc"
            value = f"CASE WHEN {valid} THEN a.{c} ELSE {linked} END"
            method = f"CASE WHEN {valid} THEN 'exact' ELSE {alias}.method END"
            score = f"CASE WHEN {valid} THEN 1.0::DOUBLE ELSE {alias}.score END"
            cond = spec.where.replace("applicant_type", "a.applicant_type") if spec.where else None
            exprs_by_col.setdefault(c, []).append((cond, value, method, score))
            valid_by_col[c] = valid
            settled[c] = settled.get(c, []) + [f"({valid} OR {unlinkable})"]
        if not exprs_by_col:
            continue

        def pick(options: list, idx: int) -> str:
            if len(options) == 1 and options[0][0] is None:
                return options[0][idx]
            whens = " ".join(f"WHEN {cond or 'TRUE'} THEN {opt[idx]}" for opt in options for cond in [opt[0]])
            return f"CASE {whens} END"

        def select_list(all_settled: bool) -> str:
            """The view's columns; on rows that need no lookup, each code is itself: exact when
            valid, and a missing code has no method or score (as a lookup finding nothing)."""
            by_col = {col: [(cond, f"a.{col}", f"CASE WHEN {valid_by_col[col]} THEN 'exact' END",
                             f"CASE WHEN {valid_by_col[col]} THEN 1.0::DOUBLE END")
                            if all_settled else (cond, *exprs)
                            for cond, *exprs in options]
                      for col, options in exprs_by_col.items()}
            select = []
            for col in cols_list:
                select.append(f"{pick(by_col[col], 1)} AS {col}" if col in by_col else f"a.{col}")
            for col, options in by_col.items():
                select += [f"a.{col} AS {col}_raw", f"{pick(options, 2)} AS {col}_method",
                           f"{pick(options, 3)} AS {col}_score"]
            return ", ".join(select)

        # Rows whose every code is valid or missing (nearly all; a 灵活就业人员's contributions
        # have no employer) need no link lookup: they bypass the joins, so a consumer's filter
        # reaches their scan and ~20M contribution rows are not probed.
        no_lookup = " AND ".join(" AND ".join(conds) for conds in settled.values())
        # The few rows that need a lookup are looked up once per run into a temp table: as a view
        # branch, every reader of lnk_<source> scanned all of history's rows for them. Which rows
        # they are is a stored mark (a boolean a scan filters on), so finding them reads one
        # column, not every column of every row (an OR over columns never reaches the scan).
        if _mark_lookups(con, source, no_lookup):
            base, lookup, settled_rows = f"asof_{source}__flagged", f"a.{LOOKUP_FLAG}", f"NOT a.{LOOKUP_FLAG}"
        else:
            base, lookup, settled_rows = f"asof_{source}", f"NOT ({no_lookup})", no_lookup
        con.execute(f"""CREATE OR REPLACE TEMP TABLE lnk_{source}__looked_up AS
            SELECT {select_list(False)} FROM {base} a {' '.join(joins)} WHERE {lookup}""")
        con.execute(f"""CREATE OR REPLACE TEMP VIEW lnk_{source} AS
            SELECT {select_list(True)} FROM {base} a WHERE {settled_rows}
            UNION ALL
            SELECT * FROM lnk_{source}__looked_up""")
        created.append(f"lnk_{source}")
    return created


def _mark_lookups(con: duckdb.DuckDBPyConnection, source: str, no_lookup: str) -> bool:
    """Set stg_<source>.needs_link_lookup on the rows that have none yet (a month's new rows)
    and say whether every row carries it. The rule is recorded (link_lookup_rules): when the
    code's rule changes, every mark is set again. A read-only warehouse is never written: its
    marks are used only when every row has one under the same rule."""
    table = f"stg_{source}"
    if relation_columns(con, f"asof_{source}__flagged") is None:
        return False
    rule = f"NOT ({no_lookup})"
    writable = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
                           "AND database_name = current_database() AND NOT temporary",
                           [table]).fetchall()[0][0] > 0
    if writable:
        con.execute("CREATE TABLE IF NOT EXISTS link_lookup_rules (source VARCHAR PRIMARY KEY, rule VARCHAR)")
    known = relation_columns(con, "link_lookup_rules") is not None and con.execute(
        "SELECT count(*) FROM link_lookup_rules WHERE source = ? AND rule = ?", [source, rule]).fetchall()[0][0] > 0
    if not writable:
        return known and con.execute(
            f"SELECT count(*) FROM {table} WHERE {LOOKUP_FLAG} IS NULL").fetchall()[0][0] == 0
    scope = "" if not known else f"WHERE {LOOKUP_FLAG} IS NULL"
    con.execute(f"UPDATE {table} AS a SET {LOOKUP_FLAG} = {rule} {scope}")
    con.execute("INSERT OR REPLACE INTO link_lookup_rules VALUES (?, ?)", [source, rule])
    return True


def _by_method(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    return {m: n for m, n in con.execute(f"SELECT method, count(*) FROM {table} GROUP BY 1 ORDER BY 1").fetchall()}


def link_month(con: duckdb.DuckDBPyConnection, month: str, decisions_file: Path | None = None) -> dict:
    """Link persons and firms as of `month` ('YYYY-MM'); returns stats."""
    import pandas as pd   # imported when linking, not by explain or the other commands
    started = time.perf_counter()
    if decisions_file is None:
        decisions_file = default_decisions_file(con)
    decisions = read_decisions(decisions_file)
    ensure_tables(con)
    t0 = time.perf_counter()
    persons = match_persons(con, decisions, month)
    t1 = time.perf_counter()
    # repaired employees count as shared-employee evidence for the firms (one owner per bad ID only)
    con.execute("""CREATE OR REPLACE TEMP TABLE _p_linked_raw AS
                   SELECT raw_id, any_value(person_id) AS person_id FROM _p_links
                   GROUP BY raw_id HAVING count(DISTINCT person_id) = 1""")
    firms = match_firms(con, decisions, month, person_links="_p_linked_raw")
    t2 = time.perf_counter()
    stats_frame = pd.DataFrame(persons.stats + firms.stats, columns=COLUMNS["link_stats"][1:])
    con.register("_link_stats_frame", stats_frame)

    con.execute("BEGIN TRANSACTION")
    try:
        # each link once: the ones this run made, and the earlier ones it retired (matchers.state)
        _write(con, "person_links", month, "SELECT * FROM _p_links WHERE block <> 'carried' "
                                           "UNION ALL SELECT * FROM _p_retired")
        _write(con, "firm_links", month, "SELECT * FROM _f_links WHERE block <> 'carried' "
                                         "UNION ALL SELECT * FROM _f_retired")
        _write(con, "review_queue", month, "SELECT * FROM _p_review UNION ALL SELECT * FROM _f_review")
        _write(con, "link_stats", month, "SELECT * FROM _link_stats_frame")
        weights.write_weights(con, month, persons.weights)
        weights.write_patterns(con, month)
        state.write_run_state(con, "person", month, """
            SELECT raw_id AS raw_code, name, regions, phones, employers, schools, households, first_seen, n_rows
            FROM _p_residue r
            WHERE NOT EXISTS (SELECT 1 FROM _p_links l WHERE l.raw_id = r.raw_id AND l.name IS NOT DISTINCT FROM r.name)""")
        state.write_run_state(con, "firm", month, """
            SELECT raw_uscc AS raw_code, firm_name AS name, region_code, persons, from_register, first_seen, n_rows
            FROM _f_residue r
            WHERE NOT EXISTS (SELECT 1 FROM _f_links l WHERE l.raw_uscc IS NOT DISTINCT FROM r.raw_uscc
                              AND l.firm_name IS NOT DISTINCT FROM r.firm_name
                              AND l.region_code IS NOT DISTINCT FROM r.region_code)""")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_link_stats_frame")
    views = create_link_views(con, month)
    counts = {
        "person_links": _by_method(con, "_p_links"), "firm_links": _by_method(con, "_f_links"),
        "review_queue": {"person": con.execute("SELECT count(*) FROM _p_review").fetchall()[0][0],
                         "firm": con.execute("SELECT count(*) FROM _f_review").fetchall()[0][0]},
    }
    for tmp in ("_p_bad", "_f_bad"):
        con.execute(f"DROP VIEW IF EXISTS {tmp}")
    for tmp in ("_p_usample", "_p_name_tf", "_w_upairs", "_p_known", "_p_residue", "_p_pairs_edit", "_p_pairs_fallback", "_p_cand_attrs", "_p_pairs",
                "_p_decided", "_p_links", "_p_review", "_p_linked_raw", "_decisions", "_p_carried", "_p_residue_all", "_f_carried",
                "_p_reopened", "_f_reopened", "_p_patterns", "_f_cand_state", "_p_prior", "_f_prior", "_p_retired", "_f_retired",
                "_f_known", "_f_residue", "_f_cand_occ", "_f_cand_persons", "_f_pairs_edit", "_f_pairs_name", "_f_pairs_base", "_f_cand_attrs",
                "_f_shared", "_f_pairs", "_f_decided", "_f_links", "_f_review"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")

    pairs = {}
    for row in persons.stats + firms.stats:
        k = f"{row['stage']}:{row['blocking_key']}"
        pairs[k] = pairs.get(k, 0) + int(row["candidate_pairs"])
    stats = {
        "month": month,
        "known_person_ids": persons.known_ids,
        "person_residue_records": persons.residue_records,
        "person_links_carried": persons.carried_links,
        "person_links": counts["person_links"],
        "known_firm_usccs": firms.known_codes,
        "firm_residue_records": firms.residue_records,
        "firm_links_carried": firms.carried_links,
        "firm_links": counts["firm_links"],
        "candidate_pairs": pairs,
        "review_queue": counts["review_queue"],
        "name_pairs_compared_in_python": {"person": persons.python_name_pairs, "firm": firms.python_name_pairs},
        "decisions": len(decisions),
        "views": views,
        "seconds": {"persons": round(t1 - t0, 3), "firms": round(t2 - t1, 3),
                    "total": round(time.perf_counter() - started, 3),
                    "steps": {**persons.step_seconds, **firms.step_seconds}},
    }
    log.info("link %s: persons %s, firms %s, review %s, %.1fs", month, stats["person_links"],
             stats["firm_links"], stats["review_queue"], stats["seconds"]["total"])
    return stats
