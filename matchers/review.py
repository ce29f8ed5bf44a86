"""The analyst's decisions file: the review loop.

CSV (UTF-8, optional BOM) with columns `kind, raw_id, name, candidate_id, decision, reviewer, date`:
  kind          'person' or 'firm'
  raw_id        the bad ID / USCC as shown in review_queue.left_id (empty for a firm without code)
  name          review_queue.left_name (person name or firm name as sent; empty = none)
  candidate_id  review_queue.right_id
  decision      'confirm' (→ linked next run with method `reviewed`) or 'reject' (never proposed again)
  reviewer, date  who decided and when (kept in the link's evidence)
A later line for the same (kind, raw_id, name, candidate_id) overrides an earlier one.
Only pairs the matcher proposed (in a review queue, remembered in `review_proposed`) may be
decided: a line about any other pair is refused with its line number (`check_proposed`).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DECISION_COLUMNS = ("kind", "raw_id", "name", "candidate_id", "decision", "reviewer", "date")


@dataclass(frozen=True)
class Decision:
    kind: str
    raw_id: str | None
    name: str | None
    candidate_id: str
    decision: str
    reviewer: str
    date: str
    line: int = 0          # line in the decisions file (1 = header)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class Decisions:
    """Lookup of analyst decisions by (kind, raw_id, name, candidate_id)."""

    def __init__(self, decisions: list[Decision] | None = None):
        self._by_pair: dict[tuple, Decision] = {}
        for d in decisions or []:
            self._by_pair[(d.kind, d.raw_id, d.name, d.candidate_id)] = d

    def __len__(self) -> int:
        return len(self._by_pair)

    def get(self, kind: str, raw_id: str | None, name: str | None, candidate_id: str) -> str | None:
        d = self._by_pair.get((kind, _clean(raw_id), _clean(name), candidate_id))
        return d.decision if d else None

    def confirmed(self, kind: str, raw_id: str | None, name: str | None) -> Decision | None:
        """The confirmed candidate of a record (the latest-dated one if several)."""
        hits = [d for (k, r, n, _), d in self._by_pair.items()
                if k == kind and r == _clean(raw_id) and n == _clean(name) and d.decision == "confirm"]
        return max(hits, key=lambda d: (d.date, d.candidate_id)) if hits else None

    def rows(self) -> list[Decision]:
        return list(self._by_pair.values())


class DecisionsFileError(ValueError):
    """A line of the review-decisions file the run cannot apply (the analyst's to correct)."""


def read_decisions(path: Path | str | None) -> Decisions:
    """Read the decisions file; a missing path or file means no decisions."""
    if path is None or not Path(path).exists():
        return Decisions()
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("kind", "raw_id", "name", "candidate_id", "decision") if c not in (reader.fieldnames or [])]
        if missing:
            raise DecisionsFileError(f"decisions file {Path(path).name}: missing columns {missing}")
        for line_no, row in enumerate(reader, start=2):
            decision = (_clean(row.get("decision")) or "").lower()
            kind = (_clean(row.get("kind")) or "").lower()
            if decision not in ("confirm", "reject") or kind not in ("person", "firm"):
                raise DecisionsFileError(f"decisions file {Path(path).name} line {line_no}: "
                                 f"kind must be person/firm and decision confirm/reject")
            raw_id = _clean(row.get("raw_id"))
            out.append(Decision(kind, raw_id.upper() if raw_id else None, _clean(row.get("name")),
                                (_clean(row.get("candidate_id")) or "").upper(), decision,
                                _clean(row.get("reviewer")) or "", _clean(row.get("date")) or "", line_no))
    return Decisions(out)


# ---------------------------------------------------------------- only proposed pairs
PROPOSED_DDL = """CREATE TABLE IF NOT EXISTS review_proposed (
    kind VARCHAR, raw_id VARCHAR, name VARCHAR, candidate_id VARCHAR, first_month VARCHAR)"""


def _has(con, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                       [name]).fetchall()[0][0] > 0


def record_proposed(con) -> None:
    """Remember every pair the matcher ever put in the review queue (the queue of a month is
    replaced by its re-run, and a confirmed pair leaves it): a decision stays valid."""
    con.execute(PROPOSED_DDL)
    if not _has(con, "review_queue"):
        return
    con.execute("""INSERT INTO review_proposed
        SELECT kind, left_id, left_name, right_id, min(run_month) FROM review_queue q
        WHERE NOT EXISTS (SELECT 1 FROM review_proposed p WHERE p.kind = q.kind
              AND p.raw_id IS NOT DISTINCT FROM q.left_id AND p.name IS NOT DISTINCT FROM q.left_name
              AND p.candidate_id = q.right_id)
        GROUP BY ALL ORDER BY ALL""")


def proposed_pairs(con) -> set[tuple]:
    """(kind, raw_id, name, candidate_id) of every pair the matcher has proposed."""
    pairs: set[tuple] = set()
    if _has(con, "review_proposed"):
        pairs |= set(con.execute("SELECT kind, raw_id, name, candidate_id FROM review_proposed").fetchall())
    if _has(con, "review_queue"):
        pairs |= set(con.execute("SELECT kind, left_id, left_name, right_id FROM review_queue").fetchall())
    return {(k, _clean(r), _clean(n), (c or "").upper()) for k, r, n, c in pairs}


def unproposed(con, decisions: Decisions) -> list[Decision]:
    proposed = proposed_pairs(con)
    return [d for d in decisions.rows() if (d.kind, d.raw_id, d.name, d.candidate_id) not in proposed]


def check_proposed(con, decisions: Decisions, path: Path | str) -> None:
    """Refuse a decisions file that decides a pair the matcher never proposed, naming the line."""
    bad = unproposed(con, decisions)
    if not bad:
        return
    d = bad[0]
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    raise DecisionsFileError(
        f"decisions file {Path(path).name} line {d.line}: {d.kind} {d.raw_id or '-'} / {d.name or '-'} → "
        f"{d.candidate_id} was never proposed in the review queue{more}; only pairs listed in "
        f"review_queue.parquet can be confirmed or rejected")
