"""落实率 (take-up) per policy × 盟市 × 旗县, and the regional progress table 调度表_<YYYY-MM>.xlsx
(plan 三(三): each 盟市 reports its 旗县's progress to the region). Read from payment_tracking
(reports/tracking.py) and verification_findings; written only with the optional sources.

A row per 盟市 (旗县 = 全盟市) and per 旗县, per policy:
  newly listed (this run) and its amount; listed since the first listing; confirmed; paid; paid
  within 20 working days of the confirmation; overdue (超期未确认 + 超期未发放); verification findings.
"""
from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from .common import POLICIES, league_name, month_first_day, policy_name

REGIONS_CSV = Path(__file__).resolve().parent.parent / "schemas" / "regions.csv"

TAKEUP_SQL = """
WITH tracked AS (
    SELECT * FROM payment_tracking WHERE run_month = $run_month
),

findings AS (
    SELECT policy_code, league_code, region_code, count(*) AS findings
    FROM verification_findings WHERE run_month = $run_month
    GROUP BY GROUPING SETS ((policy_code, league_code), (policy_code, league_code, region_code))
),

per_area AS (
    SELECT policy_code, league_code, region_code,
           count(*) FILTER (WHERE listing_month = $run_month) AS new_listed,
           coalesce(sum(amount) FILTER (WHERE listing_month = $run_month), 0) AS new_amount,
           count(*) AS listed,
           coalesce(sum(amount), 0) AS listed_amount,
           count(*) FILTER (WHERE response = '确认申领' OR state = '已发放') AS confirmed,
           count(*) FILTER (WHERE state = '已发放') AS paid,
           coalesce(sum(amount) FILTER (WHERE state = '已发放'), 0) AS paid_amount,
           count(*) FILTER (WHERE paid_within_deadline) AS paid_in_time,
           count(*) FILTER (WHERE state IN ('超期未确认', '超期未发放')) AS overdue
    FROM tracked
    GROUP BY GROUPING SETS ((policy_code, league_code), (policy_code, league_code, region_code))
)

SELECT a.league_code, a.region_code, a.policy_code, a.new_listed, a.new_amount, a.listed, a.listed_amount,
       a.confirmed, a.paid, a.paid_amount, a.paid_in_time, a.overdue, coalesce(f.findings, 0) AS findings
FROM per_area AS a
LEFT JOIN findings AS f
  ON f.policy_code = a.policy_code AND f.league_code = a.league_code
 AND f.region_code IS NOT DISTINCT FROM a.region_code
ORDER BY a.league_code, a.region_code NULLS FIRST, a.policy_code
"""

FIELDS = ("league_code", "region_code", "policy_code", "new_listed", "new_amount", "listed", "listed_amount",
          "confirmed", "paid", "paid_amount", "paid_in_time", "overdue", "findings")


def region_names() -> dict[str, str]:
    with REGIONS_CSV.open(encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


def takeup_rows(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    """League rows (region_code None) followed by their counties, per policy (policy order of policies.md)."""
    rows = [dict(zip(FIELDS, r)) for r in con.execute(TAKEUP_SQL, {"run_month": month}).fetchall()]
    order = {c: i for i, c in enumerate(POLICIES)}
    names = region_names()
    rows.sort(key=lambda r: (r["league_code"] or "", r["region_code"] or "", order.get(r["policy_code"], 99),
                             r["policy_code"]))
    for r in rows:
        r["league_name"] = league_name(r["league_code"])
        r["region_name"] = "全盟市" if r["region_code"] is None else names.get(r["region_code"], r["region_code"])
        r["policy_name"] = policy_name(r["policy_code"])
    return rows


def rate(part, whole) -> str:
    if not whole:
        return "—"
    return f"{Decimal(part) * 100 / Decimal(whole):.1f}%"


DISPATCH_COLUMNS = [
    ("盟市", "league_name", 12), ("旗县（市、区）", "region_name", 14), ("行政区划代码", "region_code", 10),
    ("政策", "policy_name", 20), ("本月新增名单（条）", "new_listed", 10), ("本月新增金额（元）", "new_amount", 14),
    ("累计列入（条）", "listed", 9), ("已确认申领（条）", "confirmed", 9), ("已发放（条）", "paid", 9),
    ("已发放金额（元）", "paid_amount", 14), ("20个工作日内发放（条）", "paid_in_time", 11),
    ("落实率（已发放/累计列入）", "takeup", 11), ("超期（未确认+未发放）", "overdue", 11), ("核查发现（条）", "findings", 9),
]


def write_dispatch_xlsx(rows: list[dict], path: Path, month: str) -> Path:
    """调度表_<YYYY-MM>.xlsx: one sheet, a row per 盟市 (bold) and per 旗县, per policy; reproducible bytes."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "in_memory": True})
    first = month_first_day(month)
    wb.set_properties({"title": f"就业补贴直补快办落实情况调度表 {month}", "subject": "就业补贴直补快办",
                       "author": "zhibu", "company": "", "created": datetime(first.year, first.month, first.day)})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    title = wb.add_format({"bold": True, "font_size": 14})
    cell = {False: wb.add_format({"border": 1}), True: wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2"})}
    text = {b: wb.add_format({"border": 1, "num_format": "@", "bold": b} | ({"bg_color": "#F2F2F2"} if b else {}))
            for b in (False, True)}
    pct = {b: wb.add_format({"border": 1, "align": "right", "bold": b} | ({"bg_color": "#F2F2F2"} if b else {}))
           for b in (False, True)}
    money = {b: wb.add_format({"border": 1, "num_format": "#,##0.00", "bold": b} | ({"bg_color": "#F2F2F2"} if b else {}))
             for b in (False, True)}
    ws = wb.add_worksheet("调度表")
    y, m = month.split("-")
    ws.write_string(0, 0, f"就业补贴“直补快办”落实情况调度表（{y}年{int(m)}月）", title)
    ws.write_string(1, 0, "填报口径：按盟市、旗县（市、区）分政策；落实率 = 已发放 / 累计列入；"
                          "20个工作日自确认申领之日起按国务院办公厅节假日安排计算。")
    for i, (h, _k, w) in enumerate(DISPATCH_COLUMNS):
        ws.set_column(i, i, w)
        ws.write_string(3, i, h, head)
    ws.set_row(3, 45)
    for n, r in enumerate(rows, start=4):
        league_row = r["region_code"] is None
        for i, (_h, k, _w) in enumerate(DISPATCH_COLUMNS):
            v = rate(r["paid"], r["listed"]) if k == "takeup" else r.get(k)
            if k == "takeup":
                ws.write_string(n, i, v, pct[league_row])
            elif k in ("new_amount", "paid_amount"):
                ws.write_number(n, i, Decimal(v or 0), money[league_row])
            elif isinstance(v, int):
                ws.write_number(n, i, v, cell[league_row])
            else:
                ws.write_string(n, i, "" if v is None else str(v), text[league_row])
    ws.freeze_panes(4, 3)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3)
    ws.set_footer("&C&9第 &P 页，共 &N 页")
    wb.close()
    return path


def report_section(con: duckdb.DuckDBPyConnection, month: str) -> str:
    """The report.html section: listed decisions by state, then 落实率 per policy × 盟市 × 旗县
    (no personal data)."""
    from .report_html import fmt_int, fmt_money, table
    from .tracking import STATES
    by_state = dict((s, (n, a)) for s, n, a in con.execute(
        "SELECT state, count(*), sum(amount) FROM payment_tracking WHERE run_month = ? GROUP BY state",
        [month]).fetchall())
    states = table(["状态", "名单条数", "金额（元）"],
                   [[s, fmt_int(by_state.get(s, (0, 0))[0]), fmt_money(by_state.get(s, (0, 0))[1])] for s in STATES],
                   {1, 2})
    rows = takeup_rows(con, month)
    body = [[r["league_name"], r["region_name"], r["policy_name"], fmt_int(r["listed"]), fmt_money(r["listed_amount"]),
             fmt_int(r["confirmed"]), fmt_int(r["paid"]), fmt_int(r["paid_in_time"]), fmt_money(r["paid_amount"]),
             rate(r["paid"], r["listed"]), fmt_int(r["overdue"])] for r in rows]
    return ("<h3>已列入名单的状态（“超期未发放”金额即核查结果中该项的涉及金额）</h3>" + states
            + "<h3>按政策 × 盟市 × 旗县</h3>"
            + '<p class="note">自列入名单起跟踪：告知、确认申领、发放批次、台账拨付；20个工作日自确认申领之日起计。'
            "盟市行（旗县为“全盟市”）为该盟市合计。完整明细见 tracking.parquet 与 调度表。</p>"
            + table(["盟市", "旗县（市、区）", "政策", "累计列入", "列入金额（元）", "已确认", "已发放",
                     "20个工作日内发放", "已发放金额（元）", "落实率", "超期"], body, {3, 4, 5, 6, 7, 8, 9, 10}))
