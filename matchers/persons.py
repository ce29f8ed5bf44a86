"""The person matcher: repair citizen IDs that fail the check digit, in one file.

Identity: a valid 18-character citizen ID *is* a person; two different valid IDs are never
merged (nothing here ever compares two valid IDs). Only records whose ID fails the check digit
(the residue, ~1-2 % of rows) are linked, to an ID from the universe of valid IDs seen as of the
run month in any source.

Steps — set-based in DuckDB; Python only for the names that are not equal as sent:
  1. occurrences  every (source, ID column) row as (id, id_valid, name, region, phone, employer);
                  each extract month's valid ones go once into the link state (matchers.state)
  2. known ids    the valid IDs of the link state as of M                    -> _p_known(code)
  3. residue      invalid IDs grouped by (raw ID, name as sent), one `rid` each: the records in
                  rows sent since the latest earlier run and those it left unresolved (the links
                  it made are carried, not compared again)                   -> _p_residue
  4. blocking     levels.PERSON_BLOCKING: every one-edit variant of the bad ID joined to the
                  known set (the exact candidate set); fallback same name + birth date for
                  records with no one-edit candidate                         -> _p_pairs
  5. compare      one label column `l_<field>` per levels.PERSON_COMPARISONS; names equal as
                  sent are `exact` in SQL, the rest go through names.compare_person_names
  6. score        Fellegi–Sunter: prior(block) + Σ log2(m/u) -> match probability (SQL
                  rendered from levels.py), with the m/u/priors estimated from this month's data
                  (matchers.weights, bounded by levels.py's values; `exact` names weighted by
                  their frequency) -> link_weights
  7. decide       analyst decisions first (reject → pair dropped for good; confirm → `reviewed`),
                  then the bands: one plausible candidate ≥ ACCEPT (and no conflict), or the only
                  one-edit candidate with an agreeing name and a shared employer/phone (strong
                  evidence), links; grey band, conflict or two plausible owners → review queue;
                  nothing plausible → unlinked
  8. nameless     a record without a name (subsidy ledger) takes the link of a named record with
                  the same bad ID, when all of those point to the same person
Outputs: temp tables _p_links, _p_review and the link_stats rows.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

import duckdb

from matchers import levels, names, state, weights
from matchers.review import Decisions
from zhibu.warehouse import month_start

log = logging.getLogger(__name__)

_ID_PATTERN = "[0-9]{17}[0-9X]"
REVIEW_COLUMNS = ["kind", "source", "source_file", "source_line", "left_id", "left_name", "left_region",
                  "left_phone", "right_id", "right_name", "right_region", "right_phone", "score", "agreed",
                  "reason"]


# --------------------------------------------------------------------------------------------
# Helpers shared with firms.py
# --------------------------------------------------------------------------------------------
def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str] | None:
    """Column names of a table/view, or None if it does not exist (asked of the catalog, not by a
    failing DESCRIBE: a failed statement would abort the transaction it runs in)."""
    exists = con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = ?", [relation]).fetchall()[0][0]
    if not exists:
        return None
    return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


class TimedConnection:
    """Connection wrapper that times every statement writing a table (steps of the matcher).
    Timings land in `timings` keyed by the table written; logged at DEBUG level."""

    _TARGET = re.compile(r"^\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?(?:TABLE|VIEW)|UPDATE|DELETE\s+FROM|"
                         r"INSERT\s+INTO)\s+(\w+)", re.IGNORECASE)

    def __init__(self, con: duckdb.DuckDBPyConnection, timings: dict[str, float]):
        self._con, self.timings = con, timings

    def execute(self, sql: str, params=None):
        match = self._TARGET.match(sql)
        started = time.perf_counter()
        result = self._con.execute(sql, params) if params is not None else self._con.execute(sql)
        if match:
            seconds = time.perf_counter() - started
            key = match.group(1)
            self.timings[key] = round(self.timings.get(key, 0.0) + seconds, 3)
            log.debug("step %s: %.3fs", key, seconds)
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def set_level_sql(left: str, right: str) -> str:
    """exact if the two lists share a value; null if either is empty."""
    return (f"CASE WHEN len(coalesce({left}, [])) = 0 OR len(coalesce({right}, [])) = 0 THEN 'null' "
            f"WHEN list_has_any({left}, {right}) THEN 'exact' ELSE 'else' END")


def region_level_sql(left: str, right: str) -> str:
    """same_county / same_league (first 4 digits: 盟市) / else / null, on lists of county codes."""
    return (f"CASE WHEN len(coalesce({left}, [])) = 0 OR len(coalesce({right}, [])) = 0 THEN 'null' "
            f"WHEN list_has_any({left}, {right}) THEN 'same_county' "
            f"WHEN list_has_any(list_transform({left}, lambda x: left(x, 4)), "
            f"list_transform({right}, lambda x: left(x, 4))) THEN 'same_league' ELSE 'else' END")


def resolve_name_levels(con, pairs: str, name_col: str, names_col: str, level_col: str, compare, order) -> int:
    """Fill `level_col` where SQL left it NULL: best level of `compare(name, candidate name)` over
    the candidate's names. Python runs once per distinct (name, candidate name)."""
    import pandas as pd   # imported when linking, not by explain or the other commands
    todo = con.execute(f"""SELECT DISTINCT {name_col} AS name, unnest({names_col}) AS cname FROM {pairs}
                           WHERE {level_col} IS NULL""").fetchall()
    if not todo:
        return 0
    frame = pd.DataFrame({"name": [a for a, _ in todo], "cname": [b for _, b in todo],
                          "level": [compare(a, b) for a, b in todo]})
    frame["rank"] = frame["level"].map({lv: i for i, lv in enumerate(order)}).astype("int64")
    con.register("_name_levels_frame", frame)
    try:
        con.execute(f"""
            UPDATE {pairs} SET {level_col} = b.level
            FROM (SELECT x.pair_id, arg_min(n.level, n.rank) AS level
                  FROM (SELECT pair_id, {name_col} AS name, unnest({names_col}) AS cname FROM {pairs}
                        WHERE {level_col} IS NULL) x
                  JOIN _name_levels_frame n ON n.name = x.name AND n.cname = x.cname
                  GROUP BY x.pair_id) b
            WHERE {pairs}.pair_id = b.pair_id""")
    finally:
        con.unregister("_name_levels_frame")
    return len(todo)


def score_sql(comparisons: tuple[levels.Comparison, ...], blocking: tuple[levels.BlockingRule, ...],
              overrides: dict[tuple[str, str], str] | None = None) -> dict[str, str]:
    """SQL expressions (over l_<field> label columns and `block`) rendered from levels.py:
    weight (log2 odds), score (probability), veto, agreed (fields), labels (human text),
    labels_zh (Chinese, for the review queue). `overrides` replaces the weight of a
    (field, level) by an SQL expression (the name-frequency weight of `exact` names)."""
    overrides = overrides or {}
    prior = "CASE block " + " ".join(f"WHEN {_q(b.key)} THEN {b.prior!r}" for b in blocking) + " ELSE 0.0 END"
    terms, vetoes, agreed, labels, labels_zh = [prior], [], [], [], []
    for comp in comparisons:
        col = f"l_{comp.field}"
        terms.append("CASE " + col + " " + " ".join(
            f"WHEN {_q(lv.label)} THEN {overrides.get((comp.field, lv.label), repr(lv.weight))}"
            for lv in comp.levels) + " ELSE 0.0 END")
        zh = [(lv.label, lv.zh) for lv in comp.levels if lv.zh and not lv.null]
        if zh:
            labels_zh.append("CASE " + col + " " + " ".join(f"WHEN {_q(a)} THEN {_q(b)}" for a, b in zh) + " END")
        veto = [lv.label for lv in comp.levels if lv.veto]
        if veto:
            vetoes.append(f"coalesce({col} IN ({', '.join(map(_q, veto))}), false)")
        agree = [lv.label for lv in comp.levels if lv.agrees]
        if agree:
            agreed.append(f"CASE WHEN {col} IN ({', '.join(map(_q, agree))}) THEN {_q(comp.field)} END")
        labels.append(f"{_q(comp.field + ' ')} || coalesce({col}, '?')")
    weight = "(" + " + ".join(terms) + ")"
    return {
        "weight": weight,
        "score": f"round(1.0 / (1.0 + pow(2.0, -greatest(least({weight}, 60.0), -60.0))), 6)",
        "veto": "(" + (" OR ".join(vetoes) or "false") + ")",
        "agreed": "concat_ws(',', " + ", ".join(agreed) + ")",
        "labels": "concat_ws('; ', " + ", ".join(labels) + ")",
        "labels_zh": "concat_ws('，', " + (", ".join(labels_zh) or "NULL") + ")",
    }


def decisions_table(con: duckdb.DuckDBPyConnection, decisions: Decisions) -> None:
    """Temp table _decisions(kind, raw_id, name, candidate_id, decision, reviewer, date)."""
    import pandas as pd   # imported when linking, not by explain or the other commands
    from matchers import codes
    valid = {"person": codes.id_valid, "firm": codes.uscc_valid}
    # a confirmation naming a code that fails its check is ignored (never link to a non-identity)
    rows = [d for d in decisions.rows() if d.decision == "reject" or valid[d.kind](d.candidate_id)]
    frame = pd.DataFrame({
        "kind": [d.kind for d in rows], "raw_id": [d.raw_id for d in rows], "name": [d.name for d in rows],
        "candidate_id": [d.candidate_id for d in rows], "decision": [d.decision for d in rows],
        "reviewer": [d.reviewer for d in rows], "date": [d.date for d in rows]}, dtype=object)
    con.register("_decisions_frame", frame)
    con.execute("""CREATE OR REPLACE TEMP TABLE _decisions AS
                   SELECT CAST(kind AS VARCHAR) AS kind, CAST(raw_id AS VARCHAR) AS raw_id, CAST(name AS VARCHAR) AS name,
                          CAST(candidate_id AS VARCHAR) AS candidate_id, CAST(decision AS VARCHAR) AS decision,
                          CAST(reviewer AS VARCHAR) AS reviewer, CAST(date AS VARCHAR) AS date
                   FROM _decisions_frame""")
    con.unregister("_decisions_frame")


def decide_sql(con, *, kind: str, residue: str, pairs: str, raw_col: str, name_col: str,
               valid_code: str, out: str, rules: bool = False) -> None:
    """Decide every residue record -> `out`(rid, verdict, candidate, score, reason, n_plausible).

    verdict: 'reviewed' (analyst confirmed), 'link', 'review' (one row per plausible candidate),
    'unlinked'. Rejected pairs are removed from `pairs` first: never proposed again.
    `rules`: `pairs` has boolean columns `strong` (links whatever the score when it is the only
    plausible candidate) and `conflict` (never auto-linked); see levels.py. Reasons are Chinese."""
    strong = "p.strong" if rules else "false"
    conflict = "p.conflict" if rules else "false"
    con.execute(f"""
        DELETE FROM {pairs} p USING _decisions d
        WHERE d.kind = '{kind}' AND d.decision = 'reject' AND d.raw_id IS NOT DISTINCT FROM p.{raw_col}
          AND d.name IS NOT DISTINCT FROM p.{name_col} AND d.candidate_id = p.candidate""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        WITH confirmed AS (
            SELECT r.rid, arg_max(d.candidate_id, d.date || d.candidate_id) AS candidate,
                   arg_max(d.reviewer, d.date || d.candidate_id) AS reviewer, max(d.date) AS date
            FROM {residue} r JOIN _decisions d
              ON d.kind = '{kind}' AND d.decision = 'confirm' AND d.raw_id IS NOT DISTINCT FROM r.{raw_col}
             AND d.name IS NOT DISTINCT FROM r.{name_col} AND {valid_code.replace('{code}', 'd.candidate_id')}
            GROUP BY r.rid
        ),
        flagged AS (
            SELECT p.rid, p.pair_id, p.candidate, p.score, p.veto, {strong} AS strong, {conflict} AS conflict,
                   NOT p.veto AND (p.score >= {levels.AMBIGUOUS_AT!r} OR {strong}) AS plausible
            FROM {pairs} p
        ),
        ranked AS (
            SELECT *, count(*) FILTER (WHERE plausible) OVER (PARTITION BY rid) AS n_plausible FROM flagged
        ),
        by_model AS (
            SELECT rid, pair_id, candidate, score, n_plausible,
                   CASE WHEN n_plausible = 1 AND (strong OR (score >= {levels.ACCEPT!r} AND NOT conflict))
                        THEN 'link' ELSE 'review' END AS verdict,
                   CASE WHEN n_plausible >= 2 THEN n_plausible || '个可能的号码主人，不自动比对 (ambiguous)'
                        WHEN strong THEN '强证据 (strong evidence)'
                        WHEN score >= {levels.ACCEPT!r} AND conflict
                        THEN '得分 ' || printf('%.3f', score) || ' 达标，但有矛盾信息且无共同单位、电话、院校或户 (conflict)'
                        WHEN score < {levels.ACCEPT!r}
                        THEN '存疑：得分 ' || printf('%.3f', score) || ' 低于 {levels.ACCEPT} (grey band)'
                        ELSE '' END AS reason
            FROM ranked
            WHERE plausible
        )
        SELECT c.rid, 'reviewed' AS verdict, c.candidate, 1.0::DOUBLE AS score,
               'confirmed by ' || coalesce(c.reviewer, '?') || ' on ' || coalesce(c.date, '?') AS reason,
               p.pair_id, 1 AS n_plausible
        FROM confirmed c LEFT JOIN {pairs} p ON p.rid = c.rid AND p.candidate = c.candidate
        UNION ALL
        SELECT b.rid, b.verdict, b.candidate, b.score, b.reason, b.pair_id, b.n_plausible
        FROM by_model b WHERE b.rid NOT IN (SELECT rid FROM confirmed)
    """)


# --------------------------------------------------------------------------------------------
# SQL steps
# --------------------------------------------------------------------------------------------
def relation(con: duckdb.DuckDBPyConnection, source: str, extract_month=None) -> str:
    """What occurrences read: the run's as-of view, or to profile one extract month, its staged
    rows as loaded (superseded or not, a snapshot not the latest: what the extract said), so a
    profile is the same whenever it is built. Hand-built warehouses without staging: the as-of."""
    if extract_month and relation_columns(con, f"stg_{source}") is not None:
        return f"stg_{source}"
    return f"asof_{source}"


def occurrences_sql(con: duckdb.DuckDBPyConnection, extract_month=None, only: str | None = None) -> str | None:
    """UNION ALL of every citizen-ID column of every asof_<source> view that exists; with
    `extract_month`, only the rows of that extract (to profile it, matchers.state); `only`
    'valid' / 'invalid': only rows whose ID passes / fails the check (filtered in each scan)."""
    selects = []
    month_filter = f" AND extract_month = DATE '{extract_month}'" if extract_month else ""
    for spec in levels.PERSON_ID_COLUMNS:
        cols = relation_columns(con, f"asof_{spec.source}")
        if cols is None or spec.column not in cols or f"{spec.column}_valid" not in cols:
            continue   # source switched off / not loaded (placeholder view without *_valid)

        def col(name: str | None) -> str:
            return name if name and name in cols else "NULL"

        employer = (f"CASE WHEN {spec.employer}_valid THEN {spec.employer} END"
                    if spec.employer and spec.employer in cols and f"{spec.employer}_valid" in cols else "NULL")
        validity = {"valid": f" AND {spec.column}_valid", "invalid": f" AND {spec.column}_valid IS NOT TRUE",
                    None: ""}[only]
        where = f"{spec.column} IS NOT NULL" + (f" AND ({spec.where})" if spec.where else "") + month_filter + validity
        selects.append(
            f"SELECT '{spec.source}' AS source, {spec.column} AS id, "
            f"coalesce({spec.column}_valid, false) AS id_valid, "
            f"CAST({col(spec.name)} AS VARCHAR) AS name, CAST({col(spec.region)} AS VARCHAR) AS region, "
            f"CAST({col(spec.phone)} AS VARCHAR) AS phone, CAST({employer} AS VARCHAR) AS employer, "
            f"CAST({col(spec.school)} AS VARCHAR) AS school, CAST({col(spec.household)} AS VARCHAR) AS household, "
            f"CAST({col('source_file')} AS VARCHAR) AS source_file, "
            f"CAST({col('source_line')} AS BIGINT) AS source_line, "
            f"CAST({col('extract_month')} AS DATE) AS extract_month "
            f"FROM {relation(con, spec.source, extract_month)} WHERE {where}"
        )
    return "\nUNION ALL\n".join(selects) if selects else None


ATTRIBUTES = state.FIELDS["person"]


def merged_list(column: str) -> str:
    """A list column merged over the rows of a group (sorted, distinct, NULL when empty)."""
    return f"nullif(list_sort(list_distinct(flatten(list({column})))), [])"


def month_state_sql(con: duckdb.DuckDBPyConnection, extract_month) -> str:
    """(code, <ATTRIBUTES>) of one extract month's rows with a valid ID, for matchers.state."""
    occurrences = occurrences_sql(con, extract_month, only="valid")
    cols = ", ".join(ATTRIBUTES)
    if occurrences is None:
        return f"SELECT NULL::VARCHAR AS code, {', '.join(f'NULL::VARCHAR AS {c}' for c in ATTRIBUTES)} WHERE false"
    return f"SELECT id AS code, {cols} FROM ({occurrences})"


def _build_pairs(con: duckdb.DuckDBPyConnection, bad_rows: str, month: str, prior: str | None) -> None:
    from matchers import codes
    con.execute(f"CREATE OR REPLACE TEMP VIEW _p_bad AS SELECT * FROM ({bad_rows}) "
                f"WHERE regexp_full_match(id, '{_ID_PATTERN}')")
    # the known persons: every valid ID of the extracts <= M (the link state, not their rows)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _p_known AS {state.known_sql('person', month)}")
    # What the latest earlier run linked stays linked, unless an analyst decided on the record
    # since; what it left unresolved is compared again, with the records first seen since.
    con.execute("CREATE OR REPLACE TEMP TABLE _p_prior AS " + (
        state.links_asof_sql("person", prior) if prior else
        "SELECT NULL::VARCHAR AS run_month, * EXCLUDE (block) FROM _p_links WHERE false"))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_carried AS
        SELECT l.raw_id, l.name, l.person_id, l.method, l.score, l.agreed, l.evidence, 'carried' AS block,
               coalesce(l.established_in, l.run_month) AS established_in
        FROM _p_prior l
        -- an anti join, not NOT EXISTS: the correlated form ran a delim join over every link
        ANTI JOIN (SELECT raw_id, name FROM _decisions WHERE kind = 'person') d
          ON d.raw_id = l.raw_id AND (d.name IS NOT DISTINCT FROM l.name OR l.name IS NULL)
    """)
    since = f"extract_month > DATE '{month_start(prior)}'" if prior else "true"
    # The records compared now, without reading history: the rows sent since the latest earlier
    # run, merged with what that run kept of the records it left unresolved (link_unresolved);
    # only a record an analyst decided on after it was linked is read back from all its rows.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _p_reopened AS
                    SELECT DISTINCT p.raw_id, p.name FROM _p_prior p SEMI JOIN _decisions d
                    ON d.kind = 'person' AND d.raw_id = p.raw_id AND (d.name IS NOT DISTINCT FROM p.name OR p.name IS NULL)""")
    reopened = con.execute("SELECT count(*) FROM _p_reopened").fetchall()[0][0]

    def aggregate(where: str) -> str:
        return f"""SELECT id AS raw_id, name,
               list(DISTINCT region ORDER BY region) FILTER (WHERE region IS NOT NULL) AS regions,
               list(DISTINCT phone ORDER BY phone) FILTER (WHERE phone IS NOT NULL) AS phones,
               list(DISTINCT employer ORDER BY employer) FILTER (WHERE employer IS NOT NULL) AS employers,
               list(DISTINCT school ORDER BY school) FILTER (WHERE school IS NOT NULL) AS schools,
               list(DISTINCT household ORDER BY household) FILTER (WHERE household IS NOT NULL) AS households,
               min(struct_pack(source := source, file := source_file, line := source_line)) AS first_seen,
               count(*) AS n_rows
            FROM _p_bad b WHERE {where} GROUP BY id, name"""
    lists = ("regions", "phones", "employers", "schools", "households")
    con.execute("CREATE OR REPLACE TEMP TABLE _p_residue AS " + state.residue_sql(
        "person", ("raw_id", "name"), f"raw_code, name, {', '.join(lists)}, first_seen, n_rows",
        {**{c: merged_list(c) for c in lists}, "first_seen": "min(first_seen)", "n_rows": "sum(n_rows)::BIGINT"},
        aggregate, since, prior, reopened))
    con.execute("""CREATE OR REPLACE TEMP TABLE _p_residue_all AS
                   SELECT raw_id, name FROM _p_residue UNION SELECT raw_id, name FROM _p_carried""")
    con.execute("CREATE OR REPLACE TEMP TABLE _p_pairs_edit AS "
                + codes.variants_sql("_p_residue", "raw_id", "_p_known", "id"))
    # Fallback block: same name as sent + same birth date, for records with no one-edit candidate.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_pairs_fallback AS
        WITH need AS (
            SELECT rid, raw_id, name FROM _p_residue r
            WHERE name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM _p_pairs_edit e WHERE e.raw = r.raw_id)
        ),
        -- name and birth date together restrict the ~20M-row scan (a common name alone does not)
        need_keys AS (SELECT DISTINCT name, substr(raw_id, 7, 8) AS birth FROM need),
        valid_named AS (
            SELECT DISTINCT x.id, x.name
            FROM (SELECT code AS id, value AS name FROM ({state.values_sql('person', 'name', month)})
                  WHERE substr(code, 7, 8) IN (SELECT birth FROM need_keys)) x
            SEMI JOIN need_keys k ON k.name = x.name AND k.birth = substr(x.id, 7, 8)
        )
        SELECT n.rid, v.id AS candidate
        FROM need n JOIN valid_named v ON v.name = n.name AND substr(v.id, 7, 8) = substr(n.raw_id, 7, 8)
    """)
    # The persons sampled for the weights' u and the name frequencies ride on the same scan as the
    # candidates' attributes (no extra pass over the occurrences).
    n_known = con.execute("SELECT count(*) FROM _p_known").fetchall()[0][0]
    sample = weights.sample_sql("_p_known", n_known) if levels.ESTIMATE_WEIGHTS else \
        "SELECT code FROM _p_known WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _p_usample AS {sample}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_cand_attrs AS
        WITH wanted AS (SELECT candidate FROM _p_pairs_edit UNION SELECT candidate FROM _p_pairs_fallback
                        UNION SELECT code FROM _p_usample)
        SELECT code AS id, * EXCLUDE (code)
        FROM ({state.attrs_sql("person", month, {f"{a}s": a for a in ATTRIBUTES}, "SELECT candidate AS code FROM wanted")})
    """)
    n_sample = weights.name_tf_table(con, "_p_usample", "_p_cand_attrs", "_p_name_tf")
    tf_floor = repr(weights.tf_floor(n_sample))
    # One row per candidate pair with a label column per comparison (levels.PERSON_COMPARISONS).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_pairs AS
        WITH pairs AS (
            SELECT r.rid, e.candidate, 'id_one_edit' AS block, e.edit
            FROM _p_residue r JOIN _p_pairs_edit e ON e.raw = r.raw_id
            UNION ALL
            SELECT f.rid, f.candidate, 'name_birthdate' AS block,
                   CASE WHEN hamming(r.raw_id, f.candidate) = 2 THEN 'two_edits' ELSE 'else' END AS edit
            FROM _p_pairs_fallback f JOIN _p_residue r ON r.rid = f.rid
        ),
        -- the candidate's most frequent name among the sampled persons (equi-join on each name)
        cand_tf AS (
            SELECT x.id, max(t.tf) AS tf
            FROM (SELECT id, unnest(names) AS name FROM _p_cand_attrs
                  WHERE id IN (SELECT candidate FROM _p_pairs_edit UNION SELECT candidate FROM _p_pairs_fallback)) x
            JOIN _p_name_tf t ON t.name = x.name
            GROUP BY x.id
        )
        SELECT row_number() OVER (ORDER BY p.rid, p.candidate) AS pair_id, p.rid, r.raw_id, r.name, p.candidate, r.fresh,
               p.block, p.edit, c.names AS c_names,
               CASE WHEN r.name IS NULL OR len(coalesce(c.names, [])) = 0 THEN 'null'
                    WHEN list_contains(c.names, r.name) THEN 'exact' END AS l_name,
               CASE WHEN p.edit LIKE 'substitution%' OR p.edit LIKE 'transposition%' THEN 'one_edit'
                    WHEN p.edit = 'two_edits' THEN 'two_edits' ELSE 'else' END AS l_id_edit,
               CASE WHEN substr(r.raw_id, 7, 8) = substr(p.candidate, 7, 8) THEN 'exact' ELSE 'else' END AS l_birth_date,
               CASE WHEN ascii(substr(r.raw_id, 17, 1)) % 2 = ascii(substr(p.candidate, 17, 1)) % 2
                    THEN 'exact' ELSE 'else' END AS l_sex,
               {region_level_sql('r.regions', 'c.regions')} AS l_region,
               {set_level_sql('r.phones', 'c.phones')} AS l_phone,
               {set_level_sql('r.employers', 'c.employers')} AS l_employer,
               {set_level_sql('r.schools', 'c.schools')} AS l_school,
               {set_level_sql('r.households', 'c.households')} AS l_household,
               count(*) FILTER (WHERE p.block = 'id_one_edit') OVER (PARTITION BY p.rid) AS n_edit,
               coalesce(ct.tf, {tf_floor}) AS name_tf,
               0.0::DOUBLE AS score, false AS veto, false AS strong, false AS conflict,
               ''::VARCHAR AS agreed, ''::VARCHAR AS labels, ''::VARCHAR AS labels_zh
        FROM pairs p JOIN _p_residue r ON r.rid = p.rid LEFT JOIN _p_cand_attrs c ON c.id = p.candidate
        LEFT JOIN cand_tf ct ON ct.id = p.candidate
    """)


# --------------------------------------------------------------------------------------------
# The matcher
# --------------------------------------------------------------------------------------------
@dataclass
class PersonMatch:
    links: str = "_p_links"        # raw_id, name, person_id, method, score, agreed, evidence, block, established_in
    review: str = "_p_review"      # REVIEW_COLUMNS
    stats: list[dict] = field(default_factory=list)
    known_ids: int = 0
    residue_records: int = 0
    carried_links: int = 0
    python_name_pairs: int = 0
    step_seconds: dict[str, float] = field(default_factory=dict)
    weights: list[dict] = field(default_factory=list)   # link_weights rows (matchers.weights)


def _empty_outputs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE _p_residue (raw_id VARCHAR, name VARCHAR, regions VARCHAR[],
                   phones VARCHAR[], employers VARCHAR[], schools VARCHAR[], households VARCHAR[],
                   first_seen STRUCT(source VARCHAR, file VARCHAR, line BIGINT), n_rows BIGINT)""")   # nothing compared
    con.execute("""CREATE OR REPLACE TEMP TABLE _p_links (raw_id VARCHAR, name VARCHAR, person_id VARCHAR,
                   method VARCHAR, score DOUBLE, agreed VARCHAR, evidence VARCHAR, block VARCHAR,
                   established_in VARCHAR)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _p_review (" + ", ".join(
        f"{c} {'BIGINT' if c == 'source_line' else 'DOUBLE' if c == 'score' else 'VARCHAR'}"
        for c in REVIEW_COLUMNS) + ")")
    con.execute("CREATE OR REPLACE TEMP TABLE _p_retired AS SELECT * FROM _p_links WHERE false")


def _name_tf_override(comparisons: tuple[levels.Comparison, ...]) -> dict[tuple[str, str], str]:
    """The `exact` name weight from the name's own frequency (`name_tf`), kept near the level weight."""
    exact = next(c for c in comparisons if c.field == "name").level("exact")
    w = exact.weight
    return {("name", "exact"): f"coalesce(least(greatest(log2({exact.m!r} / name_tf), {w - levels.TF_DOWN!r}), "
                               f"{w + levels.TF_UP!r}), {w!r})"}


def _edit_zh(edit: str) -> str:
    """SQL: the ID edit in Chinese ('substitution@15' -> 第15位录错)."""
    return (f"CASE WHEN {edit} LIKE 'substitution@%' THEN '号码第' || split_part({edit}, '@', 2) || '位录错' "
            f"WHEN {edit} LIKE 'transposition@%' THEN '号码第' || split_part({edit}, '@', 2) || '、' "
            f"|| (split_part({edit}, '@', 2)::INT + 1) || '位颠倒' "
            f"WHEN {edit} = 'two_edits' THEN '号码两位不同' ELSE '号码多位不同' END")


def match_persons(con: duckdb.DuckDBPyConnection, decisions: Decisions, month: str) -> PersonMatch:
    """Link every (bad ID, name) record seen as of the run month `month`; see the module docstring."""
    timings: dict[str, float] = {}
    con = TimedConnection(con, timings)
    occurrences = occurrences_sql(con)
    if occurrences is None:
        _empty_outputs(con)
        return PersonMatch()
    state.refresh(con, "person", month, occurrences, lambda e: month_state_sql(con, e))
    decisions_table(con, decisions)
    _empty_outputs(con)
    _build_pairs(con, occurrences_sql(con, only="invalid"), month, state.prior_run_month(con, "person", month))
    python_pairs = resolve_name_levels(con, "_p_pairs", "name", "c_names", "l_name",
                                       names.compare_person_names, ("exact", "homophone", "fuzzy", "else"))
    if levels.ESTIMATE_WEIGHTS:
        u_counts = weights.random_pair_levels(con, "_p_usample", "_p_cand_attrs")
        # a record left unresolved by an earlier run was counted then: only fresh records add
        weights.cumulative_patterns(con, month)
        estimate = weights.estimate_person_weights(con, con.execute("SELECT * FROM _p_patterns").df(), u_counts)
    else:
        estimate = weights.hand_estimate()
    s = score_sql(estimate.comparisons, estimate.blocking, _name_tf_override(estimate.comparisons))
    corroborating = [c.field for c in estimate.comparisons if c.corroborates]
    agrees = " OR ".join(f"l_{f} = 'exact'" for f in corroborating)
    disagrees = " OR ".join(f"l_{f} = 'else'" for f in corroborating)
    con.execute(f"""UPDATE _p_pairs SET score = {s['score']}, veto = {s['veto']}, agreed = {s['agreed']},
                    labels = {s['labels']}, labels_zh = {s['labels_zh']},
                    strong = block = 'id_one_edit' AND n_edit = 1 AND l_name IN ('exact', 'homophone')
                             AND (l_employer = 'exact' OR l_phone = 'exact'),
                    conflict = NOT ({agrees}) AND ({disagrees})""")
    decide_sql(con, kind="person", residue="_p_residue", pairs="_p_pairs", raw_col="raw_id", name_col="name",
               valid_code="regexp_full_match({code}, '" + _ID_PATTERN + "')", out="_p_decided", rules=True)

    evidence = ("p.block || ' (' || p.edit || '); ' || p.labels || '; p=' || printf('%.4f', p.score) "
                "|| CASE WHEN p.strong THEN '; strong evidence (one candidate, name agrees, shared employer/phone)' "
                "ELSE '' END")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_links AS
        SELECT r.raw_id, r.name, d.candidate AS person_id,
               CASE WHEN d.verdict = 'reviewed' THEN 'reviewed'
                    WHEN p.l_name = 'exact' THEN 'id_repaired' ELSE 'fuzzy' END AS method,
               d.score, coalesce(p.agreed, '') AS agreed,
               CASE WHEN d.verdict = 'reviewed'
                    THEN d.reason || '; ' || coalesce('model: ' || {evidence}, 'not proposed by the model')
                    ELSE {evidence} END AS evidence,
               coalesce(p.block, 'decision_file') AS block, {_q(month)} AS established_in
        FROM _p_decided d JOIN _p_residue r ON r.rid = d.rid LEFT JOIN _p_pairs p ON p.pair_id = d.pair_id
        WHERE d.verdict IN ('link', 'reviewed')
        UNION ALL
        SELECT * FROM _p_carried
    """)
    # Nameless records (subsidy ledger) follow a named record with the same bad ID, if all named
    # records with that bad ID were linked to one and the same person.
    con.execute(f"""
        INSERT INTO _p_links
        WITH named AS (
            SELECT r.raw_id, count(*) AS n_named, count(l.person_id) AS n_linked,
                   count(DISTINCT l.person_id) AS n_owners, min(l.person_id) AS person_id,
                   min(l.method) AS method, min(l.score) AS score, min(l.agreed) AS agreed
            FROM _p_residue_all r LEFT JOIN _p_links l ON l.raw_id = r.raw_id AND l.name = r.name
            WHERE r.name IS NOT NULL
              AND r.raw_id IN (SELECT raw_id FROM _p_residue WHERE name IS NULL)   -- nameless records compared now
            GROUP BY r.raw_id
        )
        SELECT r.raw_id, NULL, n.person_id, n.method, n.score, n.agreed,
               'same bad ID as ' || n.n_named || ' named record(s) linked to one person', 'same_raw_id',
               {_q(month)}
        FROM _p_residue_all r JOIN named n ON n.raw_id = r.raw_id
        WHERE r.name IS NULL AND n.n_linked = n.n_named AND n.n_owners = 1
          AND r.raw_id NOT IN (SELECT raw_id FROM _p_links WHERE name IS NULL)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_review AS
        SELECT 'person' AS kind, r.first_seen.source AS source, r.first_seen.file AS source_file,
               r.first_seen.line AS source_line, r.raw_id AS left_id, r.name AS left_name,
               nullif(array_to_string(r.regions, ','), '') AS left_region,
               nullif(array_to_string(r.phones, ','), '') AS left_phone,
               d.candidate AS right_id, nullif(array_to_string(c.names, '/'), '') AS right_name,
               nullif(array_to_string(c.regions, ','), '') AS right_region,
               nullif(array_to_string(c.phones, ','), '') AS right_phone,
               d.score, p.agreed,
               d.reason || '。' || {_edit_zh('p.edit')} || '，' || p.labels_zh || '（' || p.block || ': '
               || p.edit || '; ' || p.labels || '）' AS reason
        FROM _p_decided d JOIN _p_residue r ON r.rid = d.rid JOIN _p_pairs p ON p.pair_id = d.pair_id
        LEFT JOIN _p_cand_attrs c ON c.id = d.candidate
        WHERE d.verdict = 'review'
          AND NOT (r.name IS NULL AND r.raw_id IN (SELECT raw_id FROM _p_links WHERE name IS NULL))
    """)
    # the earlier links this run no longer holds (an analyst decided on the record since)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _p_retired AS
                    SELECT p.raw_id, p.name, NULL::VARCHAR AS person_id, 'retired' AS method, NULL::DOUBLE AS score,
                           '' AS agreed, 'retired: ' || p.method || ' link to ' || p.person_id
                           || ' made in ' || coalesce(p.established_in, p.run_month) AS evidence,
                           'retired' AS block, {_q(month)} AS established_in
                    FROM _p_prior p ANTI JOIN _p_links l ON l.raw_id = p.raw_id AND l.name IS NOT DISTINCT FROM p.name""")
    known = con.execute("SELECT count(*) FROM _p_known").fetchall()[0][0]
    residue = con.execute("SELECT count(*) FROM _p_residue").fetchall()[0][0]
    carried = con.execute("SELECT count(*) FROM _p_carried").fetchall()[0][0]
    stats = [{"stage": "person", "blocking_key": "valid_id", "candidate_pairs": 0, "links": known, "method": "exact"}]
    stats += outcome_stats(con, "person", "_p_pairs", "_p_decided", "_p_links",
                           "SELECT r.rid, l.method FROM _p_links l JOIN _p_residue r "
                           "ON r.raw_id = l.raw_id AND r.name IS NOT DISTINCT FROM l.name")
    log.info("persons: %d known valid IDs, %d residue records compared, %d links carried, "
             "%d name pairs compared in Python", known, residue, carried, python_pairs)
    return PersonMatch(stats=stats, known_ids=known, residue_records=residue, carried_links=carried,
                       python_name_pairs=python_pairs, step_seconds=timings, weights=estimate.rows)


def outcome_stats(con, stage: str, pairs: str, decided: str, links: str, link_rids_sql: str) -> list[dict]:
    """link_stats rows: candidate pairs per (blocking key, outcome of their record) and links per
    (blocking key of the winning pair, method)."""
    rows = con.execute(f"""
        WITH outcome AS (
            SELECT rid, any_value(method) AS outcome FROM ({link_rids_sql}) GROUP BY rid
            UNION ALL
            SELECT DISTINCT rid, 'review' FROM {decided} WHERE verdict = 'review'
              AND rid NOT IN (SELECT rid FROM ({link_rids_sql}))
        ),
        pair_counts AS (
            SELECT p.block, coalesce(o.outcome, 'unlinked') AS outcome, count(*) AS n
            FROM {pairs} p LEFT JOIN outcome o ON o.rid = p.rid GROUP BY ALL
        ),
        link_counts AS (SELECT block, method AS outcome, count(*) AS n FROM {links} GROUP BY ALL)
        SELECT coalesce(p.block, l.block), coalesce(p.outcome, l.outcome), coalesce(p.n, 0), coalesce(l.n, 0)
        FROM pair_counts p FULL JOIN link_counts l ON l.block = p.block AND l.outcome = p.outcome
        ORDER BY 1, 2
    """).fetchall()
    return [{"stage": stage, "blocking_key": b, "candidate_pairs": n, "links": k, "method": m}
            for b, m, n, k in rows]
