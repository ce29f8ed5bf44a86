"""Property-based months built from extracts.md: a contract-valid month never fails, nothing is
lost, valid IDs come out canonical, no decision is listed twice, and re-runs are byte-identical."""
import shutil

from hypothesis import given, settings
from hypothesis import strategies as st

from contract_profile import EXAMPLES
from contract_builders import RUN_MONTHS, Pools, month_plans, shift_month, write_month
from contract_checks import (assert_no_decision_twice, assert_same_outputs, check_month,
                             fresh_dir, run_month)

SINGLE, SEQUENCE = EXAMPLES


def _job_search_listed(el):
    return set(el.loc[el["policy_code"] == "job_search", "beneficiary_id"])


@settings(max_examples=SINGLE)
@given(month=st.sampled_from(RUN_MONTHS), plan=month_plans())
def test_a_contract_valid_month_runs_and_loses_nothing(prefect_harness, tmp_path_factory, month, plan):
    base = fresh_dir(tmp_path_factory.getbasetemp(), "prop1-")
    expect = write_month(base / "in" / month, month, plan, Pools())
    folder = run_month(month, base / "in" / month, base / "wh.duckdb", base / "out")
    el = check_month(folder, expect)
    missing = {c: raw for c, raw in expect.job_search.items() if c not in _job_search_listed(el)}
    assert not missing, f"graduates with a hardship flag not listed for job_search under their canonical ID: {missing}"
    assert_no_decision_twice([el])
    shutil.rmtree(base, ignore_errors=True)


@st.composite
def sequences(draw):
    start = draw(st.sampled_from(RUN_MONTHS[:-2]))
    n = draw(st.integers(2, 3))
    return [(shift_month(start, i), draw(month_plans())) for i in range(n)]


def copy_warehouse(src, dst):
    """The database file and its write-ahead log: a file copied without its WAL can miss the
    last month's commits (DuckDB checkpoints into the file only when it chooses to)."""
    shutil.copy(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dst.with_name(dst.name + ".wal"))


@settings(max_examples=SEQUENCE)
@given(seq=sequences())
def test_months_in_sequence_on_one_warehouse(prefect_harness, tmp_path_factory, seq):
    base = fresh_dir(tmp_path_factory.getbasetemp(), "prop2-")
    wh, out = base / "wh.duckdb", base / "out"
    pools = Pools()
    els, wanted = [], {}
    for i, (month, plan) in enumerate(seq):
        expect = write_month(base / "in" / month, month, plan, pools)
        wanted.update(expect.job_search)
        if i == len(seq) - 1 and wh.exists():
            copy_warehouse(wh, base / "wh_before.duckdb")
        folder = run_month(month, base / "in" / month, wh, out)
        els.append(check_month(folder, expect))
    listed = set().union(*(_job_search_listed(el) for el in els))
    missing = {c: raw for c, raw in wanted.items() if c not in listed}
    assert not missing, f"graduates with a hardship flag never listed for job_search: {missing}"
    assert_no_decision_twice(els)
    # re-run the last month on a copy of the warehouse as it was before it, into another folder
    month = seq[-1][0]
    wh2 = base / "rerun" / "wh.duckdb"
    wh2.parent.mkdir()
    copy_warehouse(base / "wh_before.duckdb", wh2)
    again = run_month(month, base / "in" / month, wh2, base / "out2")
    assert_same_outputs(out / month, again)
    shutil.rmtree(base, ignore_errors=True)
