import csv
from decimal import Decimal

import pytest

from reports.notices import build_notices, render_policy
from test_reports_data import F1, MONTH, P1, P3, P4, RUN_INFO, publish, published, warehouse  # noqa: F401


def _read(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


@pytest.fixture
def out(published):  # noqa: F811
    return published


def test_one_bundled_notice_per_beneficiary(out):
    rows = _read(out / "push" / "150100" / "notices.csv")
    assert [(r["beneficiary_type"], r["beneficiary_id"]) for r in rows] == [("firm", F1), ("person", P1)]
    firm, person = rows
    assert firm["policy_codes"] == "one_time_hiring;hiring_social_insurance"
    assert firm["total_amount"] == "5345.67"
    assert "一次性扩岗补助3,000.00元" in firm["message"] and "2,345.67" in firm["message"]
    assert "合计5,345.67元" in firm["message"]
    assert person["policy_codes"] == "flexible_social_insurance;job_search"
    assert person["channel"] == "短信" and person["phone"] == "13912345678"
    for r in rows:
        assert "12333" in r["message"] and "公共就业服务机构" in r["message"]
        assert "确认" in r["message"] and "经办渠道" in r["message"]


def test_no_mobile_is_listed_for_another_channel(out):
    rows = _read(out / "push" / "150200" / "notices.csv")
    by_id = {r["beneficiary_id"]: r for r in rows}
    assert by_id[P3]["channel"] == "上门/窗口告知" and by_id[P3]["phone"] == ""
    firm = [r for r in rows if r["beneficiary_type"] == "firm"][0]
    assert firm["channel"] == "上门/窗口告知"        # landline: no SMS
    assert _read(out / "push" / "150400" / "notices.csv")[0]["beneficiary_id"] == P4
    assert _read(out / "push" / "152900" / "notices.csv") == []


def test_policy_templates_and_catalogue_are_used(warehouse, tmp_path):  # noqa: F811
    pol = tmp_path / "policies"
    (pol / "job_search").mkdir(parents=True)
    (pol / "job_search" / "notice.txt").write_text(
        "{name}同学符合求职创业补贴,标准{amount}元(模板)", encoding="utf-8")
    (pol / "job_search" / "catalogue.yaml").write_text(
        "政策名称: 求职创业补贴\n经办渠道: 所在高校就业指导中心\n", encoding="utf-8")
    (pol / "flexible_social_insurance").mkdir()
    (pol / "flexible_social_insurance" / "notice.txt").write_text(
        "灵活就业社保补贴 ${amount} 元,${period_start}至${period_end}", encoding="utf-8")
    (pol / "startup_one_time").mkdir()
    (pol / "startup_one_time" / "notice.txt").write_text("{name 坏模板", encoding="utf-8")
    out = publish(warehouse, tmp_path / "out", run_info={**RUN_INFO, "policies_dir": str(pol)})
    person = [r for r in _read(out / "push" / "150100" / "notices.csv") if r["beneficiary_id"] == P1][0]
    assert "张三伟同学符合求职创业补贴,标准2,000.00元(模板)" in person["message"]
    assert "灵活就业社保补贴 812.34 元,2026-09至2026-10" in person["message"]
    assert "所在高校就业指导中心" in person["message"]
    other = [r for r in _read(out / "push" / "150200" / "notices.csv") if r["beneficiary_id"] == P3][0]
    assert "一次性创业补贴5,000.00元" in other["message"]     # broken template -> built-in


def test_whole_notice_template_is_reduced_to_its_policy_sentence():
    tpl = ("【直补快办】{name}：您单位招用的{person_name}符合一次性扩岗补助条件，可享受补助{amount}元。"
           "无需提交申请，确认后将直接拨付至单位对公账户。如有疑问请咨询当地公共就业服务机构或拨打12333。")
    rows = [dict(policy_code="one_time_hiring", beneficiary_type="firm", beneficiary_id=F1,
                 beneficiary_name="甲公司", person_id_number=p, person_name=n, amount=Decimal("1500.00"),
                 period_start=None, period_end=None, region_code="150102", league_code="150100",
                 phone=None) for p, n in (("1", "张三"), ("2", "李四"))]
    (n,) = build_notices(rows, MONTH, {"one_time_hiring": {"经办渠道": "直补快办（免申即享）。"}},
                         {"one_time_hiring": tpl})
    msg = n["message"]
    assert "1.您单位招用的张三、李四符合一次性扩岗补助条件，可享受补助3,000.00元。合计3,000.00元。" in msg
    assert msg.count("【直补快办】") == 1 and msg.count("12333") == 1
    assert "经办渠道：直补快办（免申即享）。" in msg
    assert n["channel"] == "上门/窗口告知"


def test_repo_policy_texts_render(warehouse, tmp_path):  # noqa: F811
    """Whatever policies/ holds right now renders without leftover placeholders."""
    out = publish(warehouse, tmp_path / "out", run_info={k: v for k, v in RUN_INFO.items()
                                                         if k != "policies_dir"})
    for p in (out / "push").glob("*/notices.csv"):
        for r in _read(p):
            assert "{" not in r["message"] and "$" not in r["message"]
            assert r["message"].count("12333") == 1


def test_render_policy_fallback_for_unknown_code():
    s = render_policy("new_policy", {"policy_name": "新政策", "amount": "1.00"}, {})
    assert s == "新政策1.00元"


def test_build_notices_sums_exactly():
    rows = [dict(policy_code="hiring_social_insurance", beneficiary_type="firm", beneficiary_id=F1,
                 beneficiary_name="甲公司", person_id_number=str(i), amount=Decimal("0.10"),
                 period_start="2026-10", period_end="2026-10", region_code="150102",
                 league_code="150100", phone="13800000000") for i in range(3)]
    (n,) = build_notices(rows, MONTH)
    assert n["total_amount"] == "0.30" and n["channel"] == "短信"


def _row(code, league, region, amount="100.00", **kw):
    r = dict(policy_code=code, beneficiary_type="person", beneficiary_id=P1, beneficiary_name="其其格",
             person_id_number=P1, person_name="其其格", amount=Decimal(amount), period_start="2026-09",
             period_end="2026-10", region_code=region, league_code=league, phone="13912345678")
    r.update(kw)
    return r


def test_one_notice_across_regions_routed_to_one_bureau():
    rows = [_row("flexible_social_insurance", "150200", "150203"), _row("job_search", "150100", "150102")]
    (n,) = build_notices(rows, MONTH)                       # no record: the first policy's region
    assert (n["league_code"], n["region_code"]) == ("150200", "150203")
    assert n["policy_codes"] == "flexible_social_insurance;job_search" and n["total_amount"] == "200.00"
    (n,) = build_notices(rows, MONTH, home={P1: "150102"})  # latest record in 新城区
    assert (n["league_code"], n["region_code"]) == ("150100", "150102")
    (n,) = build_notices(rows, MONTH, home={P1: "150421"})  # latest record elsewhere: first policy
    assert n["league_code"] == "150200"


def test_cross_region_beneficiary_gets_one_notice_in_the_push_folders(warehouse, tmp_path):  # noqa: F811
    import duckdb
    con = duckdb.connect(str(warehouse))
    # P1's job_search row carries 包头 (e.g. 生源地), the rest of P1 is 呼和浩特
    con.execute(f"UPDATE eligibility SET region_code = '150203', league_code = '150200' "
                f"WHERE policy_code = 'job_search' AND beneficiary_id = '{P1}'")
    con.execute(f"""CREATE TABLE stg_graduates AS SELECT '{P1}' AS id_number, '张三伟' AS name,
        DATE '2026-06-30' AS graduation_date, '150102' AS region_code, DATE '2026-10-01' AS extract_month""")
    con.close()
    out = publish(warehouse, tmp_path / "out")
    hits = [(p.parent.name, r) for p in (out / "push").glob("*/notices.csv") for r in _read(p)
            if r["beneficiary_id"] == P1]
    assert len(hits) == 1
    league, n = hits[0]
    assert league == "150100" and n["policy_codes"] == "flexible_social_insurance;job_search"


def test_bundled_text_greets_once():
    tpl = {"flexible_social_insurance": "【直补快办】{name}您好：经数据比对，您缴纳的社会保险费符合条件，可享受补贴{amount}元。无需提交申请。",
           "job_search": "【直补快办】{name}同学你好：经数据比对，你符合求职创业补贴条件，可享受补贴{amount}元。"}
    rows = [_row("flexible_social_insurance", "150100", "150102"), _row("job_search", "150100", "150102")]
    (n,) = build_notices(rows, MONTH, templates=tpl)
    msg = n["message"]
    assert msg.startswith("【直补快办】其其格：") and msg.count("其其格") == 1
    assert "您好" not in msg and "你好" not in msg and msg.count("数据比对") == 1
    assert "1.您缴纳的社会保险费符合条件，可享受补贴100.00元；2.你符合求职创业补贴条件" in msg


@pytest.mark.parametrize("text, name, expected", [
    ("张三同学你好：你符合条件。", "张三", "你符合条件。"),
    ("尊敬的张三先生，您符合条件。", "张三", "您符合条件。"),
    ("甲公司：\u3000贵单位符合条件。", "甲公司", "贵单位符合条件。"),
    ("张三同学你好", "张三", "张三同学你好"),             # no punctuation after it: not a greeting
    ("李四：你符合条件。", "张三", "李四：你符合条件。"),     # someone else's name stays
    ("张三(个体)您好！符合条件。", "张三(个体)", "符合条件。"),  # regex characters in a name are plain text
])
def test_a_greeting_with_the_recipients_name_is_stripped(text, name, expected):
    from reports.notices import _without_greeting
    assert _without_greeting(text, name) == expected
