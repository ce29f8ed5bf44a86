"""The stored mark of rows that need a link lookup (stg_<source>.needs_link_lookup, matchers.link):
set on every row by a run, set again when the rule changes, never written through a read-only
view, and the lnk_ views read the same rows with it as without it."""
from __future__ import annotations

import duckdb

from conftest import copy_warehouse
from matchers.link import create_link_views
from zhibu.warehouse import connect, create_asof_views, read_only_view

SOURCES = ("social_insurance", "hiring_filing", "employment_registration", "subsidy_ledger")


def _lnk_hashes(con, month: str) -> dict:
    create_asof_views(con, month)
    create_link_views(con, month)
    return {s: con.execute(f"SELECT count(*), sum(hash(l)) FROM lnk_{s} l").fetchall()[0] for s in SOURCES}


def test_marks_cover_every_row_and_the_views_read_the_same_rows(sample_run, sample_months, tmp_path):
    wh, _out = sample_run
    wh = copy_warehouse(wh, tmp_path)
    month = sample_months[-1]
    con = connect(wh)
    try:
        for s in SOURCES:       # the runs marked every row
            assert con.execute(f"SELECT count(*) FROM stg_{s} WHERE needs_link_lookup IS NULL").fetchall()[0][0] == 0, s
        assert con.execute("SELECT count(*) FROM stg_social_insurance WHERE needs_link_lookup").fetchall()[0][0] > 0
        marked = _lnk_hashes(con, month)
        # a changed rule marks every row again (here: a recorded rule that is not the code's)
        con.execute("UPDATE link_lookup_rules SET rule = 'NOT (false)'")
        con.execute("UPDATE stg_social_insurance SET needs_link_lookup = NOT needs_link_lookup")
        assert _lnk_hashes(con, month) == marked
        assert con.execute("SELECT count(*) FROM link_lookup_rules WHERE rule = 'NOT (false)'").fetchall()[0][0] == 0
    finally:
        con.close()
    # a read-only reader (zhibu explain) uses the marks and writes nothing
    def stamp():
        c = duckdb.connect(str(wh), read_only=True)
        try:
            return c.execute("SELECT sum(hash(needs_link_lookup)) FROM stg_social_insurance").fetchall()
        finally:
            c.close()
    before = stamp()
    with read_only_view(wh) as ro:
        assert _lnk_hashes(ro, month) == marked
    assert stamp() == before
    # without marks (a warehouse from before them) the views evaluate the rule on every row
    con = connect(wh)
    try:
        for s in SOURCES:
            con.execute(f"ALTER TABLE stg_{s} DROP COLUMN needs_link_lookup")
        assert _lnk_hashes(con, month) == marked
    finally:
        con.close()
