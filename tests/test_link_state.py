"""Incremental linking (matchers.state) on the committed sample through the real flow: a month
links against the profiles of earlier extracts and carries what earlier runs linked, and that
changes neither what is linked nor what an old month decided when it is run again."""
from pathlib import Path

import duckdb

from conftest import SAMPLE, copy_warehouse
from flows.monthly import monthly_run
from matchers.firms import occurrences_sql as firm_occurrences_sql
from matchers.persons import occurrences_sql
from matchers.state import links_asof_sql
from zhibu.warehouse import create_asof_views
from test_flows import data_hashes


def _links(wh: Path, month: str) -> dict:
    """The links in force for the records the month sees (a link whose record is no longer sent
    as of the month stays in force and joins no row), and the month's review queue."""
    con = duckdb.connect(str(wh), read_only=True)
    create_asof_views(con, month)
    try:
        return {
            "person": sorted(con.execute(f"""
                SELECT raw_id, name, person_id FROM ({links_asof_sql('person', month)}) l
                WHERE EXISTS (SELECT 1 FROM ({occurrences_sql(con, only='invalid')}) o
                              WHERE o.id = l.raw_id AND o.name IS NOT DISTINCT FROM l.name)""").fetchall(), key=str),
            "firm": sorted(con.execute(f"""
                SELECT raw_uscc, firm_name, region_code, uscc FROM ({links_asof_sql('firm', month)}) l
                WHERE EXISTS (SELECT 1 FROM ({firm_occurrences_sql(con, only='invalid')}) o
                              WHERE o.code IS NOT DISTINCT FROM l.raw_uscc AND o.firm_name IS NOT DISTINCT FROM
                                    l.firm_name AND o.region IS NOT DISTINCT FROM l.region_code)""").fetchall(),
                           key=str),
            "review": sorted(con.execute("SELECT kind, left_id, left_name, right_id FROM review_queue "
                                         "WHERE run_month = ?", [month]).fetchall(), key=str),
        }
    finally:
        con.close()


def test_state_holds_every_code_once_with_the_month_it_was_first_seen(sample_run, sample_months):
    wh, _ = sample_run
    con = duckdb.connect(str(wh), read_only=True)
    months = [r[0].strftime("%Y-%m") for r in con.execute(
        "SELECT DISTINCT extract_month FROM link_profiled WHERE kind = 'person' ORDER BY 1").fetchall()]
    # every valid ID of every month's contributions is known from that month on, and only once
    late = con.execute("""
        SELECT count(*) FROM (SELECT id_number, min(extract_month) AS first FROM stg_social_insurance
                              WHERE id_number_valid GROUP BY 1) s
        LEFT JOIN link_known k ON k.kind = 'person' AND k.code = s.id_number
        WHERE k.first_month IS DISTINCT FROM s.first AND NOT k.first_month < s.first
    """).fetchall()[0][0]
    dupes = con.execute("SELECT count(*) - count(DISTINCT (kind, code)) FROM link_known").fetchall()[0][0]
    # each link is written once, by the run that made it; later runs hold it without copying it
    in_force = con.execute(f"SELECT count(*), count(*) FILTER (WHERE run_month < '{sample_months[-1]}') "
                           f"FROM ({links_asof_sql('person', sample_months[-1])})").fetchall()[0]
    copies = con.execute("SELECT count(*) FROM person_links WHERE established_in <> run_month").fetchall()[0][0]
    carried = in_force[1]
    con.close()
    assert months == sample_months
    assert late == 0 and dupes == 0
    assert carried > 0 and in_force[0] > carried, "the last month holds links made by earlier months and its own"
    assert copies == 0


def test_incremental_links_equal_linking_from_scratch(sample_run, sample_months, tmp_path):
    """The last month with no earlier state (profiles rebuilt, nothing carried) links the same
    records to the same persons and firms and queues the same pairs."""
    wh, _ = sample_run
    last = sample_months[-1]
    wh2 = copy_warehouse(wh, tmp_path)
    con = duckdb.connect(str(wh2))
    for table in ("person_links", "firm_links", "review_queue", "link_stats", "link_weights", "link_em_patterns",
                  "link_unresolved", "link_state_runs"):
        con.execute(f"DELETE FROM {table} WHERE run_month < ?", [last])
    for table in ("link_known", "link_tuples_person", "link_tuples_firm", "link_profiled"):
        con.execute(f"DELETE FROM {table}")
    con.close()
    monthly_run(month=last, input_dir=str(SAMPLE / "incoming" / last), warehouse=str(wh2),
                output=str(tmp_path / "out"))
    scratch, incremental = _links(wh2, last), _links(wh, last)
    assert scratch["person"] and scratch["firm"]
    assert scratch == incremental


def test_rerunning_an_old_month_reproduces_it(sample_run, sample_months, tmp_path):
    """Month 2 run again after later months were linked: the same files, byte for byte."""
    wh, out = sample_run
    second = sample_months[1]
    wh2 = copy_warehouse(wh, tmp_path)
    folder = monthly_run(month=second, input_dir=str(SAMPLE / "incoming" / second), warehouse=str(wh2),
                         output=str(tmp_path / "out"))
    assert data_hashes(Path(folder)) == data_hashes(out / second)
    assert _links(wh2, second) == _links(wh, second)
