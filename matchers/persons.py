"""The person matcher: repair citizen IDs that fail the check digit, in one file.

Identity: a valid 18-character citizen ID *is* a person; two different valid IDs are never
merged (nothing here ever compares two valid IDs). Only records whose ID fails the check digit
(the residue, ~1-2 % of rows) are linked, to an ID from the universe of valid IDs seen as of the
run month in any source.

Steps (heavy work in DuckDB, Python only on the residue):
  1. occurrences   every (source, ID column) row as (id, id_valid, name, region, phone, employer)
  2. known ids     distinct valid IDs                                   -> _p_known(code)
  3. residue       invalid IDs grouped by (raw ID, name as sent)        -> _p_residue
  4. blocking      levels.PERSON_BLOCKING: one-edit variants joined to the known set (exact
                   candidate set); fallback same name + birth date for records with none
  5. attributes    names / counties / phones / employers of the candidate IDs only
  6. compare       levels.PERSON_COMPARISONS per pair (names.compare_person_names for names)
  7. score         Fellegi–Sunter log2 weights -> match probability
  8. decide        analyst decisions first (confirm -> reviewed, reject -> never proposed), then
                   ACCEPT / REVIEW bands; two plausible owners -> review, never auto-linked
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from matchers import codes, levels, names
from matchers.review import Decisions

log = logging.getLogger(__name__)

_ID_PATTERN = "[0-9]{17}[0-9X]"


# --------------------------------------------------------------------------------------------
# Scoring and deciding (shared with firms.py)
# --------------------------------------------------------------------------------------------
@dataclass
class Candidate:
    record_key: tuple
    candidate: str
    block: str
    labels: dict[str, str]
    score: float = 0.0
    veto: bool = False
    agreed: list[str] = field(default_factory=list)
    weight: float = 0.0
    edit: str = ""            # e.g. substitution@9, transposition@11, two_edits


def score_candidate(cand: Candidate, comparisons: tuple[levels.Comparison, ...], prior: float) -> Candidate:
    """Fellegi–Sunter: prior log2-odds + sum of log2(m/u) of the levels reached."""
    weight = prior
    for comp in comparisons:
        level = comp.level(cand.labels[comp.field])
        weight += level.weight
        cand.veto = cand.veto or level.veto
        if level.agrees:
            cand.agreed.append(comp.field)
    cand.weight = weight
    cand.score = round(1.0 / (1.0 + 2.0 ** (-weight)), 6) if weight > -60 else 0.0
    return cand


def decide(cands: list[Candidate]) -> tuple[str, list[Candidate], str]:
    """-> ('link', [best], '') | ('review', plausible, reason) | ('unlinked', [], reason)."""
    plausible = sorted((c for c in cands if not c.veto and c.score >= levels.REVIEW),
                       key=lambda c: (-c.score, c.candidate))
    if not plausible:
        return "unlinked", [], "no plausible candidate" if cands else "no candidate"
    if sum(c.score >= levels.AMBIGUOUS_AT for c in plausible) >= 2:
        return "review", plausible, f"ambiguous: {len(plausible)} plausible owners"
    best = plausible[0]
    if best.score >= levels.ACCEPT:
        return "link", [best], ""
    return "review", [best], "grey band"


def region_level(left: set[str], right: set[str]) -> str:
    if not left or not right:
        return "null"
    if left & right:
        return "same_county"
    if {r[:4] for r in left} & {r[:4] for r in right}:
        return "same_league"
    return "else"


def set_level(left: set, right: set) -> str:
    if not left or not right:
        return "null"
    return "exact" if left & right else "else"


def evidence_text(cand: Candidate, extra: str = "") -> str:
    parts = [f"{cand.block}" + (f" ({cand.edit})" if cand.edit else "")]
    parts += [f"{k} {v}" for k, v in cand.labels.items() if k not in ("id_edit", "uscc_edit")]
    parts.append(f"p={cand.score:.4f}")
    if extra:
        parts.append(extra)
    return "; ".join(parts)


def records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts of plain Python values (NULL stays None, lists stay lists)."""
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str] | None:
    """Column names of a table/view, or None if it does not exist."""
    try:
        return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
    except duckdb.Error:
        return None


# --------------------------------------------------------------------------------------------
# SQL steps
# --------------------------------------------------------------------------------------------
def occurrences_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """UNION ALL of every citizen-ID column of every asof_<source> view that exists."""
    selects = []
    for spec in levels.PERSON_ID_COLUMNS:
        cols = relation_columns(con, f"asof_{spec.source}")
        if cols is None or spec.column not in cols or f"{spec.column}_valid" not in cols:
            continue   # source switched off / not loaded (placeholder view without *_valid)

        def col(name: str | None) -> str:
            return name if name and name in cols else "NULL"

        employer = (f"CASE WHEN {spec.employer}_valid THEN {spec.employer} END"
                    if spec.employer and spec.employer in cols and f"{spec.employer}_valid" in cols else "NULL")
        where = f"{spec.column} IS NOT NULL" + (f" AND ({spec.where})" if spec.where else "")
        selects.append(
            f"SELECT '{spec.source}' AS source, {spec.column} AS id, "
            f"coalesce({spec.column}_valid, false) AS id_valid, "
            f"CAST({col(spec.name)} AS VARCHAR) AS name, CAST({col(spec.region)} AS VARCHAR) AS region, "
            f"CAST({col(spec.phone)} AS VARCHAR) AS phone, CAST({employer} AS VARCHAR) AS employer, "
            f"CAST({col('source_file')} AS VARCHAR) AS source_file, "
            f"CAST({col('source_line')} AS BIGINT) AS source_line "
            f"FROM asof_{spec.source} WHERE {where}"
        )
    return "\nUNION ALL\n".join(selects) if selects else None


def _build_tables(con: duckdb.DuckDBPyConnection, occurrences: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP VIEW _p_occ AS {occurrences}")
    con.execute("CREATE OR REPLACE TEMP TABLE _p_known AS SELECT DISTINCT id AS code FROM _p_occ WHERE id_valid")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _p_residue AS
        SELECT id AS raw_id, name,
               list(DISTINCT region ORDER BY region) FILTER (WHERE region IS NOT NULL) AS regions,
               list(DISTINCT phone ORDER BY phone) FILTER (WHERE phone IS NOT NULL) AS phones,
               list(DISTINCT employer ORDER BY employer) FILTER (WHERE employer IS NOT NULL) AS employers,
               list(DISTINCT source ORDER BY source) AS sources,
               min(struct_pack(source := source, file := source_file, line := source_line)) AS first_seen,
               count(*) AS n_rows
        FROM _p_occ
        WHERE NOT id_valid AND regexp_full_match(id, '{_ID_PATTERN}')
        GROUP BY id, name
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _p_pairs_edit AS "
                + codes.variants_sql("_p_residue", "raw_id", "_p_known", "id"))
    # Fallback block: same name as sent + same birth date, for records with no one-edit candidate.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _p_pairs_fallback AS
        WITH need AS (
            SELECT DISTINCT raw_id, name FROM _p_residue r
            WHERE name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM _p_pairs_edit e WHERE e.raw = r.raw_id)
        ),
        valid_named AS (
            SELECT DISTINCT id, name FROM _p_occ
            WHERE id_valid AND name IN (SELECT name FROM need)
        )
        SELECT n.raw_id AS raw, n.name, v.id AS candidate
        FROM need n JOIN valid_named v ON v.name = n.name AND substr(v.id, 7, 8) = substr(n.raw_id, 7, 8)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _p_cand_attrs AS
        WITH wanted AS (SELECT candidate FROM _p_pairs_edit UNION SELECT candidate FROM _p_pairs_fallback)
        SELECT id,
               list(DISTINCT name ORDER BY name) FILTER (WHERE name IS NOT NULL) AS names,
               list(DISTINCT region ORDER BY region) FILTER (WHERE region IS NOT NULL) AS regions,
               list(DISTINCT phone ORDER BY phone) FILTER (WHERE phone IS NOT NULL) AS phones,
               list(DISTINCT employer ORDER BY employer) FILTER (WHERE employer IS NOT NULL) AS employers
        FROM _p_occ
        WHERE id_valid AND id IN (SELECT candidate FROM wanted)
        GROUP BY id
    """)


# --------------------------------------------------------------------------------------------
# Comparing one residue record with one candidate
# --------------------------------------------------------------------------------------------
def compare(record: dict, cand_id: str, cand: dict, block: str, edit: str | None) -> Candidate:
    """Level labels of every comparison in levels.PERSON_COMPARISONS."""
    raw = record["raw_id"]
    name_levels = [names.compare_person_names(record["name"], n) for n in (cand.get("names") or [])]
    order = ("exact", "homophone", "fuzzy", "else")
    name_level = min(name_levels, key=order.index) if name_levels and record["name"] else "null"
    if edit is None:
        edit = codes.edit_kind(raw, cand_id)
    id_edit = ("one_edit" if edit.startswith(("substitution", "transposition"))
               else "two_edits" if edit == "two_edits" else "else")
    labels = {
        "name": name_level,
        "id_edit": id_edit,
        "birth_date": "exact" if raw[6:14] == cand_id[6:14] else "else",
        "sex": "exact" if (raw[16] in "13579") == (cand_id[16] in "13579") else "else",
        "region": region_level(set(record["regions"] or []), set(cand.get("regions") or [])),
        "phone": set_level(set(record["phones"] or []), set(cand.get("phones") or [])),
        "employer": set_level(set(record["employers"] or []), set(cand.get("employers") or [])),
    }
    return Candidate((raw, record["name"]), cand_id, block, labels, edit=edit)


# --------------------------------------------------------------------------------------------
# The matcher
# --------------------------------------------------------------------------------------------
@dataclass
class PersonMatch:
    links: pd.DataFrame       # raw_id, name, person_id, method, score, agreed, evidence
    review: pd.DataFrame      # review_queue rows (kind 'person'), without run_month
    stats: list[dict]         # link_stats rows, without run_month
    known_ids: int = 0
    residue_records: int = 0


LINK_COLUMNS = ["raw_id", "name", "person_id", "method", "score", "agreed", "evidence"]
REVIEW_COLUMNS = ["kind", "source", "source_file", "source_line", "left_id", "left_name", "left_region",
                  "left_phone", "right_id", "right_name", "right_region", "right_phone", "score", "agreed",
                  "reason"]


def match_persons(con: duckdb.DuckDBPyConnection, decisions: Decisions) -> PersonMatch:
    occurrences = occurrences_sql(con)
    if occurrences is None:
        return PersonMatch(pd.DataFrame(columns=LINK_COLUMNS), pd.DataFrame(columns=REVIEW_COLUMNS), [])
    _build_tables(con, occurrences)

    residue = records(con, "SELECT * FROM _p_residue ORDER BY raw_id, name NULLS FIRST")
    edit_pairs: dict[str, list[tuple[str, str]]] = {}
    for raw, cand, edit in con.execute("SELECT raw, candidate, edit FROM _p_pairs_edit ORDER BY raw, candidate").fetchall():
        edit_pairs.setdefault(raw, []).append((cand, edit))
    fallback_pairs: dict[tuple, list[str]] = {}
    for raw, name, cand in con.execute("SELECT raw, name, candidate FROM _p_pairs_fallback ORDER BY ALL").fetchall():
        fallback_pairs.setdefault((raw, name), []).append(cand)
    attrs = {row["id"]: row for row in records(con, "SELECT * FROM _p_cand_attrs")}
    known = con.execute("SELECT count(*) FROM _p_known").fetchall()[0][0]
    priors = {b.key: b.prior for b in levels.PERSON_BLOCKING}

    links, review = [], []
    pair_counts: dict[tuple[str, str], int] = {}
    link_counts: dict[tuple[str, str], int] = {}
    outcome_by_record: dict[tuple, tuple[str, str | None, str | None, float, str, str]] = {}

    for record in residue:
        key = (record["raw_id"], record["name"])
        cands: list[Candidate] = []
        for cand_id, edit in edit_pairs.get(record["raw_id"], []):
            cands.append(compare(record, cand_id, attrs.get(cand_id, {}), "id_one_edit", edit))
        for cand_id in fallback_pairs.get(key, []):
            cands.append(compare(record, cand_id, attrs.get(cand_id, {}), "name_birthdate", None))
        for c in cands:
            score_candidate(c, levels.PERSON_COMPARISONS, priors[c.block])

        # Analyst decisions: rejected pairs are never proposed again; a confirmed pair links.
        cands = [c for c in cands if decisions.get("person", record["raw_id"], record["name"], c.candidate) != "reject"]
        confirmed = decisions.confirmed("person", record["raw_id"], record["name"])
        if confirmed and codes.id_valid(confirmed.candidate_id):
            match = next((c for c in cands if c.candidate == confirmed.candidate_id), None)
            model = f"model p={match.score:.4f}" if match else "not proposed by the model"
            outcome = ("reviewed", confirmed.candidate_id, 1.0,
                       ",".join(match.agreed) if match else "",
                       f"confirmed by {confirmed.reviewer} on {confirmed.date}; {model}",
                       match.block if match else "decision_file")
        else:
            verdict, chosen, reason = decide(cands)
            if verdict == "link":
                best = chosen[0]
                method = "id_repaired" if best.labels["name"] == "exact" else "fuzzy"
                outcome = (method, best.candidate, best.score, ",".join(best.agreed),
                           evidence_text(best), best.block)
            else:
                outcome = (verdict, None, None, "", reason, None)
                for c in chosen:
                    cand = attrs.get(c.candidate, {})
                    first = record["first_seen"] or {}
                    review.append({
                        "kind": "person", "source": first.get("source"), "source_file": first.get("file"),
                        "source_line": first.get("line"),
                        "left_id": record["raw_id"], "left_name": record["name"],
                        "left_region": ",".join(record["regions"] or []) or None,
                        "left_phone": ",".join(record["phones"] or []) or None,
                        "right_id": c.candidate, "right_name": "/".join(cand.get("names") or []) or None,
                        "right_region": ",".join(cand.get("regions") or []) or None,
                        "right_phone": ",".join(cand.get("phones") or []) or None,
                        "score": c.score, "agreed": ",".join(c.agreed),
                        "reason": f"{reason}; {evidence_text(c)}",
                    })
        outcome_by_record[key] = outcome
        for c in cands:
            pair_counts[(c.block, outcome[0])] = pair_counts.get((c.block, outcome[0]), 0) + 1

    # A nameless record (subsidy ledger) inherits the link of a named record with the same bad ID,
    # if all named records with that bad ID were linked to one and the same person.
    linked_by_raw: dict[str, set] = {}
    for (raw, name), outcome in outcome_by_record.items():
        if name is not None:
            linked_by_raw.setdefault(raw, set()).add(outcome[1] if outcome[0] in ("id_repaired", "fuzzy", "reviewed") else None)
    for (raw, name), outcome in list(outcome_by_record.items()):
        if name is None and outcome[0] in ("unlinked", "review"):
            owners = linked_by_raw.get(raw, set())
            if len(owners) == 1 and None not in owners:
                owner = next(iter(owners))
                src = next(o for (r, n), o in outcome_by_record.items() if r == raw and n is not None and o[1] == owner)
                outcome_by_record[(raw, name)] = (src[0], owner, src[2], src[3],
                                                  "same bad ID as a named record: " + src[4], "same_raw_id")
                review[:] = [r for r in review if not (r["left_id"] == raw and r["left_name"] is None)]

    for (raw, name), outcome in outcome_by_record.items():
        method, person_id, score, agreed, evidence, block = outcome
        if method in ("id_repaired", "fuzzy", "reviewed"):
            links.append({"raw_id": raw, "name": name, "person_id": person_id, "method": method,
                          "score": score, "agreed": agreed, "evidence": evidence})
            link_counts[(block, method)] = link_counts.get((block, method), 0) + 1

    stats = [{"stage": "person", "blocking_key": "valid_id", "candidate_pairs": 0, "links": known, "method": "exact"}]
    for block, outcome in sorted(set(pair_counts) | set(link_counts)):
        stats.append({"stage": "person", "blocking_key": block, "candidate_pairs": pair_counts.get((block, outcome), 0),
                      "links": link_counts.get((block, outcome), 0), "method": outcome})
    log.info("persons: %d known valid IDs, %d residue records, %d links, %d review rows",
             known, len(residue), len(links), len(review))
    return PersonMatch(pd.DataFrame(links, columns=LINK_COLUMNS), pd.DataFrame(review, columns=REVIEW_COLUMNS),
                       stats, known, len(residue))
