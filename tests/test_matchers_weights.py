"""Weights estimated per run (matchers.weights): persisted in link_weights, bounded by the hand-set
values, shown in the report, and stable from month to month.

Months are the benchmark's own corrupted set (benchmarks/linkage_synth.py) at 20,000 persons: one
population, another draw of the row noise per month."""
from __future__ import annotations

import duckdb
import pytest

from benchmarks import linkage_synth
from matchers import levels, weights
from matchers.link import link_month

MONTHS = ("2026-10", "2026-11", "2026-12")
SCALE = 0.004            # 20,000 persons, ~100,000 rows per month
STABLE_BITS = 0.5        # measured 0.16, 0.15 bits (seed 7); benchmarks/linkage_weights.py at scale 0.02


@pytest.fixture(scope="module")
def three_months():
    con = duckdb.connect()
    for i, month in enumerate(MONTHS):
        linkage_synth.build(con, scale=SCALE, seed=7, noise_seed=700 + i)
        link_month(con, month)
    yield con
    con.close()


def test_weights_are_persisted_per_run_month(three_months):
    con = three_months
    per_month = dict(con.execute("SELECT run_month, count(*) FROM link_weights GROUP BY 1").fetchall())
    n_levels = sum(1 for c in levels.PERSON_COMPARISONS for lv in c.levels if not lv.null)
    assert per_month == {m: n_levels + len(levels.PERSON_BLOCKING) for m in MONTHS}
    # a rerun replaces its month only
    link_month(con, MONTHS[-1])
    assert con.execute("SELECT count(*) FROM link_weights WHERE run_month = ?", [MONTHS[-1]]).fetchall()[0][0] \
        == n_levels + len(levels.PERSON_BLOCKING)
    assert con.execute("SELECT min(pairs_u), min(pairs_em) FROM link_weights").fetchall()[0] > (1000, 1000)


def test_used_weights_stay_within_the_hand_set_bounds(three_months):
    rows = three_months.execute("""SELECT comparison, level, weight_hand, weight_est, weight_used, bounded
                                   FROM link_weights""").fetchall()
    for comp, level, hand, est, used, bounded in rows:
        bound = levels.PRIOR_BOUND if comp == "prior" else levels.WEIGHT_BOUND
        assert abs(used - hand) <= bound + 1e-6, (comp, level)
        assert bounded == (abs(used - est) > 1e-6), (comp, level)
    # the veto stays a veto and a different name stays strong evidence against
    assert all(used < -5 for comp, level, _, _, used, _ in rows if (comp, level) == ("name", "else"))


def test_weights_are_stable_month_to_month(three_months):
    """Largest |Δ weight_used| between consecutive months, over every level and block prior."""
    drifts = {f"{a}→{b}": weights.weight_drift(three_months, a, b) for a, b in zip(MONTHS, MONTHS[1:])}
    print("max |Δ weight_used| (bits):", drifts)
    assert max(drifts.values()) <= STABLE_BITS, drifts
    assert weights.drift_from_previous(three_months, MONTHS[1]) == (MONTHS[0], drifts[f"{MONTHS[0]}→{MONTHS[1]}"])
    assert weights.drift_from_previous(three_months, MONTHS[0]) is None


def test_chart_data_and_the_report_section(three_months):
    from reports.report_html import _match_weights
    rows = weights.chart_data(three_months, MONTHS[1])
    assert [(r["comparison"], r["level"]) for r in rows][:3] == [("prior", "id_one_edit"), ("prior", "name_birthdate"),
                                                                  ("name", "exact")]
    assert all(r["label"] for r in rows)
    html = _match_weights(three_months, MONTHS[1])
    assert "匹配权重" in html and "<svg" in html and "手工设定" in html and "本月估计" in html and "实际使用" in html
    assert f"与上一运行月 {MONTHS[0]} 相比" in html
    assert weights.chart_data(three_months, "2020-01") == [] and _match_weights(three_months, "2020-01") == ""


def test_hand_set_weights_when_estimation_is_off(monkeypatch):
    con = duckdb.connect()
    linkage_synth.build(con, scale=0.0005, seed=3)
    monkeypatch.setattr(levels, "ESTIMATE_WEIGHTS", False)
    link_month(con, "2026-10")
    rows = con.execute("SELECT weight_hand, weight_used, weight_est FROM link_weights").fetchall()
    assert rows and all(h == u and e is None for h, u, e in rows)
