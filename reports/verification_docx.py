"""核查报告_<YYYY-MM>.docx per 盟市 (plan item 7: each 盟市 reports its 核查 to the regional
department). A Word document, the format these reports travel in (python-docx):
  一、核查范围      二、核查发现（按类型，件数与涉及金额）   三、超期情况（按环节）
  四、联合核查抽样企业      五、政策落实进度      附件：核查发现明细
The body circulates beyond the bureau, so IDs and USCCs there are masked; the annex lists the
cases with IDs in full. Bytes are reproducible: fixed document dates and zip entry times.
"""
from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from .common import CHECK_NAMES, check_codes, league_name, month_first_day, policy_name, table_exists
from .masking import mask_id
from .tracking import OVERDUE_CHECK, OVERDUE_CHECK_NAME

# 环节 of an overdue case: the ledger's (overdue_* checks) and the list's (tracking states).
OVERDUE_STAGES = [
    ("overdue_accept", "申请后超期未受理"),
    ("overdue_review", "受理后超期未审核"),
    ("overdue_payment", "审核后超期未拨付"),
    ("overdue_completion", "申请后超过20个工作日办结"),
    ("超期未确认", "告知后超期未确认（已再次告知）"),
    ("超期未发放", "确认申领后超过20个工作日未发放"),
]
# The one check CHECK_NAMES (reports/common.py) does not list: it exists only with the optional
# sources (a check with no finding has no check_name row to fall back on).
EXTRA_CHECK_NAMES = {OVERDUE_CHECK: OVERDUE_CHECK_NAME}


def _findings(con, month: str, league: str) -> list[dict]:
    amount = "NULL::DECIMAL(12,2)"
    join = ""
    if table_exists(con, "stg_subsidy_ledger"):
        join = ("LEFT JOIN (SELECT application_id, any_value(amount ORDER BY extract_month DESC) AS ledger_amount "
                "FROM stg_subsidy_ledger GROUP BY application_id) l USING (application_id)")
        amount = "l.ledger_amount"
    if table_exists(con, "payment_tracking"):
        # 超期未发放 names a listed decision, not an application: its listed amount is at risk
        # the finding's facts start with the decision's listing month and notice (reports/tracking.py)
        join += (" LEFT JOIN (SELECT person_id_number, policy_code, amount AS decision_amount, "
                 "'名单月份' || listing_month || '；告知编号' || notice_id || '；' AS facts_prefix FROM payment_tracking "
                 "WHERE run_month = $run_month AND state = '超期未发放') t "
                 f"ON f.check_code = '{OVERDUE_CHECK}' AND t.person_id_number IS NOT DISTINCT FROM f.beneficiary_id_number "
                 "AND t.policy_code = f.policy_code AND starts_with(f.facts, t.facts_prefix)")
        amount = f"coalesce({amount}, t.decision_amount)"
    cur = con.execute(f"""
        SELECT f.check_code, f.check_name, f.application_id, f.policy_code, f.beneficiary_id_number, f.region_code,
               f.facts, {amount} AS amount
        FROM verification_findings f {join}
        WHERE f.run_month = $run_month AND coalesce(f.league_code, '150000') = $league
        ORDER BY f.check_code, f.region_code, f.beneficiary_id_number, f.application_id""",
                      {"run_month": month, "league": league})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _sample(con, month: str, league: str) -> list[tuple]:
    if not table_exists(con, "verification_sample"):
        return []
    return con.execute("""SELECT employer_uscc, employer_name, reason, amount, persons, months
                          FROM verification_sample WHERE run_month = ? AND league_code = ?
                          ORDER BY selection, amount DESC NULLS LAST, employer_uscc""", [month, league]).fetchall()


def _tracking_overdue(con, month: str, league: str) -> dict[str, tuple[int, Decimal]]:
    if not table_exists(con, "payment_tracking"):
        return {}
    return {s: (n, a or Decimal("0")) for s, n, a in con.execute(
        "SELECT state, count(*), sum(amount) FROM payment_tracking WHERE run_month = ? AND league_code = ? "
        "AND state IN ('超期未确认', '超期未发放') GROUP BY state", [month, league]).fetchall()}


def _table(doc, headers: list[str], rows: list[list], widths_cm: list[float] | None = None):
    """A grid table: bold header, one row per list; `widths_cm` fixes the column widths
    (LibreOffice lays a table out by its grid columns, Word by the cells: both are set)."""
    from docx.shared import Cm, Pt
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    widths = [Cm(w) for w in widths_cm] if widths_cm else None
    if widths:
        t.autofit = False
        for i, w in enumerate(widths):
            t.columns[i].width = w

    def fill(cells, values, bold=False, size=9.5):
        for i, v in enumerate(values):
            run = cells[i].paragraphs[0].add_run("" if v is None else str(v))
            run.bold = bold
            run.font.size = Pt(size)
            if widths:
                cells[i].width = widths[i]

    fill(t.rows[0].cells, headers, bold=True, size=10)
    for r in rows:
        fill(t.add_row().cells, r)
    return t


def _money(v) -> str:
    return f"{Decimal(v or 0):,.2f}"


def build_document(con: duckdb.DuckDBPyConnection, month: str, league: str):
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    for name in ("Title", "Heading 1", "Heading 2"):
        doc.styles[name].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimHei")
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.2)

    y, m = month.split("-")
    lname = league_name(league)
    findings = _findings(con, month, league)
    title = doc.add_heading(f"{lname}就业补贴政策落实核查报告（{y}年{int(m)}月）", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("自治区人力资源和社会保障厅：")
    doc.add_paragraph(
        f"按照《进一步加强就业政策落实有关工作的实施方案》第（二）部分第7项要求，{lname}对截至{y}年{int(m)}月末的"
        "就业补贴申领发放台账、直补快办名单及发放进度开展了数据比对核查，现将有关情况报告如下。"
        "正文中的证件号码已脱敏，完整信息见附件（仅供核查使用）。")

    doc.add_heading("一、核查发现（按类型）", level=1)
    per = defaultdict(lambda: [0, Decimal("0")])
    for f in findings:
        per[f["check_code"]][0] += 1
        per[f["check_code"]][1] += Decimal(f["amount"] or 0)
    names = {f["check_code"]: f["check_name"] for f in findings}
    label = {**EXTRA_CHECK_NAMES, **names, **CHECK_NAMES}
    rows = [[label.get(c, c), per[c][0], _money(per[c][1])] for c in check_codes(per)]
    rows.append(["合计", sum(v[0] for v in per.values()), _money(sum((v[1] for v in per.values()), Decimal("0")))])
    _table(doc, ["核查项目", "发现数（件）", "涉及金额（元）"], rows, [9.0, 3.0, 4.5])
    doc.add_paragraph("涉及金额：发现所指台账记录的补贴金额；“确认后超期未发放”为名单列入金额。")

    doc.add_heading("二、超期情况（按环节）", level=1)
    tracked = _tracking_overdue(con, month, league)
    rows = []
    for code, stage in OVERDUE_STAGES:
        n, a = tracked.get(code) or tuple(per.get(code, (0, Decimal("0"))))
        rows.append([stage, n, _money(a)])
    _table(doc, ["环节", "件数", "金额（元）"], rows, [9.0, 3.0, 4.5])

    doc.add_heading("三、联合核查抽样企业", level=1)
    sample = _sample(con, month, league)
    if sample:
        _table(doc, ["统一社会信用代码", "单位名称", "入选原因", "近12个月补贴金额（元）", "人数", "月数"],
               [[mask_id(u), n, r, _money(a), p, mo] for u, n, r, a, p, mo in sample], [3.6, 4.2, 4.0, 2.6, 1.2, 1.2])
    else:
        doc.add_paragraph("本月无抽样企业。")

    doc.add_heading("四、政策落实进度", level=1)
    if table_exists(con, "payment_tracking"):
        from .takeup import rate, takeup_rows
        prog = [r for r in takeup_rows(con, month) if r["league_code"] == league and r["region_code"] is None]
        _table(doc, ["政策", "累计列入", "已确认", "已发放", "20个工作日内发放", "落实率"],
               [[r["policy_name"], r["listed"], r["confirmed"], r["paid"], r["paid_in_time"], rate(r["paid"], r["listed"])]
                for r in prog], [5.2, 2.2, 2.2, 2.2, 2.8, 2.0])
    doc.add_paragraph("下一步，我局将对上述问题逐件核实整改，限期办结超期事项，并按要求报送整改情况。")
    doc.add_paragraph(f"{lname}人力资源和社会保障局").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph(f"{y}年{int(m)}月").alignment = WD_ALIGN_PARAGRAPH.RIGHT

    annex = doc.add_section()
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Cm(29.7), Cm(21.0)
    doc.add_heading("附件：核查发现明细", level=1)
    if findings:
        _table(doc, ["序号", "核查项目", "政策", "受益人证件号码", "业务流水号", "行政区划", "涉及金额（元）", "核查事实"],
               [[i, label.get(f["check_code"], f["check_name"]), policy_name(f["policy_code"]),
                 f["beneficiary_id_number"], f["application_id"], f["region_code"],
                 _money(f["amount"]) if f["amount"] is not None else "", f["facts"]]
                for i, f in enumerate(findings, start=1)], [1.0, 3.2, 3.0, 4.0, 2.6, 1.6, 2.2, 7.8])
    else:
        doc.add_paragraph("本月无核查发现。")
    return doc, {"findings": len(findings), "sampled_firms": len(sample)}


def _reproducible(data: bytes, when: datetime) -> bytes:
    """The same document → the same bytes: zip entries re-written with one fixed time."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            z = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            z.compress_type = zipfile.ZIP_DEFLATED
            z.external_attr = 0o600 << 16
            dst.writestr(z, src.read(info.filename))
    return buf.getvalue()


def write_verification_docx(con: duckdb.DuckDBPyConnection, out: Path, month: str, leagues: list[str]) -> dict:
    """exports/<league>/核查报告_<YYYY-MM>.docx for every league; returns counts per league."""
    if not table_exists(con, "verification_findings"):
        return {}
    first = month_first_day(month)
    when = datetime(first.year, first.month, first.day)
    counts = {}
    for league in leagues:
        doc, c = build_document(con, month, league)
        props = doc.core_properties
        props.author = props.last_modified_by = "zhibu"
        props.title = f"{league_name(league)}就业补贴政策落实核查报告 {month}"
        props.created = props.modified = when
        props.revision = 1
        buf = io.BytesIO()
        doc.save(buf)
        path = out / "exports" / league / f"核查报告_{month}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_reproducible(buf.getvalue(), when))
        counts[league] = c
    return counts
