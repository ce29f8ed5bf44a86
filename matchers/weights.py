"""Comparison weights estimated from the month's own data (Fellegi–Sunter, as Splink does).

    est = estimate_person_weights(con)       # after persons._build_pairs + name levels
    comparisons, blocking = est.comparisons, est.blocking   # levels.* with estimated m/u/prior
    write_weights(con, month, est)            # -> link_weights (one run month replaced)
    chart_data(con, month)                    # rows for the report's match-weights chart

u  from random pairs: persons sampled from the known valid IDs (`_p_usample`, every k-th by hash,
   at most levels.U_SAMPLE) are paired with another sampled person of the same ID region prefix
   (the first 6 digits: what a one-edit candidate shares with the record) — the block's
   non-matches. Counts are blended with the hand-set u as U_PRIOR_PAIRS pseudo-pairs.
   Comparisons read off the ID itself (`u_from='hand'`: id_edit, birth_date, sex) keep the
   hand-set u: the block fixes them.
m  and each block's prior λ by expectation–maximisation on the candidate pairs, aggregated to
   comparison patterns in SQL (a few hundred rows): the EM loop runs in Python on the patterns.
   The hand-set m and prior are Dirichlet priors of PRIOR_PAIRS pseudo-pairs.
History: the EM runs on the comparison patterns of every record compared so far — the patterns
   of the latest earlier run (`link_em_patterns`, cumulative) plus this run's — so a month that
   compares few new records (incremental linking) keeps weights learnt from all the earlier ones.
Bounds: each estimated level weight stays within its hand-set weight ± WEIGHT_BOUND bits, each
   block prior within hand-set ± PRIOR_BOUND; veto / null levels keep their role.
Name frequency: besides the level weights, the `exact` name level is scored per pair with
   u = the share of the candidate's name among the sampled persons (`_p_name_tf`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import duckdb

from matchers import levels, names

if TYPE_CHECKING:
    import pandas as pd

DDL = """CREATE TABLE IF NOT EXISTS link_weights (
    run_month VARCHAR, stage VARCHAR, comparison VARCHAR, level VARCHAR,
    m_hand DOUBLE, u_hand DOUBLE, weight_hand DOUBLE,
    m_est DOUBLE, u_est DOUBLE, weight_est DOUBLE, weight_used DOUBLE,
    u_source VARCHAR, pairs_u BIGINT, pairs_em BIGINT, bounded BOOLEAN, zh VARCHAR)"""
_TYPES = {"run_month": "VARCHAR", "stage": "VARCHAR", "comparison": "VARCHAR", "level": "VARCHAR",
          "u_source": "VARCHAR", "pairs_u": "BIGINT", "pairs_em": "BIGINT", "bounded": "BOOLEAN", "zh": "VARCHAR"}
COLUMNS = ["run_month", "stage", "comparison", "level", "m_hand", "u_hand", "weight_hand", "m_est", "u_est",
           "weight_est", "weight_used", "u_source", "pairs_u", "pairs_em", "bounded", "zh"]


def _pattern_columns() -> str:
    return ", ".join(["block"] + [f"l_{c.field}" for c in levels.PERSON_COMPARISONS])


def pattern_counts(con, pairs: str = "_p_pairs", where: str = "true") -> pd.DataFrame:
    """Comparison patterns of the candidate pairs: block, l_<field>..., n."""
    return con.execute(f"SELECT {_pattern_columns()}, count(*) AS n FROM {pairs} WHERE {where} "
                       "GROUP BY ALL ORDER BY ALL").df()


def cumulative_patterns(con, month: str, pairs: str = "_p_pairs", where: str = "fresh") -> None:
    """Temp table _p_patterns: the patterns the latest earlier run kept (link_em_patterns, one
    column per comparison) plus those of this run's pairs passing `where`, summed per pattern."""
    cols = _pattern_columns()
    con.execute("CREATE TABLE IF NOT EXISTS link_em_patterns (run_month VARCHAR, stage VARCHAR, block VARCHAR, n BIGINT)")
    have = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() "
                                      "WHERE table_name = 'link_em_patterns' AND NOT internal").fetchall()}
    for col in ["block"] + [f"l_{c.field}" for c in levels.PERSON_COMPARISONS]:
        if col not in have:     # a comparison added since, or the JSON layout of an early build
            con.execute(f"ALTER TABLE link_em_patterns ADD COLUMN {col} VARCHAR")
    prev = con.execute("SELECT max(run_month) FROM link_em_patterns WHERE run_month < ? AND stage = 'person'",
                       [month]).fetchall()[0][0]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _p_patterns AS
                    SELECT {cols}, sum(n)::BIGINT AS n FROM (
                        SELECT {cols}, n FROM link_em_patterns WHERE stage = 'person' AND run_month = ? AND block IS NOT NULL
                        UNION ALL SELECT {cols}, 1 AS n FROM {pairs} WHERE {where})
                    GROUP BY ALL ORDER BY ALL""", [prev or ""])


def write_patterns(con, month: str) -> None:
    """Keep run month `month`'s cumulative patterns (_p_patterns; inside the link stage's transaction)."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_p_patterns'").fetchall()[0][0]:
        return                 # weights not estimated (levels.ESTIMATE_WEIGHTS off): nothing to keep
    con.execute("DELETE FROM link_em_patterns WHERE run_month = ? AND stage = 'person'", [month])
    con.execute("INSERT INTO link_em_patterns BY NAME SELECT ? AS run_month, 'person' AS stage, * "
                "FROM _p_patterns", [month])


def _log2(x: float) -> float:
    return math.log2(max(x, 1e-12))


@dataclass
class Estimate:
    comparisons: tuple[levels.Comparison, ...]
    blocking: tuple[levels.BlockingRule, ...]
    rows: list[dict] = field(default_factory=list)     # link_weights rows (without run_month)
    pairs_u: int = 0
    pairs_em: int = 0
    iterations: int = 0


# --------------------------------------------------------------------------------------------
# u: random pairs of known persons within the ID region prefix
# --------------------------------------------------------------------------------------------
def sample_sql(known: str = "_p_known", n_known: int | None = None) -> str:
    """SQL of the sampled known IDs (deterministic: every k-th ID by hash)."""
    k = max(1, math.ceil((n_known or 0) / levels.U_SAMPLE))
    return f"SELECT code FROM {known} WHERE hash(code, 'u-sample') % {k} = 0"


def random_pair_levels(con, sample: str = "_p_usample", attrs: str = "_p_cand_attrs") -> dict[str, dict[str, int]]:
    """Level counts per comparison over random pairs of sampled persons sharing the ID prefix."""
    from matchers.persons import region_level_sql, set_level_sql
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _w_upairs AS
        WITH s AS (
            SELECT a.id, a.names, a.regions, a.phones, a.employers, a.schools, a.households,
                   row_number() OVER (PARTITION BY left(a.id, 6) ORDER BY hash(a.id, 'u-pair')) AS i
            FROM {attrs} a SEMI JOIN {sample} s ON s.code = a.id
        )
        SELECT l.names AS l_names, r.names AS r_names,
               {region_level_sql('l.regions', 'r.regions')} AS l_region,
               {set_level_sql('l.phones', 'r.phones')} AS l_phone,
               {set_level_sql('l.employers', 'r.employers')} AS l_employer,
               {set_level_sql('l.schools', 'r.schools')} AS l_school,
               {set_level_sql('l.households', 'r.households')} AS l_household,
               CASE WHEN len(coalesce(l.names, [])) = 0 OR len(coalesce(r.names, [])) = 0 THEN 'null'
                    WHEN list_has_any(l.names, r.names) THEN 'exact'
                    -- homophone / fuzzy need the surname to agree: only those go to Python
                    WHEN NOT list_has_any(list_transform(l.names, lambda x: left(x, 1)),
                                          list_transform(r.names, lambda x: left(x, 1))) THEN 'else'
               END AS l_name
        FROM s l JOIN s r ON left(r.id, 6) = left(l.id, 6) AND r.i = l.i + 1 AND l.i % 2 = 1
    """)
    todo = con.execute("SELECT l_names[1], r_names[1] FROM _w_upairs WHERE l_name IS NULL").fetchall()
    counts: dict[str, dict[str, int]] = {}
    for comp in ("region", "phone", "employer", "school", "household", "name"):
        rows = con.execute(f"SELECT l_{comp}, count(*) FROM _w_upairs WHERE l_{comp} IS NOT NULL GROUP BY 1").fetchall()
        counts[comp] = {lv: n for lv, n in rows}
    for a, b in todo:
        lv = names.compare_person_names(a, b)
        counts["name"][lv] = counts["name"].get(lv, 0) + 1
    return counts


def tf_floor(n: int) -> float:
    """tf of a name not seen in a sample of n persons."""
    u0 = next(c for c in levels.PERSON_COMPARISONS if c.field == "name").level("exact").u
    return 1.0 / (n + 1.0 / u0)


def name_tf_table(con, sample: str = "_p_usample", attrs: str = "_p_cand_attrs", out: str = "_p_name_tf") -> int:
    """`out`(name, tf): each name's share among the sampled persons (their first name as seen),
    shrunk towards the hand-set u; returns the sample size (a name not in it: tf_floor(n))."""
    n = con.execute(f"SELECT count(*) FROM {attrs} a SEMI JOIN {sample} s ON s.code = a.id "
                    f"WHERE len(coalesce(a.names, [])) > 0").fetchall()[0][0]
    # shrunk towards the hand-set u of an exact name: one namesake per 1/u persons
    # (a sample of a few persons says little about how common a name is)
    u0 = next(c for c in levels.PERSON_COMPARISONS if c.field == "name").level("exact").u
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT a.names[1] AS name, (count(*) + 1.0) / ({n} + {1.0 / u0!r}) AS tf
        FROM {attrs} a SEMI JOIN {sample} s ON s.code = a.id
        WHERE len(coalesce(a.names, [])) > 0 GROUP BY 1""")
    return n


# --------------------------------------------------------------------------------------------
# m and λ: EM on the candidate pairs' comparison patterns
# --------------------------------------------------------------------------------------------
def _em(patterns: pd.DataFrame, comps: tuple[levels.Comparison, ...], blocking: tuple[levels.BlockingRule, ...],
        u: dict[tuple[str, str], float]) -> tuple[dict, dict, int]:
    """Returns (m[(field, level)], prior[block] as log2-odds, iterations)."""
    m = {(c.field, lv.label): lv.m for c in comps for lv in c.levels if not lv.null}
    hand_lambda = {b.key: 2 ** b.prior / (1 + 2 ** b.prior) for b in blocking}
    lam = dict(hand_lambda)
    counts = patterns["n"].to_numpy(dtype=float)
    blocks = patterns["block"].tolist()
    labels = {c.field: patterns[f"l_{c.field}"].tolist() for c in comps}
    null = {(c.field, lv.label) for c in comps for lv in c.levels if lv.null}
    it = 0
    for it in range(1, levels.EM_ITERATIONS + 1):
        # E step: match probability of each pattern
        post = []
        for i in range(len(counts)):
            b = blocks[i]
            w = _log2(lam.get(b, 0.5) / max(1 - lam.get(b, 0.5), 1e-12))
            for c in comps:
                lv = labels[c.field][i]
                if lv is None or (c.field, lv) in null or (c.field, lv) not in m:
                    continue
                w += _log2(m[(c.field, lv)] / u[(c.field, lv)])
            post.append(1.0 / (1.0 + 2.0 ** (-max(min(w, 60.0), -60.0))))
        # M step: m with the hand-set values as Dirichlet priors; λ per block likewise
        new_m = {}
        for c in comps:
            levels_ = [lv for lv in c.levels if not lv.null]
            tot = {lv.label: 0.0 for lv in levels_}
            for i, n in enumerate(counts):
                lv = labels[c.field][i]
                if lv in tot:
                    tot[lv] += n * post[i]
            s = sum(tot.values())
            for lv in levels_:
                new_m[(c.field, lv.label)] = (tot[lv.label] + levels.PRIOR_PAIRS * lv.m) / (s + levels.PRIOR_PAIRS)
        new_lam = {}
        for b in lam:
            nb = sum(n for n, bb in zip(counts, blocks) if bb == b)
            mb = sum(n * p for n, p, bb in zip(counts, post, blocks) if bb == b)
            new_lam[b] = (mb + levels.PRIOR_PAIRS * hand_lambda[b]) / (nb + levels.PRIOR_PAIRS)
        delta = max(abs(new_m[k] - m[k]) for k in m)
        m, lam = new_m, new_lam
        if delta < 1e-6:
            break
    prior = {b: _log2(v / max(1 - v, 1e-12)) for b, v in lam.items()}
    return m, prior, it


def estimate_person_weights(con, pairs: str | pd.DataFrame = "_p_pairs", u_counts: dict | None = None) -> Estimate:
    """`pairs`: the candidate pairs table, or their comparison patterns (cumulative_patterns:
    the earlier runs' added, see History above)."""
    comps, blocking = levels.PERSON_COMPARISONS, levels.PERSON_BLOCKING
    u_counts = u_counts or {}
    pairs_u = max((sum(v.values()) for v in u_counts.values()), default=0)
    # u: hand-set for ID-derived comparisons, else random-pair counts blended with the hand-set u
    u: dict[tuple[str, str], float] = {}
    u_source: dict[str, str] = {}
    for c in comps:
        cnt = u_counts.get(c.field, {}) if c.u_from == "random" else {}
        informative = [lv for lv in c.levels if not lv.null]
        total = sum(cnt.get(lv.label, 0) for lv in informative)
        u_source[c.field] = f"random pairs ({total})" if total else "hand-set"
        for lv in informative:
            u[(c.field, lv.label)] = ((cnt.get(lv.label, 0) + levels.U_PRIOR_PAIRS * lv.u)
                                      / (total + levels.U_PRIOR_PAIRS)) if total else lv.u
    patterns = pattern_counts(con, pairs) if isinstance(pairs, str) else pairs
    pairs_em = int(patterns["n"].sum()) if len(patterns) else 0
    m, prior, iterations = _em(patterns, comps, blocking, u) if pairs_em else (
        {(c.field, lv.label): lv.m for c in comps for lv in c.levels if not lv.null},
        {b.key: b.prior for b in blocking}, 0)

    rows, new_comps = [], []
    for c in comps:
        new_levels = []
        for lv in c.levels:
            if lv.null:
                new_levels.append(lv)
                continue
            me, ue = m[(c.field, lv.label)], u[(c.field, lv.label)]
            w_est = _log2(me / ue)
            w_used = min(max(w_est, lv.weight - levels.WEIGHT_BOUND), lv.weight + levels.WEIGHT_BOUND)
            # keep m/u consistent with the bounded weight (u as estimated, m adjusted)
            new_levels.append(replace(lv, m=ue * 2 ** w_used, u=ue))
            rows.append({"stage": "person", "comparison": c.field, "level": lv.label, "m_hand": lv.m, "u_hand": lv.u,
                         "weight_hand": round(lv.weight, 4), "m_est": round(me, 6), "u_est": round(ue, 8),
                         "weight_est": round(w_est, 4), "weight_used": round(w_used, 4),
                         "u_source": u_source[c.field], "pairs_u": pairs_u, "pairs_em": pairs_em,
                         "bounded": abs(w_used - w_est) > 1e-9, "zh": lv.zh})
        new_comps.append(replace(c, levels=tuple(new_levels)))
    new_blocking = []
    for b in blocking:
        p_est = prior[b.key]
        p_used = min(max(p_est, b.prior - levels.PRIOR_BOUND), b.prior + levels.PRIOR_BOUND)
        new_blocking.append(replace(b, prior=p_used))
        rows.append({"stage": "person", "comparison": "prior", "level": b.key, "m_hand": None, "u_hand": None,
                     "weight_hand": b.prior, "m_est": None, "u_est": None, "weight_est": round(p_est, 4),
                     "weight_used": round(p_used, 4), "u_source": "EM", "pairs_u": pairs_u, "pairs_em": pairs_em,
                     "bounded": abs(p_used - p_est) > 1e-9, "zh": levels.BLOCK_ZH.get(b.key, b.key)})
    return Estimate(tuple(new_comps), tuple(new_blocking), rows, pairs_u, pairs_em, iterations)


def hand_estimate() -> Estimate:
    """The hand-set weights in the same shape (levels.ESTIMATE_WEIGHTS = False)."""
    rows = []
    for c in levels.PERSON_COMPARISONS:
        for lv in c.levels:
            if not lv.null:
                rows.append({"stage": "person", "comparison": c.field, "level": lv.label, "m_hand": lv.m,
                             "u_hand": lv.u, "weight_hand": round(lv.weight, 4), "m_est": None, "u_est": None,
                             "weight_est": None, "weight_used": round(lv.weight, 4), "u_source": "hand-set",
                             "pairs_u": 0, "pairs_em": 0, "bounded": False, "zh": lv.zh})
    for b in levels.PERSON_BLOCKING:
        rows.append({"stage": "person", "comparison": "prior", "level": b.key, "m_hand": None, "u_hand": None,
                     "weight_hand": b.prior, "m_est": None, "u_est": None, "weight_est": None,
                     "weight_used": b.prior, "u_source": "hand-set", "pairs_u": 0, "pairs_em": 0,
                     "bounded": False, "zh": levels.BLOCK_ZH.get(b.key, b.key)})
    return Estimate(levels.PERSON_COMPARISONS, levels.PERSON_BLOCKING, rows)


# --------------------------------------------------------------------------------------------
# Persistence and the chart
# --------------------------------------------------------------------------------------------
def write_weights(con, month: str, rows: list[dict]) -> None:
    """Replace run month `month` of link_weights (call inside the link stage's transaction)."""
    import pandas as pd   # imported when linking, not by explain or the other commands
    con.execute(DDL)
    con.execute("DELETE FROM link_weights WHERE run_month = ?", [month])
    if not rows:
        return
    frame = pd.DataFrame([{"run_month": month, **r} for r in rows], columns=COLUMNS)
    con.register("_link_weights_frame", frame)
    try:
        con.execute(f"INSERT INTO link_weights ({', '.join(COLUMNS)}) SELECT "
                    + ", ".join(f"CAST({c} AS {_TYPES.get(c, 'DOUBLE')}) AS {c}" for c in COLUMNS)
                    + " FROM _link_weights_frame ORDER BY stage, comparison, level")
    finally:
        con.unregister("_link_weights_frame")


def chart_data(con: duckdb.DuckDBPyConnection, month: str, stage: str = "person") -> list[dict]:
    """The match-weights chart of run month `month`: one bar pair per (comparison, level), in the
    order of levels.py: {comparison, level, label (Chinese), weight_hand, weight_est, weight_used,
    bounded}. Empty if the month has no estimated weights (older runs)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'link_weights'").fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute("""SELECT comparison, level, zh, weight_hand, weight_est, weight_used, bounded
                          FROM link_weights WHERE run_month = ? AND stage = ?""", [month, stage]).fetchall()
    order = {("prior", b.key): (-1, i) for i, b in enumerate(levels.PERSON_BLOCKING)}
    for ci, c in enumerate(levels.PERSON_COMPARISONS):
        for li, lv in enumerate(c.levels):
            order[(c.field, lv.label)] = (ci, li)
    rows.sort(key=lambda r: order.get((r[0], r[1]), (99, 0)))
    return [{"comparison": c, "level": lv, "label": zh, "weight_hand": wh, "weight_est": we, "weight_used": wu,
             "bounded": bool(bd)} for c, lv, zh, wh, we, wu, bd in rows]


def weight_drift(con, month_a: str, month_b: str, stage: str = "person") -> float:
    """Largest |weight_used(a) - weight_used(b)| over the levels of two run months (bits)."""
    row = con.execute("""SELECT max(abs(a.weight_used - b.weight_used)) FROM link_weights a
                         JOIN link_weights b USING (stage, comparison, level)
                         WHERE a.run_month = ? AND b.run_month = ? AND stage = ?""",
                      [month_a, month_b, stage]).fetchall()[0][0]
    return float(row or 0.0)


def drift_from_previous(con, month: str, stage: str = "person") -> tuple[str, float] | None:
    """(previous run month, largest |Δ weight_used| in bits) against the latest earlier run month
    with estimated weights, or None (first month / no table)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'link_weights'").fetchall()[0][0]
    if not exists:
        return None
    prev = con.execute("SELECT max(run_month) FROM link_weights WHERE run_month < ? AND stage = ?",
                       [month, stage]).fetchall()[0][0]
    return None if prev is None else (prev, weight_drift(con, prev, month, stage))
