"""The cases of policies/<code>/cases.yaml written as real month folders (contract CSVs) and run
through the loader, the gate, the as-of views and the matchers — not the harness's ready-made
``lnk_`` tables (policies/case_folders.py). Same expectations, same check as test_policies_cases.

A case marked ``e2e: false`` in its YAML says why in ``e2e_why``. Each case costs a few seconds
here (real loads and the gate per month), so `make test` runs the cases marked ``e2e: suite`` (the
revisions of policies.md: status the day before, the data horizon, top-ups, routing) and
`make cases-e2e` (ZHIBU_CASES_E2E=all) runs every case.
"""
from __future__ import annotations

import os

import pytest

from policies.case_folders import run_case_months
from policies.case_harness import load_cases
from test_policies_cases import check_month
from zhibu.warehouse import connect

ALL = os.environ.get("ZHIBU_CASES_E2E") == "all"
CASES = [c for c in load_cases() if c.get("e2e", True) is not False and (ALL or c.get("e2e") == "suite")]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_end_to_end(case, tmp_path):
    con = connect(tmp_path / "warehouse.duckdb")
    try:
        run_case_months(con, case, tmp_path / "incoming",
                        lambda con, month, expected: check_month(con, case, month, expected))
    finally:
        con.close()


def test_every_skipped_case_says_why():
    skipped = [c for c in load_cases() if c.get("e2e", True) is False]
    assert all(c.get("e2e_why") for c in skipped), [c["name"] for c in skipped if not c.get("e2e_why")]
