"""The firm matcher: repair USCCs that fail the check character, or find firms by name.

Identity: a valid USCC *is* a firm; two valid USCCs are never merged. The residue = records
whose USCC is broken (fails GB 32100) or missing while a firm name is given. Grouped by
(raw USCC, firm name as sent, county). Candidates (levels.FIRM_BLOCKING):
  uscc_one_edit  every one-edit variant of the bad USCC found among the valid USCCs (SQL)
  name_league    normalised firm name equal/close to a business_registration name in the same
                 league (盟市), for records with no one-edit candidate (Python, rapidfuzz)
Compared on firm name, USCC distance, county, and shared employees (a person on the record's
rows who also appears with the candidate firm). Scored and decided like persons.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pandas as pd
from rapidfuzz import fuzz, process

from matchers import codes, levels, names
from matchers.persons import (REVIEW_COLUMNS, Candidate, decide, evidence_text, records, region_level,
                              relation_columns, score_candidate, set_level)
from matchers.review import Decisions

log = logging.getLogger(__name__)

_USCC_PATTERN = "[0-9A-HJ-NPQRTUWXY]{18}"
LINK_COLUMNS = ["raw_uscc", "firm_name", "region_code", "uscc", "method", "score", "agreed", "evidence"]


def occurrences_sql(con: duckdb.DuckDBPyConnection, person_links: str | None = None) -> str | None:
    """UNION ALL of every USCC column of every asof_<source> view that exists. `person_links`:
    a relation (raw_id, person_id) of repaired person IDs, for the shared-employee evidence."""
    selects = []
    for spec in levels.FIRM_ID_COLUMNS:
        cols = relation_columns(con, f"asof_{spec.source}")
        if cols is None or spec.column not in cols or f"{spec.column}_valid" not in cols:
            continue   # source switched off / not loaded (placeholder view without *_valid)

        def col(name: str | None) -> str:
            return name if name and name in cols else "NULL"

        join = ""
        if spec.person and spec.person in cols and f"{spec.person}_valid" in cols:
            # the employee on the row: a valid ID, or the person its bad ID was linked to
            person = f"CASE WHEN {spec.person}_valid THEN {spec.person} ELSE _pl.person_id END"
            join = (f" LEFT JOIN {person_links} _pl ON NOT coalesce({spec.person}_valid, false) "
                    f"AND _pl.raw_id = {spec.person}") if person_links else ""
            if not person_links:
                person = f"CASE WHEN {spec.person}_valid THEN {spec.person} END"
        else:
            person = "NULL"
        where = "TRUE" + (f" AND ({spec.where})" if spec.where else "")
        selects.append(
            f"SELECT '{spec.source}' AS source, {spec.column} AS code, "
            f"coalesce({spec.column}_valid, false) AS code_valid, "
            f"CAST({col(spec.name)} AS VARCHAR) AS firm_name, CAST({col(spec.region)} AS VARCHAR) AS region, "
            f"CAST({person} AS VARCHAR) AS person, "
            f"CAST({col('source_file')} AS VARCHAR) AS source_file, "
            f"CAST({col('source_line')} AS BIGINT) AS source_line "
            f"FROM asof_{spec.source}{join} WHERE {where}"
        )
    return "\nUNION ALL\n".join(selects) if selects else None


def _build_tables(con: duckdb.DuckDBPyConnection, occurrences: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP VIEW _f_occ AS {occurrences}")
    con.execute("CREATE OR REPLACE TEMP TABLE _f_known AS "
                "SELECT DISTINCT code FROM _f_occ WHERE code_valid AND code IS NOT NULL")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _f_residue AS
        SELECT code AS raw_uscc, firm_name, region AS region_code,
               list(DISTINCT person ORDER BY person) FILTER (WHERE person IS NOT NULL) AS persons,
               list(DISTINCT source ORDER BY source) AS sources,
               min(struct_pack(source := source, file := source_file, line := source_line)) AS first_seen,
               count(*) AS n_rows
        FROM _f_occ
        WHERE NOT code_valid
          AND ((code IS NOT NULL AND regexp_full_match(code, '{_USCC_PATTERN}')) OR firm_name IS NOT NULL)
        GROUP BY code, firm_name, region
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _f_pairs_edit AS "
                + codes.variants_sql("_f_residue", "raw_uscc", "(SELECT code FROM _f_known)", "uscc"))


def _name_candidates(con: duckdb.DuckDBPyConnection, residue: list[dict], has_edit: set[str]) -> dict[tuple, list[str]]:
    """Fallback block `name_league`: register firms in the record's league with a close name."""
    need = [r for r in residue if r["firm_name"] and r["raw_uscc"] not in has_edit and r["region_code"]]
    reg, col, name_col = levels.FIRM_REGISTER
    cols = relation_columns(con, f"asof_{reg}")
    if not need or cols is None:
        return {}
    leagues = sorted({r["region_code"][:4] for r in need})
    register = con.execute(f"""
        SELECT DISTINCT {col} AS uscc, {name_col} AS name, substr(region_code, 1, 4) AS league
        FROM asof_{reg}
        WHERE {col}_valid AND {name_col} IS NOT NULL AND substr(region_code, 1, 4) IN (SELECT unnest(?))
        ORDER BY ALL
    """, [leagues]).fetchall()
    by_league: dict[str, tuple[list[str], list[str]]] = {}
    for uscc, name, league in register:
        keys, ids = by_league.setdefault(league, ([], []))
        key = names.normalise_firm_name(name)
        if key:
            keys.append(key)
            ids.append(uscc)
    out: dict[tuple, list[str]] = {}
    for r in need:
        key = names.normalise_firm_name(r["firm_name"])
        keys, ids = by_league.get(r["region_code"][:4], ([], []))
        if not key or not keys:
            continue
        hits = process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=levels.FIRM_FUZZY_MIN, limit=5)
        found = sorted({ids[i] for _, _, i in hits})
        if found:
            out[(r["raw_uscc"], r["firm_name"], r["region_code"])] = found
    return out


@dataclass
class FirmMatch:
    links: pd.DataFrame
    review: pd.DataFrame
    stats: list[dict]
    known_codes: int = 0
    residue_records: int = 0


def match_firms(con: duckdb.DuckDBPyConnection, decisions: Decisions,
                person_links: str | None = None) -> FirmMatch:
    occurrences = occurrences_sql(con, person_links)
    if occurrences is None:
        return FirmMatch(pd.DataFrame(columns=LINK_COLUMNS), pd.DataFrame(columns=REVIEW_COLUMNS), [])
    _build_tables(con, occurrences)
    residue = records(con, "SELECT * FROM _f_residue ORDER BY raw_uscc NULLS FIRST, firm_name NULLS FIRST, region_code NULLS FIRST")
    edit_pairs: dict[str, list[tuple[str, str]]] = {}
    for raw, cand, edit in con.execute("SELECT raw, candidate, edit FROM _f_pairs_edit ORDER BY raw, candidate").fetchall():
        edit_pairs.setdefault(raw, []).append((cand, edit))
    name_pairs = _name_candidates(con, residue, set(edit_pairs))
    wanted = sorted({c for v in edit_pairs.values() for c, _ in v} | {c for v in name_pairs.values() for c in v})
    attrs: dict[str, dict] = {}
    if wanted:
        for row in records(con, """
            SELECT code, list(DISTINCT firm_name ORDER BY firm_name) FILTER (WHERE firm_name IS NOT NULL) AS names,
                   list(DISTINCT region ORDER BY region) FILTER (WHERE region IS NOT NULL) AS regions,
                   list(DISTINCT person ORDER BY person) FILTER (WHERE person IS NOT NULL) AS persons
            FROM _f_occ WHERE code_valid AND code IN (SELECT unnest(?)) GROUP BY code
        """, [wanted]):
            attrs[row["code"]] = row
    known = con.execute("SELECT count(*) FROM _f_known").fetchall()[0][0]
    priors = {b.key: b.prior for b in levels.FIRM_BLOCKING}

    links, review, stats_pairs, stats_links = [], [], {}, {}
    for record in residue:
        key = (record["raw_uscc"], record["firm_name"], record["region_code"])
        cands = []
        blocks = [(c, e, "uscc_one_edit") for c, e in edit_pairs.get(record["raw_uscc"], [])]
        blocks += [(c, codes.edit_kind(record["raw_uscc"], c) if record["raw_uscc"] else None, "name_league")
                   for c in name_pairs.get(key, [])]
        for cand_id, edit, block in blocks:
            cand = attrs.get(cand_id, {})
            name_levels = [names.compare_firm_names(record["firm_name"], n) for n in (cand.get("names") or [])]
            order = ("exact", "fuzzy_high", "fuzzy", "else")
            labels = {
                "firm_name": min(name_levels, key=order.index) if name_levels and record["firm_name"] else "null",
                "uscc_edit": ("null" if edit is None else
                              "one_edit" if edit.startswith(("substitution", "transposition")) else "else"),
                "region": region_level({record["region_code"]} - {None}, set(cand.get("regions") or [])),
                "shared_employee": set_level(set(record["persons"] or []), set(cand.get("persons") or [])),
            }
            c = Candidate(key, cand_id, block, labels, edit=edit or "")
            cands.append(score_candidate(c, levels.FIRM_COMPARISONS, priors[block]))

        raw, firm_name = record["raw_uscc"], record["firm_name"]
        cands = [c for c in cands if decisions.get("firm", raw, firm_name, c.candidate) != "reject"]
        confirmed = decisions.confirmed("firm", raw, firm_name)
        if confirmed and codes.uscc_valid(confirmed.candidate_id):
            match = next((c for c in cands if c.candidate == confirmed.candidate_id), None)
            model = f"model p={match.score:.4f}" if match else "not proposed by the model"
            outcome = "reviewed"
            links.append({"raw_uscc": raw, "firm_name": firm_name, "region_code": record["region_code"],
                          "uscc": confirmed.candidate_id, "method": "reviewed", "score": 1.0,
                          "agreed": ",".join(match.agreed) if match else "",
                          "evidence": f"confirmed by {confirmed.reviewer} on {confirmed.date}; {model}"})
            block = match.block if match else "decision_file"
        else:
            verdict, chosen, reason = decide(cands)
            block = chosen[0].block if chosen else None
            if verdict == "link":
                best = chosen[0]
                outcome = "id_repaired" if (best.labels["firm_name"] == "exact" and best.block == "uscc_one_edit") else "fuzzy"
                links.append({"raw_uscc": raw, "firm_name": firm_name, "region_code": record["region_code"],
                              "uscc": best.candidate, "method": outcome, "score": best.score,
                              "agreed": ",".join(best.agreed), "evidence": evidence_text(best)})
            else:
                outcome = verdict
                first = record["first_seen"] or {}
                for c in chosen:
                    cand = attrs.get(c.candidate, {})
                    review.append({
                        "kind": "firm", "source": first.get("source"), "source_file": first.get("file"),
                        "source_line": first.get("line"), "left_id": raw, "left_name": firm_name,
                        "left_region": record["region_code"], "left_phone": None,
                        "right_id": c.candidate, "right_name": "/".join(cand.get("names") or []) or None,
                        "right_region": ",".join(cand.get("regions") or []) or None, "right_phone": None,
                        "score": c.score, "agreed": ",".join(c.agreed), "reason": f"{reason}; {evidence_text(c)}",
                    })
        for c in cands:
            stats_pairs[(c.block, outcome)] = stats_pairs.get((c.block, outcome), 0) + 1
        if outcome in ("id_repaired", "fuzzy", "reviewed"):
            stats_links[(block, outcome)] = stats_links.get((block, outcome), 0) + 1

    stats = [{"stage": "firm", "blocking_key": "valid_uscc", "candidate_pairs": 0, "links": known, "method": "exact"}]
    for block, outcome in sorted(set(stats_pairs) | set(stats_links), key=str):
        stats.append({"stage": "firm", "blocking_key": block, "candidate_pairs": stats_pairs.get((block, outcome), 0),
                      "links": stats_links.get((block, outcome), 0), "method": outcome})
    log.info("firms: %d known valid USCCs, %d residue records, %d links, %d review rows",
             known, len(residue), len(links), len(review))
    return FirmMatch(pd.DataFrame(links, columns=LINK_COLUMNS), pd.DataFrame(review, columns=REVIEW_COLUMNS),
                     stats, known, len(residue))
