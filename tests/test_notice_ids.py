from reports.notice_ids import notice_id
from reports.notices import build_notices


def _row(code, amount="1000.00"):
    return {"beneficiary_type": "person", "beneficiary_id": "11010519491231002X", "beneficiary_name": "张三",
            "person_id_number": "11010519491231002X", "person_name": "张三", "policy_code": code,
            "amount": amount, "period_start": None, "period_end": None, "league_code": "150100",
            "region_code": "150102", "phone": "13800000000"}


def test_notice_id_stable_and_distinct():
    a = build_notices([_row("job_search"), _row("startup_one_time")], "2026-10")
    b = build_notices([_row("startup_one_time"), _row("job_search")], "2026-10")
    assert a[0]["notice_id"] == b[0]["notice_id"] == notice_id(
        "2026-10", "person", "11010519491231002X", ["startup_one_time", "job_search"])
    assert a[0]["notice_id"].startswith("ZB202610-") and len(a[0]["notice_id"]) == 19
    assert notice_id("2026-11", "person", "11010519491231002X", "job_search;startup_one_time") != a[0]["notice_id"]
    assert notice_id("2026-10", "person", "11010519491231002X", "job_search") != a[0]["notice_id"]
