"""The firm matcher: repair USCCs that fail the check character, or find firms by name.

Identity: a valid USCC *is* a firm; two valid USCCs are never merged. The residue = records
whose USCC is broken (fails GB 32100) or missing while a firm name is given, grouped by
(raw USCC, firm name as sent, county). Candidates (levels.FIRM_BLOCKING):
  uscc_one_edit  every one-edit variant of the bad USCC found among the valid USCCs (SQL)
  name_league    normalised firm name equal or close to a business_registration name in the
                 same league (盟市), for records with no one-edit candidate (Python, rapidfuzz)
Compared on firm name (names.compare_firm_names), USCC distance, county, and shared employees
(a person on the record's rows — valid, or repaired by the person matcher — who also appears
with the candidate firm), and, for register rows, whether the candidate lacks a register row. Scored and decided by the same SQL as persons (persons.score_sql,
persons.decide_sql). Outputs: temp tables _f_links, _f_review and the link_stats rows.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
from rapidfuzz import fuzz, process

from matchers import codes, levels, names, state
from matchers.persons import (REVIEW_COLUMNS, TimedConnection, decide_sql, decisions_table, outcome_stats, region_level_sql,
                              merged_list, relation, relation_columns, resolve_name_levels, score_sql)
from matchers.review import Decisions
from zhibu.warehouse import month_start

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

_USCC_PATTERN = "[0-9A-HJ-NPQRTUWXY]{18}"


def occurrences_sql(con: duckdb.DuckDBPyConnection, person_links: str | None = None,
                    extract_month=None, only: str | None = None) -> str | None:
    """UNION ALL of every USCC column of every asof_<source> view that exists. `person_links`:
    a relation (raw_id, person_id) of repaired person IDs, for the shared-employee evidence;
    `extract_month`: only the rows of that extract (to profile it, matchers.state); `only`
    'valid' / 'invalid': only rows whose USCC passes / does not pass (filtered in each scan)."""
    selects = []
    month_filter = f" AND a.extract_month = DATE '{extract_month}'" if extract_month else ""
    for spec in levels.FIRM_ID_COLUMNS:
        cols = relation_columns(con, f"asof_{spec.source}")
        if cols is None or spec.column not in cols or f"{spec.column}_valid" not in cols:
            continue   # source switched off / not loaded (placeholder view without *_valid)

        def col(name: str | None) -> str:
            return f"a.{name}" if name and name in cols else "NULL"

        join, person = "", "NULL"
        if spec.person and spec.person in cols and f"{spec.person}_valid" in cols:
            # the employee on the row: a valid ID, or the person its bad ID was linked to
            if person_links:
                person = f"CASE WHEN a.{spec.person}_valid THEN a.{spec.person} ELSE _pl.person_id END"
                join = (f" LEFT JOIN {person_links} _pl ON NOT coalesce(a.{spec.person}_valid, false) "
                        f"AND _pl.raw_id = a.{spec.person}")
            else:
                person = f"CASE WHEN a.{spec.person}_valid THEN a.{spec.person} END"
        validity = {"valid": f" AND a.{spec.column}_valid", "invalid": f" AND a.{spec.column}_valid IS NOT TRUE",
                    None: ""}[only]
        where = ("TRUE" + (f" AND ({spec.where.replace('applicant_type', 'a.applicant_type')})" if spec.where else "")
                 + month_filter + validity)
        selects.append(
            f"SELECT '{spec.source}' AS source, a.{spec.column} AS code, "
            f"coalesce(a.{spec.column}_valid, false) AS code_valid, "
            f"CAST({col(spec.name)} AS VARCHAR) AS firm_name, CAST({col(spec.region)} AS VARCHAR) AS region, "
            f"CAST({person} AS VARCHAR) AS person, "
            f"CAST({col('source_file')} AS VARCHAR) AS source_file, "
            f"CAST({col('source_line')} AS BIGINT) AS source_line, "
            f"CAST({col('extract_month')} AS DATE) AS extract_month "
            f"FROM {relation(con, spec.source, extract_month)} a{join} WHERE {where}"
        )
    return "\nUNION ALL\n".join(selects) if selects else None


def _name_candidates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Fallback block `name_league`: register firms in the record's league whose normalised name
    starts with the same two characters (blocking key, computed in SQL on the register) and is
    close (rapidfuzz ratio >= FIRM_FUZZY_MIN on the full normalised names, Python)."""
    import numpy as np
    import pandas as pd   # imported when linking, not by explain or the other commands
    need = con.execute("""
        SELECT rid, firm_name, region_code FROM _f_residue r
        WHERE firm_name IS NOT NULL AND region_code IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM _f_pairs_edit e WHERE e.raw = r.raw_uscc)
        ORDER BY rid""").fetchall()
    reg, col, name_col = levels.FIRM_REGISTER
    cols = relation_columns(con, f"asof_{reg}")
    empty = pd.DataFrame({"rid": pd.Series([], dtype="int64"), "candidate": pd.Series([], dtype=object)})
    if not need or cols is None or f"{col}_valid" not in cols:
        return empty
    wanted = {}
    for rid, firm_name, region in need:
        key = names.normalise_firm_name(firm_name)
        if key and len(key) >= 2:
            wanted[rid] = (region[:4], key[:2], key)
    if not wanted:
        return empty
    blocks = sorted({(league, block) for league, block, _ in wanted.values()})
    register = con.execute(f"""
        WITH blocks AS (SELECT unnest(?) AS league, unnest(?) AS block),
        reg AS (
            SELECT DISTINCT {col} AS uscc, {name_col} AS name, substr(region_code, 1, 4) AS league,
                   substr({names.firm_block_key_sql(name_col)}, 1, 2) AS block
            FROM asof_{reg} WHERE {col}_valid AND {name_col} IS NOT NULL
        )
        SELECT r.uscc, r.name, r.league, r.block FROM reg r JOIN blocks b USING (league, block) ORDER BY ALL
    """, [[b[0] for b in blocks], [b[1] for b in blocks]]).fetchall()
    by_block: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for uscc, name, league, block in register:
        key = names.normalise_firm_name(name)
        if key:
            keys, ids = by_block.setdefault((league, block), ([], []))
            keys.append(key)
            ids.append(uscc)
    queries: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for rid, (league, block, key) in sorted(wanted.items()):
        if (league, block) in by_block:
            queries.setdefault((league, block), []).append((rid, key))
    found: dict[int, list[str]] = {}
    for blk, items in queries.items():
        keys, ids = by_block[blk]
        # every query of the block against every register name of the block, in C++ on all cores;
        # then the 5 best per query (ties in register order), as process.extract(limit=5) picks
        scores = process.cdist([k for _, k in items], keys, scorer=fuzz.ratio,
                               score_cutoff=levels.FIRM_FUZZY_MIN, workers=-1)
        for (rid, _), row in zip(items, scores):
            best = np.flatnonzero(row >= levels.FIRM_FUZZY_MIN)
            if len(best) > 5:    # highest score first, ties in register order (lexsort: last key first)
                best = best[np.lexsort((best, -row[best]))[:5]]
            found[rid] = sorted({ids[i] for i in best.tolist()})
    rids, cands = [], []
    for rid in sorted(found):
        rids += [rid] * len(found[rid])
        cands += found[rid]
    return pd.DataFrame({"rid": pd.Series(rids, dtype="int64"), "candidate": pd.Series(cands, dtype=object)})


def month_state_sql(con: duckdb.DuckDBPyConnection, extract_month, person_links: str | None) -> str:
    """(code, name, region, person, registered) of one extract month's rows with a valid USCC,
    for matchers.state: `registered` 'true' on the register's own rows."""
    occurrences = occurrences_sql(con, person_links, extract_month, only="valid")
    if occurrences is None:
        return ("SELECT NULL::VARCHAR AS code, NULL::VARCHAR AS name, NULL::VARCHAR AS region, "
                "NULL::VARCHAR AS person, NULL::VARCHAR AS registered WHERE false")
    return f"""SELECT code, firm_name AS name, region, person,
                      CASE WHEN source = '{levels.FIRM_REGISTER[0]}' THEN 'true' END AS registered
               FROM ({occurrences})"""


def _build_pairs(con: duckdb.DuckDBPyConnection, bad_rows: str, month: str, prior: str | None) -> None:
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _f_bad AS SELECT * FROM ({bad_rows})
                    WHERE (code IS NOT NULL AND regexp_full_match(code, '{_USCC_PATTERN}')) OR firm_name IS NOT NULL""")
    # the known firms: every valid USCC of the extracts <= M (the link state, not their rows)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _f_known AS {state.known_sql('firm', month)}")
    # What the latest earlier run linked stays linked, unless an analyst decided on the record
    # since; what it left unresolved is compared again, with the records first seen since.
    con.execute("CREATE OR REPLACE TEMP TABLE _f_prior AS " + (
        state.links_asof_sql("firm", prior) if prior else
        "SELECT NULL::VARCHAR AS run_month, * EXCLUDE (block) FROM _f_links WHERE false"))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _f_carried AS
        SELECT l.raw_uscc, l.firm_name, l.region_code, l.uscc, l.method, l.score, l.agreed, l.evidence,
               'carried' AS block, coalesce(l.established_in, l.run_month) AS established_in
        FROM _f_prior l
        ANTI JOIN (SELECT raw_id, name FROM _decisions WHERE kind = 'firm') d
          ON d.raw_id IS NOT DISTINCT FROM l.raw_uscc AND d.name IS NOT DISTINCT FROM l.firm_name
    """)
    since = f"extract_month > DATE '{month_start(prior)}'" if prior else "true"
    # The records compared now, without reading history (as matchers.persons): the rows sent since
    # the latest earlier run, merged with what it kept of the records it left unresolved; a
    # record an analyst decided on after it was linked is read back from all its rows.
    con.execute("""CREATE OR REPLACE TEMP TABLE _f_reopened AS
                   SELECT DISTINCT p.raw_uscc, p.firm_name, p.region_code FROM _f_prior p SEMI JOIN _decisions d
                   ON d.kind = 'firm' AND d.raw_id IS NOT DISTINCT FROM p.raw_uscc
                  AND d.name IS NOT DISTINCT FROM p.firm_name""")
    reopened = con.execute("SELECT count(*) FROM _f_reopened").fetchall()[0][0]

    def aggregate(where: str) -> str:
        return f"""SELECT code AS raw_uscc, firm_name, region AS region_code,
               list(DISTINCT person ORDER BY person) FILTER (WHERE person IS NOT NULL) AS persons,
               bool_or(source = '{levels.FIRM_REGISTER[0]}') AS from_register,
               min(struct_pack(source := source, file := source_file, line := source_line)) AS first_seen,
               count(*) AS n_rows
            FROM _f_bad b WHERE {where} GROUP BY code, firm_name, region"""
    con.execute("CREATE OR REPLACE TEMP TABLE _f_residue AS " + state.residue_sql(
        "firm", ("raw_uscc", "firm_name", "region_code"),
        "raw_code, name, region_code, persons, from_register, first_seen, n_rows",
        {"persons": merged_list("persons"), "from_register": "bool_or(from_register)",
         "first_seen": "min(first_seen)", "n_rows": "sum(n_rows)::BIGINT"},
        aggregate, since, prior, reopened))
    con.execute("CREATE OR REPLACE TEMP TABLE _f_pairs_edit AS "
                + codes.variants_sql("_f_residue", "raw_uscc", "_f_known", "uscc"))
    con.register("_f_pairs_name_frame", _name_candidates(con))
    con.execute("CREATE OR REPLACE TEMP TABLE _f_pairs_name AS SELECT rid::BIGINT AS rid, "
                "CAST(candidate AS VARCHAR) AS candidate FROM _f_pairs_name_frame")
    con.unregister("_f_pairs_name_frame")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _f_pairs_base AS
        SELECT row_number() OVER (ORDER BY rid, candidate) AS pair_id, * FROM (
            SELECT r.rid, e.candidate, 'uscc_one_edit' AS block, e.edit
            FROM _f_residue r JOIN _f_pairs_edit e ON e.raw = r.raw_uscc
            UNION ALL
            SELECT n.rid, n.candidate, 'name_league' AS block,
                   CASE WHEN r.raw_uscc IS NULL THEN NULL
                        WHEN hamming(r.raw_uscc, n.candidate) <= 1 THEN 'substitution' ELSE 'else' END AS edit
            FROM _f_pairs_name n JOIN _f_residue r ON r.rid = n.rid
        )
    """)
    # the candidates' attributes and distinct employees (the employee count and the shared-employee
    # comparison), as of M
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _f_cand_state AS
                    {state.attrs_sql("firm", month, {"names": "name", "regions": "region", "persons": "person",
                                                      "registered": "registered"},
                                     "SELECT candidate AS code FROM _f_pairs_base")}""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _f_cand_persons AS
                   SELECT code, unnest(persons) AS person FROM _f_cand_state""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _f_cand_attrs AS
        SELECT code, names, regions, len(coalesce(persons, [])) AS n_persons, registered IS NOT NULL AS registered
        FROM _f_cand_state
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _f_shared AS
        WITH record_persons AS (SELECT rid, unnest(persons) AS person FROM _f_residue WHERE len(persons) > 0)
        SELECT p.pair_id, count(*) AS n_shared
        FROM _f_pairs_base p JOIN record_persons rp ON rp.rid = p.rid
        JOIN _f_cand_persons cp ON cp.code = p.candidate AND cp.person = rp.person
        GROUP BY p.pair_id
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _f_pairs AS
        SELECT p.pair_id, p.rid, r.raw_uscc, r.firm_name, r.region_code, p.candidate, p.block,
               coalesce(p.edit, '') AS edit, c.names AS c_names,
               CASE WHEN r.firm_name IS NULL OR len(coalesce(c.names, [])) = 0 THEN 'null'
                    WHEN list_contains(c.names, r.firm_name) THEN 'exact' END AS l_firm_name,
               CASE WHEN p.edit IS NULL THEN 'null'
                    WHEN p.edit LIKE 'substitution%' OR p.edit LIKE 'transposition%' THEN 'one_edit'
                    ELSE 'else' END AS l_uscc_edit,
               {region_level_sql('[r.region_code]', 'c.regions')} AS l_region,
               CASE WHEN NOT r.from_register THEN 'null' WHEN coalesce(c.registered, false) THEN 'else'
                    ELSE 'exact' END AS l_register_gap,
               CASE WHEN len(coalesce(r.persons, [])) = 0 OR coalesce(c.n_persons, 0) = 0 THEN 'null'
                    WHEN s.n_shared > 0 THEN 'exact' ELSE 'else' END AS l_shared_employee,
               0.0::DOUBLE AS score, false AS veto, ''::VARCHAR AS agreed, ''::VARCHAR AS labels
        FROM _f_pairs_base p JOIN _f_residue r ON r.rid = p.rid
        LEFT JOIN _f_cand_attrs c ON c.code = p.candidate
        LEFT JOIN _f_shared s ON s.pair_id = p.pair_id
    """)


@dataclass
class FirmMatch:
    links: str = "_f_links"      # raw_uscc, firm_name, region_code, uscc, method, score, agreed, evidence, block
    review: str = "_f_review"    # REVIEW_COLUMNS
    stats: list[dict] = field(default_factory=list)
    known_codes: int = 0
    residue_records: int = 0
    carried_links: int = 0
    python_name_pairs: int = 0
    step_seconds: dict[str, float] = field(default_factory=dict)


def _empty_outputs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE _f_residue (raw_uscc VARCHAR, firm_name VARCHAR, region_code VARCHAR,
                   persons VARCHAR[], from_register BOOLEAN, first_seen STRUCT(source VARCHAR, file VARCHAR, line BIGINT),
                   n_rows BIGINT)""")   # nothing compared
    con.execute("""CREATE OR REPLACE TEMP TABLE _f_links (raw_uscc VARCHAR, firm_name VARCHAR, region_code VARCHAR,
                   uscc VARCHAR, method VARCHAR, score DOUBLE, agreed VARCHAR, evidence VARCHAR, block VARCHAR,
                   established_in VARCHAR)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _f_review (" + ", ".join(
        f"{c} {'BIGINT' if c == 'source_line' else 'DOUBLE' if c == 'score' else 'VARCHAR'}"
        for c in REVIEW_COLUMNS) + ")")
    con.execute("CREATE OR REPLACE TEMP TABLE _f_retired AS SELECT * FROM _f_links WHERE false")


def match_firms(con: duckdb.DuckDBPyConnection, decisions: Decisions, month: str,
                person_links: str | None = None) -> FirmMatch:
    """Link every (bad or missing USCC, firm name, county) record seen as of run month `month`."""
    timings: dict[str, float] = {}
    con = TimedConnection(con, timings)
    occurrences = occurrences_sql(con, person_links)
    if occurrences is None:
        _empty_outputs(con)
        return FirmMatch()
    state.refresh(con, "firm", month, occurrences, lambda e: month_state_sql(con, e, person_links))
    decisions_table(con, decisions)
    _empty_outputs(con)
    _build_pairs(con, occurrences_sql(con, person_links, only="invalid"), month,
                 state.prior_run_month(con, "firm", month))
    python_pairs = resolve_name_levels(con, "_f_pairs", "firm_name", "c_names", "l_firm_name",
                                       names.compare_firm_names, ("exact", "fuzzy_high", "fuzzy", "else"))
    s = score_sql(levels.FIRM_COMPARISONS, levels.FIRM_BLOCKING)
    con.execute(f"UPDATE _f_pairs SET score = {s['score']}, veto = {s['veto']}, agreed = {s['agreed']}, "
                f"labels = {s['labels']}")
    decide_sql(con, kind="firm", residue="_f_residue", pairs="_f_pairs", raw_col="raw_uscc", name_col="firm_name",
               valid_code="regexp_full_match({code}, '" + _USCC_PATTERN + "')", out="_f_decided")
    evidence = ("p.block || coalesce(' (' || nullif(p.edit, '') || ')', '') || '; ' || p.labels "
                "|| '; p=' || printf('%.4f', p.score)")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _f_links AS
        SELECT r.raw_uscc, r.firm_name, r.region_code, d.candidate AS uscc,
               CASE WHEN d.verdict = 'reviewed' THEN 'reviewed'
                    WHEN p.l_firm_name = 'exact' AND p.block = 'uscc_one_edit' THEN 'id_repaired'
                    ELSE 'fuzzy' END AS method,
               d.score, coalesce(p.agreed, '') AS agreed,
               CASE WHEN d.verdict = 'reviewed'
                    THEN d.reason || '; ' || coalesce('model: ' || {evidence}, 'not proposed by the model')
                    ELSE {evidence} END AS evidence,
               coalesce(p.block, 'decision_file') AS block, '{month}' AS established_in
        FROM _f_decided d JOIN _f_residue r ON r.rid = d.rid LEFT JOIN _f_pairs p ON p.pair_id = d.pair_id
        WHERE d.verdict IN ('link', 'reviewed')
        UNION ALL
        SELECT * FROM _f_carried
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _f_review AS
        SELECT 'firm' AS kind, r.first_seen.source AS source, r.first_seen.file AS source_file,
               r.first_seen.line AS source_line, r.raw_uscc AS left_id, r.firm_name AS left_name,
               r.region_code AS left_region, NULL::VARCHAR AS left_phone,
               d.candidate AS right_id, nullif(array_to_string(c.names, '/'), '') AS right_name,
               nullif(array_to_string(c.regions, ','), '') AS right_region, NULL::VARCHAR AS right_phone,
               d.score, p.agreed,
               d.reason || '; ' || p.block || coalesce(' (' || nullif(p.edit, '') || ')', '') || '; ' || p.labels AS reason
        FROM _f_decided d JOIN _f_residue r ON r.rid = d.rid JOIN _f_pairs p ON p.pair_id = d.pair_id
        LEFT JOIN _f_cand_attrs c ON c.code = d.candidate
        WHERE d.verdict = 'review'
    """)
    # the earlier links this run no longer holds (an analyst decided on the record since)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _f_retired AS
                    SELECT p.raw_uscc, p.firm_name, p.region_code, NULL::VARCHAR AS uscc, 'retired' AS method,
                           NULL::DOUBLE AS score, '' AS agreed, 'retired: ' || p.method || ' link to ' || p.uscc
                           || ' made in ' || coalesce(p.established_in, p.run_month) AS evidence,
                           'retired' AS block, '{month}' AS established_in
                    FROM _f_prior p ANTI JOIN _f_links l ON l.raw_uscc IS NOT DISTINCT FROM p.raw_uscc
                         AND l.firm_name IS NOT DISTINCT FROM p.firm_name
                         AND l.region_code IS NOT DISTINCT FROM p.region_code""")
    known = con.execute("SELECT count(*) FROM _f_known").fetchall()[0][0]
    residue = con.execute("SELECT count(*) FROM _f_residue").fetchall()[0][0]
    carried = con.execute("SELECT count(*) FROM _f_carried").fetchall()[0][0]
    stats = [{"stage": "firm", "blocking_key": "valid_uscc", "candidate_pairs": 0, "links": known, "method": "exact"}]
    stats += outcome_stats(con, "firm", "_f_pairs", "_f_decided", "_f_links",
                           "SELECT d.rid, l.method FROM _f_links l JOIN _f_residue d "
                           "ON d.raw_uscc IS NOT DISTINCT FROM l.raw_uscc AND d.firm_name IS NOT DISTINCT FROM "
                           "l.firm_name AND d.region_code IS NOT DISTINCT FROM l.region_code")
    log.info("firms: %d known valid USCCs, %d residue records compared, %d links carried, "
             "%d name pairs compared in Python", known, residue, carried, python_pairs)
    return FirmMatch(stats=stats, known_codes=known, residue_records=residue, carried_links=carried,
                     python_name_pairs=python_pairs, step_seconds=timings)
