"""From list to money on the committed sample (outputs.md): March is listed, April's extracts
carry the answers to March's notices and the card roster, May a late answer, a ledger
application and a card that was lost and is now 正常. Real flow runs, three months."""
from __future__ import annotations

import os
import csv
import io
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import SAMPLE
from data.synth.readback import read_extract

MONTHS = ("2025-03", "2025-04", "2025-05")


def luhn_complete(prefix: str) -> str:
    """`prefix` + its Luhn check digit."""
    digits = [int(c) for c in prefix][::-1]
    total = sum(sum(divmod(2 * d, 10)) if i % 2 == 0 else d for i, d in enumerate(digits))
    return prefix + str((10 - total % 10) % 10)


def typo(id_number: str) -> str:
    """One wrong digit in the body: the check digit then fails."""
    d = id_number[10]
    return id_number[:10] + ("0" if d != "0" else "1") + id_number[11:]


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if v is None else v for v in r] for r in rows])
    path.write_text(buf.getvalue(), encoding="utf-8")


CONF_HEADER = ["告知编号", "告知月份", "受益主体证件号码", "政策代码", "确认结果", "确认日期", "收款账户类型", "开户银行", "银行账号"]
CARD_HEADER = ["公民身份号码", "姓名", "社会保障卡号", "金融账户", "开户银行", "卡状态", "行政区划代码"]


@pytest.fixture(scope="module")
def money_run(tmp_path_factory, prefect_harness):
    from flows.monthly import monthly_run
    base = tmp_path_factory.mktemp("money")
    wh, out = base / "wh.duckdb", base / "out"
    monthly_run(month="2025-03", input_dir=str(SAMPLE / "incoming" / "2025-03"), warehouse=str(wh), output=str(out))
    elig = pd.read_parquet(out / "2025-03" / "eligibility.parquet").sort_values(
        ["policy_code", "beneficiary_id", "person_id_number"]).reset_index(drop=True)
    notices = pd.concat(pd.read_csv(p, dtype=str) for p in (out / "2025-03" / "push").glob("*/notices.csv"))
    nid = dict(zip(notices.beneficiary_id, notices.notice_id))
    js = elig[elig.policy_code == "job_search"].beneficiary_id.tolist()
    st = elig[elig.policy_code == "startup_one_time"].beneficiary_id.tolist()
    fl = elig[elig.policy_code == "flexible_social_insurance"].beneficiary_id.tolist()
    firms = elig[elig.policy_code == "hiring_social_insurance"].beneficiary_id.tolist()
    people = {"card_ok": js[0], "card_lost": js[1], "no_card": js[2], "gives_up": st[0], "wrong_info": st[1],
              "silent": fl[0]}
    accounts = {"ok": luhn_complete("622202123456789012"), "lost": luhn_complete("622202123456789013")}
    firm_account = "6222-0212 3456 7890"
    april = [
        [nid[js[0]], "202503", js[0], "job_search", "确认申领", "2025-04-08", "社会保障卡", None, None],
        [nid[js[1]], "2025-03", js[1], "job_search", "确认申领", "2025/4/9", "社会保障卡", None, None],
        # a mistyped ID: linked by the matchers' repair, or by the notice it answers
        [nid[js[2]], "2025-03", typo(js[2]), "job_search", "确认申领", "2025-04-10", None, None, None],
        [nid[st[0]], "2025-03", st[0], "startup_one_time", "放弃", "2025-04-10", None, None, None],
        [nid[st[1]], "2025-03", st[1], "startup_one_time", "信息有误", "2025-04-11", None, None, None],
        [nid[firms[0]], "2025-03", firms[0], "hiring_social_insurance", "确认申领", "2025-04-08", "单位银行账户",
         "中国工商银行呼和浩特分行", firm_account],
        [nid[firms[1]], "2025-03", firms[1], "hiring_social_insurance", "确认申领", "2025-04-09", None, None, None],
        [nid[firms[2]], "2025-03", firms[2], "hiring_social_insurance", "确认申领", "2025-04-09", "单位银行账户",
         "中国银行", "12-34"],
        # an answer to a notice nobody was sent
        ["ZB202503-0000000000", "2025-03", "91150100MA0N123450", "one_time_hiring", "确认申领", "2025-04-09",
         None, None, None],
    ]
    cards = [[js[0], "张三", "A1000001", accounts["ok"], "中国工商银行", "正常", "150102"],
             [js[1], "李四", "A1000002", accounts["lost"], "中国工商银行", "挂失", "150102"],
             [st[0], "王五", "A1000003", luhn_complete("622202123456789014"), "中国银行", "正常", "150102"]]
    inc04 = base / "in04"
    shutil.copytree(SAMPLE / "incoming" / "2025-04", inc04)
    _csv(inc04 / "confirmations.csv", CONF_HEADER, april)
    _csv(inc04 / "social_security_cards.csv", CARD_HEADER, cards)
    monthly_run(month="2025-04", input_dir=str(inc04), warehouse=str(wh), output=str(out))

    # May: firm 4 answers late, but has applied at the window (ledger): handled there, never batched;
    # the lost card is 正常 again (a new account): batched now.
    may = [[nid[firms[3]], "2025-03", firms[3], "hiring_social_insurance", "确认申领", "2025-05-06", "单位银行账户",
            "中国建设银行", "6217000010001234567"]]
    cards[1] = [js[1], "李四", "A1000004", luhn_complete("622202123456789015"), "中国工商银行", "正常", "150102"]
    inc05 = base / "in05"
    shutil.copytree(SAMPLE / "incoming" / "2025-05", inc05)
    _csv(inc05 / "confirmations.csv", CONF_HEADER, may)
    _csv(inc05 / "social_security_cards.csv", CARD_HEADER, cards)
    row = elig[elig.beneficiary_id == firms[3]].iloc[0]
    enc, header, data = read_extract(inc05 / "subsidy_ledger.csv")
    rec = dict.fromkeys(header)
    rec.update({"业务流水号": "ZB-TEST-0001", "政策代码": "hiring_social_insurance", "申领主体类型": "单位",
                "申领主体证件号码": firms[3], "受益人员身份证号": row.person_id_number,
                "补贴所属期": row.period_start.replace("-", ""), "补贴金额": str(row.amount), "申请日期": "2025-05-07",
                "办理状态": "已申请", "经办渠道": "窗口申领", "行政区划代码": row.region_code})
    # firm 0, batched in April, is paid through the ledger on the 20th working day after its
    # confirmation (2025-04-08 → 2025-05-08: Sunday 04-27 is a 调休 working day, 05-01..05 are not)
    paid = elig[elig.beneficiary_id == firms[0]].iloc[0]
    rec_paid = dict.fromkeys(header)
    rec_paid.update({"业务流水号": "ZB-TEST-0002", "政策代码": "hiring_social_insurance", "申领主体类型": "单位",
                     "申领主体证件号码": firms[0], "受益人员身份证号": paid.person_id_number,
                     "补贴所属期": paid.period_start.replace("-", ""), "补贴金额": str(paid.amount),
                     "申请日期": "2025-04-28", "受理日期": "2025-04-29", "审核日期": "2025-04-30",
                     "拨付日期": "2025-05-08", "办理状态": "已拨付", "经办渠道": "直补快办",
                     "行政区划代码": paid.region_code})
    _csv(inc05 / "subsidy_ledger.csv", header, data + [[rec[h] for h in header], [rec_paid[h] for h in header]])
    monthly_run(month="2025-05", input_dir=str(inc05), warehouse=str(wh), output=str(out))
    return {"wh": wh, "out": out, "people": people, "firms": firms, "elig": elig, "accounts": accounts, "inc05": inc05}


def _q(wh, sql, *params):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _batch_csv(out: Path, month: str) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, encoding="utf-8-sig") for p in sorted((out / month / "payments").glob("*/发放批次_*.csv"))]
    return pd.concat(frames, ignore_index=True)


def _pending_csv(out: Path, month: str) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, encoding="utf-8-sig") for p in sorted((out / month / "payments").glob("*/待补录_*.csv"))]
    return pd.concat(frames, ignore_index=True)


def test_confirmations_matched_to_listed_decisions(money_run):
    wh, people = money_run["wh"], money_run["people"]
    t = pd.read_parquet(money_run["out"] / "2025-04" / "tracking.parquet")
    answered = t[t.response.notna()]
    assert set(answered.beneficiary_id) == {people[k] for k in ("card_ok", "card_lost", "no_card", "gives_up",
                                                                 "wrong_info")} | set(money_run["firms"][:3])
    typo_row = t[t.beneficiary_id == people["no_card"]].iloc[0]
    assert typo_row.response == "确认申领" and (typo_row.matched_by == "notice_id" or typo_row.id_method != "exact")


def test_batch_rows_and_pending_reasons(money_run):
    out, people, firms = money_run["out"], money_run["people"], money_run["firms"]
    b = _batch_csv(out, "2025-04")
    assert sorted(b["受益主体证件号码"]) == sorted([people["card_ok"], firms[0]])
    acct = dict(zip(b["受益主体证件号码"], b["收款账号"]))
    assert acct[people["card_ok"]] == money_run["accounts"]["ok"]       # in full in the batch only
    assert acct[firms[0]] == "6222021234567890"                           # spaces and dashes removed
    p = _pending_csv(out, "2025-04")
    reasons = dict(zip(p["受益主体证件号码"], p["待补录原因"]))
    assert reasons == {people["card_lost"]: "社会保障卡已挂失", people["no_card"]: "未办理社会保障卡（持卡信息中无此人）",
                       firms[1]: "单位未提供银行账户", firms[2]: "单位银行账号有误（位数或字符不符）"}
    assert set(p["待补录起始月份"]) == {"2025-04"}


def test_nothing_batched_twice_and_nothing_handled_in_the_ledger(money_run):
    out, people, firms = money_run["out"], money_run["people"], money_run["firms"]
    may = _batch_csv(out, "2025-05")
    assert list(may["受益主体证件号码"]) == [people["card_lost"]]          # the card is 正常 again
    assert firms[3] not in set(may["受益主体证件号码"])                     # applied at the window
    twice = _q(money_run["wh"], """SELECT decision_key, count(*) FROM payment_batch
                                   WHERE run_month IN (SELECT run_month FROM published_runs)
                                   GROUP BY 1 HAVING count(*) > 1""")
    assert twice == []
    p = _pending_csv(out, "2025-05")
    assert dict(zip(p["受益主体证件号码"], p["待补录起始月份"])) == {
        people["no_card"]: "2025-04", firms[1]: "2025-04", firms[2]: "2025-04"}


def test_batch_totals_reconcile_with_rows(money_run):
    import openpyxl
    out = money_run["out"]
    for month in ("2025-04", "2025-05"):
        for xlsx in sorted((out / month / "payments").glob("*/发放批次_*.xlsx")):
            rows = pd.read_csv(xlsx.with_suffix(".csv"), dtype=str, encoding="utf-8-sig")
            ws = openpyxl.load_workbook(xlsx)["发放批次"]
            data = [r for r in ws.iter_rows(min_row=2, values_only=True)]
            body, total = data[:len(rows)], [r for r in data[len(rows):] if r and r[0] == "合计"]
            assert len(total) == 1 and all(r[0] for r in body)
            assert data[len(rows)] == (None,) * len(data[len(rows)])         # the total is outside the table
            csv_sum = sum((Decimal(a) for a in rows["补贴金额(元)"]), Decimal("0.00"))
            assert Decimal(str(total[0][10])).quantize(Decimal("0.01")) == csv_sum
            assert sum((Decimal(str(r[10])).quantize(Decimal("0.01")) for r in body), Decimal("0.00")) == csv_sum
        db = _q(money_run["wh"], "SELECT coalesce(sum(amount), 0), count(*) FROM payment_batch WHERE run_month = ?", month)[0]
        assert db == (sum((Decimal(a) for a in _batch_csv(out, month)["补贴金额(元)"]), Decimal("0.00")),
                      len(_batch_csv(out, month)))


def test_tracking_states_reminder_once_and_findings(money_run):
    out, people, firms = money_run["out"], money_run["people"], money_run["firms"]
    apr = pd.read_parquet(out / "2025-04" / "tracking.parquet")
    assert set(apr[apr.listing_month == "2025-04"].state) == {"待确认"}     # this month's new listings
    apr = apr[apr.listing_month == "2025-03"].set_index("beneficiary_id")
    assert apr.loc[people["gives_up"], "state"] == "放弃"
    assert apr.loc[people["wrong_info"], "state"] == "信息有误待核"
    assert apr.loc[people["silent"], "state"] == "超期未确认"
    assert apr.loc[people["card_ok"], "state"] == "已确认待发放"
    rem = pd.read_csv(out / "2025-04" / "push" / apr.loc[people["silent"], "league_code"] / "reminders.csv", dtype=str,
                      encoding="utf-8-sig")
    march_notice = apr.loc[people["silent"], "notice_id"]
    assert march_notice in set(rem.notice_id)
    may_reminders = pd.concat(pd.read_csv(p, dtype=str, encoding="utf-8-sig")
                              for p in (out / "2025-05" / "push").glob("*/reminders.csv"))
    assert march_notice not in set(may_reminders.notice_id)                  # once
    assert set(may_reminders.listing_month) == {"2025-04"}
    may = pd.read_parquet(out / "2025-05" / "tracking.parquet")
    may = may[may.listing_month == "2025-03"].set_index("beneficiary_id")
    # confirmed 2025-04-08, 20 working days later is 2025-05-09 (May Day holidays): overdue by 05-31
    assert may.loc[people["card_ok"], "state"] == "超期未发放"
    paid = may.loc[firms[0]]
    assert paid.state == "已发放" and paid.workdays_to_payment == 20 and paid.paid_within_deadline
    findings = _q(money_run["wh"], "SELECT beneficiary_id_number FROM verification_findings "
                                   "WHERE run_month = '2025-05' AND check_code = 'overdue_unpaid_confirmed'")
    assert people["card_ok"] in {f[0] for f in findings}
    # the report's 核查 table puts the overdue decisions' own amount at risk (not 0.00)
    at_risk = _q(money_run["wh"], "SELECT sum(amount) FROM payment_tracking WHERE run_month = '2025-05' "
                                  "AND state = '超期未发放'")[0][0]
    report = (money_run["out"] / "2025-05" / "report.html").read_text(encoding="utf-8")
    row = report[report.index("确认后超期未发放"):][:400]
    assert f"{at_risk:,.2f}" in row, row
    wrong = _q(money_run["wh"], "SELECT left_id FROM review_queue WHERE run_month = '2025-04' AND kind = 'info_wrong'")
    assert wrong == [(people["wrong_info"],)]


def _text_of(p: Path) -> str:
    """What a file says, whatever its container (parquet columns, zipped xlsx/docx XML)."""
    if p.suffix == ".parquet":
        return pd.read_parquet(p).to_csv()
    if p.suffix in (".xlsx", ".docx"):
        import zipfile
        with zipfile.ZipFile(p) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return p.read_bytes().decode("utf-8", "replace")


def test_account_numbers_only_in_the_batch(money_run):
    out = money_run["out"]
    secrets = [money_run["accounts"]["ok"], "6222021234567890"]
    seen_in_batch = False
    for p in sorted((out / "2025-04").rglob("*")):
        if not p.is_file():
            continue
        text = _text_of(p)
        if "payments" in p.parts:
            seen_in_batch |= all(s in text for s in secrets) and p.suffix == ".csv"
        else:
            assert not any(s in text for s in secrets), p
    assert seen_in_batch
    con = duckdb.connect(str(money_run["wh"]), read_only=True)
    q = con.execute("SELECT raw FROM quarantine WHERE source IN ('confirmations', 'social_security_cards')").fetchall()
    con.close()
    assert not any(s in str(q) for s in secrets)


def test_takeup_in_report_and_dispatch_table(money_run):
    import openpyxl
    out = money_run["out"]
    html = (out / "2025-04" / "report.html").read_text(encoding="utf-8")
    assert 'id="takeup"' in html and "落实率" in html
    ws = openpyxl.load_workbook(out / "2025-04" / "调度表_2025-04.xlsx")["调度表"]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]]
    league_rows = [r for r in rows if r[1] == "全盟市"]
    county_rows = [r for r in rows if r[1] != "全盟市"]
    assert league_rows and county_rows
    t = pd.read_parquet(out / "2025-04" / "tracking.parquet")
    assert sum(r[6] for r in league_rows) == len(t)                 # 累计列入 over every 盟市 row
    assert sum(r[6] for r in county_rows) == len(t)
    assert sum(r[4] for r in league_rows) == int((t.listing_month == "2025-04").sum())


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _soffice_pdf(src: Path, outdir: Path) -> Path:
    import os
    import subprocess
    env = dict(os.environ, HOME=str(outdir))          # a fresh LibreOffice profile
    subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{outdir}/lo",
                    "--convert-to", "pdf", "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=240, env=env)
    return outdir / (src.stem + ".pdf")


@pytest.mark.skipif(SOFFICE is None and not os.environ.get("ZHIBU_REQUIRE_CLIENTS"), reason="LibreOffice missing: apt-get install -y libreoffice-writer-nogui")
def test_verification_report_docx_renders_in_libreoffice(money_run, tmp_path):
    import re
    import zipfile
    out = money_run["out"]
    docs = sorted((out / "2025-05" / "exports").glob("*/核查报告_2025-05.docx"))
    assert len(docs) >= 12
    # the 盟市 with the most findings
    doc = max(docs, key=lambda p: len(zipfile.ZipFile(p).read("word/document.xml")))
    body = zipfile.ZipFile(doc).read("word/document.xml").decode("utf-8")
    for heading in ("一、核查发现（按类型）", "二、超期情况（按环节）", "三、联合核查抽样企业", "附件：核查发现明细"):
        assert heading in body
    pdf = _soffice_pdf(doc, tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 2, pages                       # the body and the annex (a landscape section)
    if shutil.which("pdftotext"):
        import subprocess
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "核查报告" in text and "附件" in text
    # the same warehouse state gives the same bytes
    from reports.verification_docx import write_verification_docx
    con = duckdb.connect(str(money_run["wh"]), read_only=True)
    try:
        write_verification_docx(con, tmp_path, "2025-05", [doc.parent.name])
    finally:
        con.close()
    assert (tmp_path / "exports" / doc.parent.name / doc.name).read_bytes() == doc.read_bytes()


def test_rerun_with_the_optional_sources_is_byte_identical(money_run, tmp_path):
    from conftest import copy_warehouse
    from flows.monthly import monthly_run
    from test_flows import data_hashes
    wh2 = copy_warehouse(money_run["wh"], tmp_path)
    folder = monthly_run(month="2025-05", input_dir=str(money_run["inc05"]), warehouse=str(wh2),
                         output=str(tmp_path / "out"))
    again, first = data_hashes(Path(folder)), data_hashes(money_run["out"] / "2025-05")
    assert any(k.startswith("payments/") for k in first) and "tracking.parquet" in first
    assert again == first


@pytest.mark.parametrize("stage", ["pay", "publish"])
def test_interrupted_then_rerun_gives_the_same_batch(money_run, tmp_path, stage, monkeypatch):
    from conftest import copy_warehouse
    from flows.monthly import monthly_run
    from test_flows import data_hashes
    wh2 = copy_warehouse(money_run["wh"], tmp_path)
    monkeypatch.setenv("ZHIBU_FAIL_AT", stage)
    with pytest.raises(Exception, match=f"injected failure at stage {stage}"):
        monthly_run(month="2025-05", input_dir=str(money_run["inc05"]), warehouse=str(wh2), output=str(tmp_path / "out"))
    monkeypatch.delenv("ZHIBU_FAIL_AT")
    folder = monthly_run(month="2025-05", input_dir=str(money_run["inc05"]), warehouse=str(wh2),
                         output=str(tmp_path / "out"))
    assert data_hashes(Path(folder)) == data_hashes(money_run["out"] / "2025-05")
