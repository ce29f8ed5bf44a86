"""report.html: one self-contained Chinese page (inline CSS + inline SVG, no external requests).

Personal data is masked everywhere (masking.py). No timestamps: the page is byte-identical
across reruns of the same month.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from decimal import Decimal
from html import escape

import duckdb

from . import charts
from .common import (
    BENEFICIARY_TYPES,
    LEAGUES,
    MATCH_METHODS,
    POLICIES,
    UNASSIGNED_LEAGUE,
    check_month,
    league_name,
    month_key,
    month_match,
    policy_name,
    table_columns,
    table_exists,
    CHECK_NAMES,
    check_codes,
)
from .masking import mask_id, mask_name, mask_text
from zhibu.warehouse import LOOKUP_FLAG

log = logging.getLogger(__name__)

SOURCES = {
    "employment_registration": "就业失业登记",
    "hiring_filing": "用工备案",
    "social_insurance": "社保参保缴费",
    "business_registration": "经营主体登记注册",
    "graduates": "高校毕业生",
    "poverty_alleviation": "脱贫人口",
    "fiscal_staff": "财政供养人员",
    "deceased": "死亡人员",
    "subsidy_ledger": "补贴发放台账",
}

QUARANTINE_REASONS = {
    "missing_required": "必填项缺失",
    "id_scientific_notation": "身份证号被科学计数法损坏",
    "id_malformed": "身份证号格式错误",
    "uscc_malformed": "统一社会信用代码格式错误",
    "bad_date": "日期无法识别",
    "bad_month": "月份无法识别",
    "bad_amount": "金额无法识别",
    "bad_enum": "取值不在规定范围",
    "bad_region": "行政区划代码无效",
    "duplicate_key": "重复记录",
}

EXCLUSION_REASONS = {
    "fiscal_staff": "财政供养人员",
    "deceased": "已死亡",
    "ledger_granted": "台账中已享受",
    "listed_earlier": "往月已列入名单",
}

SECTION_TITLES = [
    ("overview", "一、本月概览"),
    ("intake", "二、数据接收与隔离"),
    ("quality", "三、数据质量校验"),
    ("matching", "四、数据匹配"),
    ("beneficiaries", "五、新增享受对象与金额"),
    ("review", "六、待人工复核"),
    ("exclusions", "七、排除情况"),
    ("verification", "八、核查结果"),
    ("trend", "九、月度趋势"),
    ("about", "十、运行说明"),
]

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f4f6f9;color:#222;font-family:'Microsoft YaHei','微软雅黑','Noto Sans CJK SC','Source Han Sans SC','PingFang SC','WenQuanYi Micro Hei','SimSun','宋体',sans-serif;font-size:14px;line-height:1.6}
header{background:#1f4e79;color:#fff;padding:22px 40px}
header h1{margin:0;font-size:24px;font-weight:600}
header p{margin:4px 0 0;opacity:.85}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
nav{background:#fff;border-radius:8px;padding:10px 16px;margin-bottom:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
nav a{color:#1f4e79;text-decoration:none;margin-right:14px;white-space:nowrap}
section{background:#fff;border-radius:8px;padding:18px 24px;margin-bottom:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:19px;margin:0 0 12px;color:#1f4e79;border-bottom:2px solid #dbe5f1;padding-bottom:6px}
h3{font-size:15px;margin:18px 0 8px;color:#333}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{padding:6px 10px;border-bottom:1px solid #e6e9ef;text-align:left;vertical-align:top}
thead th{background:#eef3f9;color:#1f3b57;font-weight:600;border-bottom:2px solid #c9d6e6}
tbody tr:nth-child(even){background:#fafbfd}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:600;border-top:2px solid #c9d6e6;background:#f3f6fa}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 160px;background:#f7f9fc;border:1px solid #e1e7ef;border-radius:8px;padding:12px 14px}
.card .v{font-size:22px;font-weight:600;color:#1f4e79;font-variant-numeric:tabular-nums}
.card .k{color:#666;font-size:12px}
.note{color:#666;font-size:12.5px}
.empty{color:#888;font-style:italic}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
.chart{margin:8px 0 4px;overflow-x:auto}
.chart svg{max-width:100%;height:auto}
code{background:#f0f2f5;padding:1px 4px;border-radius:3px;font-size:12px}
footer{color:#888;font-size:12px;text-align:center;padding:10px}
"""


# ---------------------------------------------------------------- formatting helpers
def fmt_int(v) -> str:
    return f"{int(v or 0):,}"


def fmt_money(v) -> str:
    return f"{Decimal(str(v or 0)):,.2f}"


def fmt_pct(num, den) -> str:
    if not den:
        return "—"
    pct = Decimal(str(num)) * 100 / Decimal(str(den))
    if 0 < pct < Decimal("0.1"):
        return f"{pct:.3f}%"
    return f"{pct:.1f}%"


def _e(v) -> str:
    return escape("" if v is None else str(v))


def table(headers: list[str], rows: list[list], num_cols: set[int] = frozenset(),
          total: list | None = None) -> str:
    if not rows:
        return '<p class="empty">无记录。</p>'
    h = "".join(f'<th class="num">{_e(x)}</th>' if i in num_cols else f"<th>{_e(x)}</th>"
                for i, x in enumerate(headers))
    body = []
    for r in rows:
        body.append("<tr>" + "".join(
            f'<td class="num">{_e(x)}</td>' if i in num_cols else f"<td>{_e(x)}</td>"
            for i, x in enumerate(r)) + "</tr>")
    if total:
        body.append('<tr class="total">' + "".join(
            f'<td class="num">{_e(x)}</td>' if i in num_cols else f"<td>{_e(x)}</td>"
            for i, x in enumerate(total)) + "</tr>")
    return f"<table><thead><tr>{h}</tr></thead><tbody>{''.join(body)}</tbody></table>"


LINK_METHODS = {**MATCH_METHODS, "review": "进入人工复核", "unlinked": "未匹配"}
BLOCKING_KEYS = {
    "valid_id": "身份证号有效", "valid_uscc": "信用代码有效", "id_one_edit": "身份证号一位之差",
    "uscc_one_edit": "信用代码一位之差", "name_league": "单位名称+盟市", "name_birth": "姓名+出生日期",
    "name_pinyin+birth": "姓名拼音+出生日期", "id_edit1": "身份证号一位之差",
}
STAGES_ZH = {"person": "人员", "firm": "单位"}


def _label(mapping: dict, code) -> str:
    """A code's Chinese label; an unknown code is shown as 其他（…） rather than bare."""
    if code is None:
        return "（空）"
    name = mapping.get(code)
    return name if name else f"其他（{code}）"


def _q(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


class _Unavailable(Exception):
    pass


def _safe(fn):
    """Run a section's queries; a contract mismatch degrades the section, not the run."""
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except duckdb.Error as exc:
            log.warning("report section %s failed: %s", fn.__name__, exc)
            msg = str(exc).splitlines()[0][:200]
            return f'<p class="bad">本部分数据读取失败：{_e(mask_text(msg))}</p>'
    wrapper.__name__ = fn.__name__
    return wrapper


# ---------------------------------------------------------------- sections
def _overview(ctx) -> str:
    cards = [
        ("新增名单条数", fmt_int(ctx["n_rows"])),
        ("新增受益主体", fmt_int(ctx["n_benef"])),
        ("补贴金额合计（元）", fmt_money(ctx["total_amount"])),
        ("待人工复核", fmt_int(ctx["n_review"])),
        ("本月隔离行数", fmt_int(ctx["n_quarantine"])),
        ("核查发现", "未运行" if ctx["n_findings"] is None else fmt_int(ctx["n_findings"])),
    ]
    html = '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div></div>'
        for k, v in cards) + "</div>"
    html += ('<p class="note">名单中的对象均为本月数据比对<strong>新增</strong>的符合条件者'
             "（往月已列入或台账已享受的不再列入）。各盟市名单见 <code>exports/&lt;盟市代码&gt;/</code>，"
             "主动告知清单见 <code>push/&lt;盟市代码&gt;/notices.csv</code>。</p>")
    return html


@_safe
def _intake(con, month) -> str:
    if not table_exists(con, "load_files"):
        return '<p class="empty">未找到 load_files 表：本月数据加载环节未运行。</p>'
    rows = _q(con, f"""
        SELECT source, file_name, format, encoding, rows_read, rows_loaded, rows_quarantined
        FROM load_files WHERE {month_match('extract_month', month)}
        ORDER BY source, file_name""")
    out = []
    tot = [0, 0, 0]
    for s, f, fmt, enc, r, l, q in rows:
        out.append([_label(SOURCES, s), f, fmt or "", enc or "", fmt_int(r), fmt_int(l), fmt_int(q),
                    fmt_pct(q or 0, r)])
        tot = [tot[0] + (r or 0), tot[1] + (l or 0), tot[2] + (q or 0)]
    html = "<h3>各来源读入、入库、隔离行数</h3>" + table(
        ["来源", "文件", "格式", "编码", "读入行数", "入库行数", "隔离行数", "隔离比例"], out,
        {4, 5, 6, 7},
        ["合计", "", "", "", fmt_int(tot[0]), fmt_int(tot[1]), fmt_int(tot[2]), fmt_pct(tot[2], tot[0])]
        if out else None)
    html += '<p class="note">每个文件均满足：读入行数 = 入库行数 + 隔离行数。隔离行保留原始值与行号，见 <code>quarantine.parquet</code>。</p>'
    if table_exists(con, "quarantine"):
        q = _q(con, f"""
            SELECT source, reason, count(*) FROM quarantine
            WHERE {month_match('extract_month', month)}
            GROUP BY ALL ORDER BY source, count(*) DESC, reason""")
        html += "<h3>隔离原因</h3>" + table(
            ["来源", "原因", "行数"],
            [[_label(SOURCES, s), _label(QUARANTINE_REASONS, r), fmt_int(n)] for s, r, n in q], {2})
    return html


@_safe
def _quality(con, month) -> str:
    if not table_exists(con, "gate_results"):
        return '<p class="empty">未找到 gate_results 表：数据质量校验环节未运行。</p>'
    rows = _q(con, f"""
        SELECT source, count(*), count(*) FILTER (WHERE success),
               count(*) FILTER (WHERE NOT success OR success IS NULL)
        FROM gate_results WHERE {month_match('extract_month', month)}
        GROUP BY source ORDER BY source""")
    if not rows:
        return '<p class="empty">本月没有数据质量校验记录（校验环节未运行或未产生结果）。</p>'
    html = "<h3>各来源校验结果</h3>" + table(
        ["来源", "校验项", "通过", "未通过", "结论"],
        [[_label(SOURCES, s), fmt_int(n), fmt_int(ok), fmt_int(bad), "通过" if not bad else "存在问题"]
         for s, n, ok, bad in rows], {1, 2, 3})
    failed = _q(con, f"""
        SELECT source, expectation, CAST(observed AS VARCHAR), CAST(detail AS VARCHAR)
        FROM gate_results WHERE {month_match('extract_month', month)}
          AND (NOT success OR success IS NULL)
        ORDER BY source, expectation""")
    if failed:
        html += "<h3>未通过的校验项</h3>" + table(
            ["来源", "校验项", "观测值", "说明"],
            [[_label(SOURCES, s), _expectation_zh(s, e), mask_text(o), mask_text(d)] for s, e, o, d in failed])
    elif rows:
        html += '<p class="ok">本月全部校验项通过。</p>'
    return html


EXPECTATION_ZH = {
    "expect_column_to_exist": "列存在", "expect_column_values_to_not_be_null": "不得为空",
    "expect_column_values_to_be_in_set": "取值在规定代码内", "expect_column_value_lengths_to_equal": "长度正确",
    "expect_column_values_to_match_regex": "格式正确", "expect_column_values_to_be_between": "取值在合理区间",
    "expect_column_pair_values_to_be_equal": "主键不重复",
}


def _expectation_zh(source: str, label: str) -> str:
    """`expect_column_values_to_not_be_null(name)` → 「姓名」不得为空 (the contract's header)."""
    m = re.fullmatch(r"(\w+)\((\w*)\)", label or "")
    if not m:
        return _label(EXPECTATION_ZH, label)
    from schemas.sources import SOURCES as CONTRACT
    col = m.group(2)
    cols = {c.name: c.header for c in CONTRACT[source].columns} if source in CONTRACT else {}
    header = cols.get(col, {"rows_loaded": "入库行数", "distinct_keys": "主键"}.get(col, col))
    return f"「{header}」{_label(EXPECTATION_ZH, m.group(1))}"


# (source, ID column, validity column, links table, raw column, kind): rows of the month's
# extract whose ID was linked, and how
_ID_SOURCES = [
    ("employment_registration", "id_number", "id_number_valid", "person"),
    ("hiring_filing", "id_number", "id_number_valid", "person"),
    ("social_insurance", "id_number", "id_number_valid", "person"),
    ("graduates", "id_number", "id_number_valid", "person"),
    ("poverty_alleviation", "id_number", "id_number_valid", "person"),
    ("fiscal_staff", "id_number", "id_number_valid", "person"),
    ("deceased", "id_number", "id_number_valid", "person"),
    ("subsidy_ledger", "beneficiary_id_number", "beneficiary_id_number_valid", "person"),
    ("business_registration", "uscc", "uscc_valid", "firm"),
]
RATE_COLUMNS = [("exact", "精确匹配"), ("id_repaired", "证件号修复"), ("fuzzy", "模糊匹配"),
                ("reviewed", "人工复核确认"), ("review", "待人工复核"), ("unlinked", "未匹配")]


def _source_match_rates(con, month) -> str:
    """Share of each source's rows of the month that were linked to a known person/firm, by method."""
    from matchers.link import links_in_force
    # the links in force, read once for every source (the link stage's table when it built one)
    links = {kind: (links_in_force(con, kind, month) if table_exists(con, f"{kind}_links") else None, raw)
             for kind, raw in (("person", "raw_id"), ("firm", "raw_uscc"))}
    out = []
    for src, idc, validc, kind in _ID_SOURCES:
        t = f"stg_{src}"
        if not table_exists(con, t) or not {idc, validc, "extract_month"} <= set(table_columns(con, t)):
            continue
        ltab, lraw = links[kind]
        has_links = table_exists(con, f"{kind}_links")
        has_q = table_exists(con, "review_queue")
        method = f"(SELECT min(l.method) FROM {ltab} l WHERE l.{lraw} = s.{idc})" if has_links else "NULL"
        queued = (f"EXISTS (SELECT 1 FROM review_queue q WHERE q.left_id = s.{idc} "
                  f"AND {month_match('q.run_month', month)})") if has_q else "false"
        # Rows the link stage marked as needing no lookup hold a valid code or none: links and
        # the review queue are only ever made for invalid codes, so such a row is exact (valid)
        # or unlinked (missing) without probing them; only the few marked rows (or unmarked,
        # on a warehouse the link stage never wrote) are looked up (~20M rows at S=1 were).
        settled = f"NOT coalesce(s.{LOOKUP_FLAG}, true)" if LOOKUP_FLAG in table_columns(con, t) else "false"
        month_rows = f"{t} s WHERE {month_match('s.extract_month', month)}"
        r = _q(con, f"""
            SELECT count(*),
              count(*) FILTER (WHERE m = 'exact' OR (m IS NULL AND v)),
              count(*) FILTER (WHERE m = 'id_repaired'), count(*) FILTER (WHERE m = 'fuzzy'),
              count(*) FILTER (WHERE m = 'reviewed'),
              count(*) FILTER (WHERE m IS NULL AND NOT coalesce(v, false) AND qd),
              count(*) FILTER (WHERE m IS NULL AND NOT coalesce(v, false) AND NOT qd)
            FROM (SELECT {validc} AS v, NULL AS m, false AS qd FROM {month_rows} AND {settled}
                  UNION ALL
                  SELECT {validc} AS v, {method} AS m, {queued} AS qd FROM {month_rows} AND NOT {settled})""")[0]
        n = r[0]
        if not n:
            continue
        linked = sum(r[1:5])
        out.append([_label(SOURCES, src), fmt_int(n), fmt_pct(linked, n)]
                   + [f"{fmt_int(k)}（{fmt_pct(k, n)}）" for k in r[1:]])
    html = "<h3>各来源匹配率（本月入库行中与已知人员/单位链接的比例）</h3>"
    html += table(["来源", "入库行数", "匹配率"] + [zh for _c, zh in RATE_COLUMNS], out,
                  set(range(1, 3 + len(RATE_COLUMNS))))
    html += ('<p class="note">证件号有效且可识别的记为“精确匹配”；号码录错经修复、模糊比对或人工复核确认的分别计入；'
             "“待人工复核”的不进入名单，“未匹配”的无法确认身份。</p>")
    return html


@_safe
def _matching(con, month, rows) -> str:
    html = _source_match_rates(con, month)
    if table_exists(con, "link_stats"):
        stage = "stage" if "stage" in table_columns(con, "link_stats") else "NULL"
        ls = _q(con, f"""
            SELECT method, CAST({stage} AS VARCHAR) AS stage, blocking_key,
                   sum(candidate_pairs), sum(links)
            FROM link_stats WHERE {month_match('run_month', month)}
            GROUP BY ALL ORDER BY method, stage, blocking_key""")
        html += "<h3>记录链接（按方式与分块键）</h3>" + table(
            ["匹配方式", "环节", "分块键", "候选对数", "链接数", "链接率"],
            [[_label(LINK_METHODS, m), _label(STAGES_ZH, st) if st else "", _label(BLOCKING_KEYS, b),
              fmt_int(c), fmt_int(l), fmt_pct(l or 0, c)]
             for m, st, b, c, l in ls], {3, 4, 5})
        by_m = defaultdict(lambda: [0, 0])
        for m, _st, _b, c, l in ls:
            by_m[m][0] += c or 0
            by_m[m][1] += l or 0
        if by_m:
            html += "<h3>各匹配方式链接率</h3>" + table(
                ["匹配方式", "候选对数", "链接数", "链接率"],
                [[_label(LINK_METHODS, m), fmt_int(c), fmt_int(l), fmt_pct(l, c)]
                 for m, (c, l) in sorted(by_m.items(), key=lambda x: str(x[0]))], {1, 2, 3})
    else:
        html += '<p class="empty">未找到 link_stats 表：记录链接环节未运行。</p>'
    counts = defaultdict(int)
    for r in rows:
        counts[r["match_method"] or ""] += 1
    order = [m for m in MATCH_METHODS if m in counts] + sorted(m for m in counts if m not in MATCH_METHODS)
    n = len(rows)
    html += "<h3>新增名单的匹配方式构成</h3>" + table(
        ["匹配方式", "名单条数", "占比"],
        [[_label(MATCH_METHODS, m or None), fmt_int(counts[m]), fmt_pct(counts[m], n)] for m in order],
        {1, 2})
    if order:
        html += '<div class="chart">' + charts.hbar_chart(
            [(MATCH_METHODS.get(m, m or "（空）"), counts[m]) for m in order], color=charts.PALETTE[2]) + "</div>"
    return html + _match_weights(con, month)


@_safe
def _match_weights(con, month) -> str:
    """匹配权重: the person comparison weights of this run (hand-set, estimated, used; matchers.weights)."""
    from matchers import weights
    rows = weights.chart_data(con, month)
    if not rows:
        return ""
    html = "<h3>匹配权重（本月数据估计，单位：位）</h3>" + '<div class="chart">' + charts.weights_chart(
        [(("先验：" if r["comparison"] == "prior" else "") + r["label"], r["weight_hand"], r["weight_est"],
          r["weight_used"]) for r in rows]) + "</div>"
    drift = weights.drift_from_previous(con, month)
    if drift is not None:
        html += f'<p class="note">与上一运行月 {_e(drift[0])} 相比，实际使用权重最大变化 {drift[1]:.2f} 位。</p>'
    return html + ('<p class="note">每项比对的权重 = log2(m/u)：u 取自已知人员的随机配对，m 与先验由候选对的 EM 估计，'
                   "以手工设定值为先验并限定在其上下范围内（超出即按边界使用）。</p>")


def _beneficiaries(rows, catalogue) -> str:
    per_policy = defaultdict(lambda: [0, set(), Decimal("0.00")])
    cell = defaultdict(lambda: [set(), Decimal("0.00")])
    per_league = defaultdict(lambda: [set(), Decimal("0.00"), 0])
    for r in rows:
        code, lg = r["policy_code"], r["league_code"] or UNASSIGNED_LEAGUE
        b = (r["beneficiary_type"], r["beneficiary_id"])
        a = Decimal(r["amount"])
        p = per_policy[code]
        p[0] += 1
        p[1].add(b)
        p[2] += a
        cell[(code, lg)][0].add(b)
        cell[(code, lg)][1] += a
        pl = per_league[lg]
        pl[0].add(b)
        pl[1] += a
        pl[2] += 1
    codes = [c for c in POLICIES if c in per_policy] + sorted(c for c in per_policy if c not in POLICIES)
    all_codes = list(POLICIES) + [c for c in codes if c not in POLICIES]
    ptype = {}
    for r in rows:
        ptype.setdefault(r["policy_code"], BENEFICIARY_TYPES.get(r["beneficiary_type"], ""))
    tot_b = set().union(*[v[1] for v in per_policy.values()]) if per_policy else set()
    html = "<h3>按政策</h3>" + table(
        ["政策", "受益主体类型", "名单条数", "受益主体数", "补贴金额（元）"],
        [[policy_name(c, catalogue), ptype.get(c, ""), fmt_int(per_policy[c][0]) if c in per_policy else "0",
          fmt_int(len(per_policy[c][1])) if c in per_policy else "0",
          fmt_money(per_policy[c][2]) if c in per_policy else "0.00"] for c in all_codes],
        {2, 3, 4},
        ["合计", "", fmt_int(len(rows)), fmt_int(len(tot_b)),
         fmt_money(sum((v[2] for v in per_policy.values()), Decimal("0.00")))])
    if codes:
        html += '<div class="chart">' + charts.hbar_chart(
            [(policy_name(c, catalogue), per_policy[c][2]) for c in codes], money=True,
            title="各政策补贴金额（元）") + "</div>"
    leagues = list(LEAGUES) + sorted(lg for lg in per_league if lg not in LEAGUES)
    hdr = ["盟市"] + [policy_name(c, catalogue) for c in codes] + ["受益主体数", "金额合计（元）"]
    body = []
    for lg in leagues:
        pl = per_league.get(lg)
        body.append([league_name(lg)] + [
            (f"{len(cell[(c, lg)][0]):,} 个 / {fmt_money(cell[(c, lg)][1])}" if (c, lg) in cell else "—")
            for c in codes] + [fmt_int(len(pl[0])) if pl else "0", fmt_money(pl[1]) if pl else "0.00"])
    nc = set(range(1, len(hdr)))
    html += "<h3>按盟市 × 政策（受益主体数 / 金额）</h3>" + table(
        hdr, body, nc,
        ["合计"] + [f"{len(per_policy[c][1]):,} 个 / {fmt_money(per_policy[c][2])}" for c in codes]
        + [fmt_int(len(tot_b)), fmt_money(sum((v[2] for v in per_policy.values()), Decimal('0.00')))])
    # routing (outputs.md): a row whose region is not an Inner Mongolia county goes to the league
    # of the student's school, else to the regional department (150000); never to no bureau
    outside = [r for r in rows if not re.fullmatch(r"15\d{4}", r.get("region_code") or "")]
    to_region = sum(1 for r in outside if (r["league_code"] or UNASSIGNED_LEAGUE) == UNASSIGNED_LEAGUE)
    html += (f"<p class=\"note\">地区代码不在自治区内或为空的名单 {len(outside):,} 条："
             f"按院校所在地转至盟市 {len(outside) - to_region:,} 条，转自治区人社厅（150000）{to_region:,} 条；"
             "没有无人接收的名单。</p>")
    series = [(policy_name(c, catalogue), {league_name(lg): cell[(c, lg)][1] for lg in leagues if (c, lg) in cell})
              for c in codes]
    html += '<div class="chart">' + charts.stacked_hbar_chart(
        [league_name(lg) for lg in leagues], series, title="各盟市补贴金额（元，按政策堆叠）") + "</div>"
    return html


@_safe
def _review(con, month) -> str:
    if not table_exists(con, "review_queue"):
        return '<p class="empty">本月无待人工复核的候选链接（review_queue 表不存在）。</p>'
    cols = table_columns(con, "review_queue")
    kind = "kind" if "kind" in cols else "NULL"
    score = "score" if "score" in cols else "NULL"
    rows = _q(con, f"""
        SELECT {kind} AS kind, count(*), min({score}), avg({score}), max({score})
        FROM review_queue WHERE {month_match('run_month', month)}
        GROUP BY ALL ORDER BY 1""")
    total = sum(r[1] for r in rows)
    kinds = {"person": "人员", "firm": "单位"}
    html = f'<p>本月待人工复核的灰区候选链接共 <strong>{fmt_int(total)}</strong> 对。它们<strong>不在</strong>本月名单中，由经办人员确认后在下次运行中生效。</p>'
    html += table(
        ["类型", "候选对数", "最低得分", "平均得分", "最高得分"],
        [[_label(kinds, k), fmt_int(n), _score(mn), _score(av), _score(mx)] for k, n, mn, av, mx in rows],
        {1, 2, 3, 4})
    return html


def _score(v) -> str:
    return "—" if v is None else f"{float(v):.3f}"


@_safe
def _exclusions(con, month, catalogue) -> str:
    if not table_exists(con, "exclusions"):
        return '<p class="empty">未找到 exclusions 表。</p>'
    rows = _q(con, f"""
        SELECT reason, policy_code, count(*), count(DISTINCT person_id_number)
        FROM exclusions WHERE {month_match('run_month', month)}
        GROUP BY ALL ORDER BY reason, policy_code""")
    by_reason = defaultdict(int)
    for r, _p, n, _d in rows:
        by_reason[r] += n
    reasons = list(EXCLUSION_REASONS) + sorted(r for r in by_reason if r not in EXCLUSION_REASONS)
    html = "<h3>按排除原因</h3>" + table(
        ["排除原因", "条数"], [[_label(EXCLUSION_REASONS, r), fmt_int(by_reason.get(r, 0))] for r in reasons],
        {1}, ["合计", fmt_int(sum(by_reason.values()))] if by_reason else None)
    html += "<h3>按排除原因 × 政策</h3>" + table(
        ["排除原因", "政策", "条数", "涉及人数"],
        [[_label(EXCLUSION_REASONS, r), policy_name(p, catalogue), fmt_int(n), fmt_int(d)] for r, p, n, d in rows],
        {2, 3})
    return html


@_safe
def _verification(con, month, catalogue) -> str:
    if not table_exists(con, "verification_findings"):
        return '<p class="empty">核查环节本次未运行（未找到 verification_findings 表）。</p>'
    rows = _q(con, f"""
        SELECT check_code, any_value(check_name ORDER BY check_name), league_code, count(*)
        FROM verification_findings WHERE {month_match('run_month', month)}
        GROUP BY check_code, league_code ORDER BY check_code, league_code""")
    names, per_check, per_league = {}, defaultdict(int), defaultdict(int)
    for c, n, lg, k in rows:
        names.setdefault(c, n)
        per_check[c] += k
        per_league[lg or UNASSIGNED_LEAGUE] += k
    at_risk = _amounts_at_risk(con, month)
    codes = check_codes(per_check)
    html = "<h3>按核查项目（未发现问题的项目记为 0）</h3>" + table(
        ["核查项目", "发现数", "涉及金额（元）"],
        [[CHECK_NAMES.get(c) or names.get(c) or c, fmt_int(per_check.get(c, 0)),
          fmt_money(at_risk.get(c, 0))] for c in codes],
        {1, 2}, ["合计", fmt_int(sum(per_check.values())), fmt_money(sum(at_risk.values(), Decimal("0")))])
    html += ('<p class="note">涉及金额：发现所指台账记录的补贴金额（同一笔记录在多个项目中出现时分别计入）。</p>')
    if per_league:
        lgs = [lg for lg in list(LEAGUES) + sorted(set(per_league) - set(LEAGUES)) if lg in per_league]
        html += '<div class="chart">' + charts.hbar_chart(
            [(league_name(lg), per_league[lg]) for lg in lgs], title="各盟市核查发现数",
            color=charts.PALETTE[3]) + "</div>"
        cnt = defaultdict(int)
        for c, _n, lg, k in rows:
            cnt[(c, lg or UNASSIGNED_LEAGUE)] += k
        html += "<h3>按核查项目 × 盟市</h3>" + table(
            ["核查项目"] + [league_name(lg) for lg in lgs],
            [[CHECK_NAMES.get(c) or names[c] or c] + [fmt_int(cnt.get((c, lg), 0)) for lg in lgs]
             for c in codes if c in per_check],
            set(range(1, len(lgs) + 1)))
    ex = _q(con, f"""
        SELECT check_name, policy_code, beneficiary_id_number, region_code
        FROM (SELECT *, row_number() OVER (PARTITION BY check_code
                   ORDER BY league_code, region_code, beneficiary_id_number, application_id) AS rn
              FROM verification_findings WHERE {month_match('run_month', month)})
        WHERE rn <= 3 ORDER BY check_code, rn""")
    if ex:
        html += "<h3>发现示例（每项最多 3 条，证件号已脱敏）</h3>" + table(
            ["核查项目", "政策", "受益人证件号码", "行政区划代码"],
            [[n, policy_name(p, catalogue), mask_id(i), r or ""] for n, p, i, r in ex])
    if table_exists(con, "verification_sample"):
        cols = table_columns(con, "verification_sample")
        lg = "league_code" if "league_code" in cols else "NULL"
        sample = _q(con, f"""
            SELECT employer_uscc, {lg}, reason, {'amount' if 'amount' in cols else 'NULL'},
                   {'persons' if 'persons' in cols else 'NULL'}, {'months' if 'months' in cols else 'NULL'}
            FROM verification_sample WHERE {month_match('run_month', month)}
            ORDER BY 4 DESC NULLS LAST, employer_uscc""")
        html += f"<h3>联合核查抽样企业（共 {fmt_int(len(sample))} 家，完整名单见 verification/spot_check_sample.csv）</h3>"
        html += table(
            ["单位统一社会信用代码", "盟市", "入选原因", "近12个月补贴金额（元）", "人数", "月数"],
            [[mask_id(u), league_name(g) if g else "", r, fmt_money(a) if a is not None else "—",
              fmt_int(p) if p is not None else "—", fmt_int(m) if m is not None else "—"]
             for u, g, r, a, p, m in sample[:15]],
            {3, 4, 5})
    else:
        html += '<p class="empty">未找到 verification_sample 表：本次未生成抽样名单。</p>'
    return html


def _amounts_at_risk(con, month) -> dict:
    """{check_code: sum of the ledger amounts of the applications its findings name}."""
    if not (table_exists(con, "stg_subsidy_ledger")
            and "application_id" in table_columns(con, "verification_findings")):
        return {}
    rows = _q(con, f"""
        SELECT f.check_code, sum(l.amount) FROM verification_findings f
        JOIN (SELECT application_id, any_value(amount ORDER BY extract_month DESC) AS amount
              FROM stg_subsidy_ledger GROUP BY application_id) l USING (application_id)
        WHERE {month_match('f.run_month', month)} GROUP BY f.check_code""")
    out = {c: (a or Decimal("0")) for c, a in rows}
    if table_exists(con, "payment_tracking"):
        # 超期未发放 names a listed decision, not a ledger application: its own amount is at risk
        from .tracking import OVERDUE_CHECK
        overdue = _q(con, f"""SELECT sum(amount) FROM payment_tracking
                              WHERE {month_match('run_month', month)} AND state = '超期未发放'""")[0][0]
        if overdue:
            out[OVERDUE_CHECK] = out.get(OVERDUE_CHECK, Decimal("0")) + overdue
    return out


def _notices_summary(con, month, rows) -> str:
    from .notices import build_notices, home_regions
    ns = build_notices(rows, month, home=home_regions(con, month, rows))
    if not ns:
        return "<h3>主动告知汇总</h3>" + '<p class="empty">本月无新增告知。</p>'
    by_league = defaultdict(lambda: [0, 0, 0, Decimal("0.00")])
    for n in ns:
        b = by_league[n["league_code"]]
        b[0] += 1
        b[1 if n["channel"] == "短信" else 2] += 1
        b[3] += Decimal(n["total_amount"])
    lgs = [lg for lg in list(LEAGUES) + sorted(set(by_league) - set(LEAGUES)) if lg in by_league]
    multi = sum(1 for n in ns if int(n["policy_count"]) > 1)
    html = "<h3>主动告知汇总（每个受益主体一条，一次告知、一揽子兑现）</h3>"
    html += (f'<p>本月生成告知 <strong>{fmt_int(len(ns))}</strong> 条，其中同时告知多项政策的 '
             f"{fmt_int(multi)} 条；无手机号、需上门/窗口告知的 "
             f"{fmt_int(sum(b[2] for b in by_league.values()))} 条。</p>")
    html += table(["盟市", "告知条数", "短信", "上门/窗口告知", "告知金额（元）"],
                  [[league_name(lg), fmt_int(by_league[lg][0]), fmt_int(by_league[lg][1]),
                    fmt_int(by_league[lg][2]), fmt_money(by_league[lg][3])] for lg in lgs], {1, 2, 3, 4})
    return html


@_safe
def _trend(con, month) -> str:
    if not table_exists(con, "eligibility"):
        return '<p class="empty">无历史数据。</p>'
    rows = _q(con, f"""
        SELECT {month_key('run_month')} AS m, count(*),
               count(DISTINCT (beneficiary_type, beneficiary_id)), sum(amount)
        FROM eligibility WHERE {month_key('run_month')} <= '{month}'
        GROUP BY m ORDER BY m DESC LIMIT 12""")
    rows = sorted(rows)
    if len(rows) <= 1:
        return '<p class="empty">仅有本月运行结果，暂无可比较的历史月份。</p>'
    body, prev = [], None
    for m, n, b, a in rows:
        a = a or Decimal("0")
        body.append([m, fmt_int(n), fmt_int(b), fmt_money(a),
                     "—" if prev is None or not prev else f"{(a - prev) * 100 / prev:+.1f}%"])
        prev = a
    html = '<div class="chart">' + charts.column_line_chart(
        [(m, a or 0, b) for m, _n, b, a in rows], title="近月新增补贴金额与受益主体数",
        bar_label="补贴金额（元）", line_label="受益主体数") + "</div>"
    html += table(["月份", "名单条数", "受益主体数", "补贴金额（元）", "金额环比"], body, {1, 2, 3, 4})
    return html


def _about(ctx) -> str:
    params = ctx.get("parameters") or {}
    prow = [[k, _param(v)] for k, v in sorted(params.items())]
    html = f"<p>代码版本：<code>{_e(ctx.get('code_version') or '未知')}</code>；运行月份：{_e(ctx['month'])}。</p>"
    if prow:
        html += "<h3>参数</h3>" + table(["参数", "取值"], prow)
    html += ('<p class="note">本页所有身份证号、统一社会信用代码、姓名和电话均已脱敏'
             "（如 150102********123X、张*伟、138****5678）。各文件的校验值见 manifest.json。</p>")
    return html


def _param(v) -> str:
    import json
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


# ---------------------------------------------------------------- calendar warning (issue 16)
# Minimal block owned by the run-info side (zhibu/runinfo.py sets the text from October on when
# next year's official working-day schedule is not on file).
CALENDAR_WARNING_KEY = "工作日历提示"


def _calendar_warning(parameters: dict | None) -> str:
    text = (parameters or {}).get(CALENDAR_WARNING_KEY)
    if not text:
        return ""
    return ('<p role="alert" style="border:2px solid #b45309;background:#fffbeb;color:#7c2d12;padding:.5em">'
            f"⚠ {_e(text)}</p>")
# ---------------------------------------------------------------- end calendar warning


# ---------------------------------------------------------------- 落实率 (issue 18)
# Only with the optional sources (confirmations, cards): without them the page is unchanged.
def _takeup_section(con, month, bodies: dict) -> list[tuple[str, str]]:
    if not (table_exists(con, "payment_tracking") and _q(
            con, f"SELECT count(*) FROM payment_tracking WHERE run_month = '{check_month(month)}'")[0][0]):
        return []
    from .takeup import report_section
    bodies["takeup"] = _safe(report_section)(con, month)
    return [("takeup", "附、落实率（名单→确认→发放）")]
# ---------------------------------------------------------------- end 落实率


# ---------------------------------------------------------------- page
def render_report(
    con: duckdb.DuckDBPyConnection,
    month: str,
    rows: list[dict],
    *,
    n_review: int,
    n_quarantine: int,
    catalogue: dict | None = None,
    code_version: str | None = None,
    parameters: dict | None = None,
) -> str:
    """The full HTML page as text (deterministic for the same warehouse state)."""
    check_month(month)
    n_findings = None
    if table_exists(con, "verification_findings"):
        try:
            n_findings = con.execute(
                f"SELECT count(*) FROM verification_findings WHERE {month_match('run_month', month)}"
            ).fetchall()[0][0]
        except duckdb.Error:
            n_findings = None
    ctx = {
        "month": month,
        "n_rows": len(rows),
        "n_benef": len({(r["beneficiary_type"], r["beneficiary_id"]) for r in rows}),
        "total_amount": sum((Decimal(r["amount"]) for r in rows), Decimal("0.00")),
        "n_review": n_review,
        "n_quarantine": n_quarantine,
        "n_findings": n_findings,
        "code_version": code_version,
        "parameters": parameters,
    }
    bodies = {
        "overview": _overview(ctx),
        "intake": _intake(con, month),
        "quality": _quality(con, month),
        "matching": _matching(con, month, rows),
        "beneficiaries": _beneficiaries(rows, catalogue) + _notices_summary(con, month, rows),
        "review": _review(con, month),
        "exclusions": _exclusions(con, month, catalogue),
        "verification": _verification(con, month, catalogue),
        "trend": _trend(con, month),
        "about": _about(ctx),
    }
    titles = SECTION_TITLES + _takeup_section(con, month, bodies)
    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in titles)
    sections = "".join(
        f'<section id="{k}"><h2>{_e(t)}</h2>{bodies[k]}</section>' for k, t in titles)
    y, m = month.split("-")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>就业补贴直补快办 {y}年{int(m)}月运行报告</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>就业补贴“直补快办”数据比对运行报告</h1>"
        f"<p>内蒙古自治区 · {y}年{int(m)}月</p>{_calendar_warning(parameters)}</header>"
        f"<main><nav>{nav}</nav>{sections}</main>"
        "<footer>由 zhibu 自动生成 · 数据以各盟市导出名单为准</footer>"
        "</body></html>\n"
    )
