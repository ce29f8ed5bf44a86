"""政策清单 and 政策一卡通: rendered from the same files the engine decides with.

``render_catalogue`` writes one list of all policies and a one-page card per policy, each as
self-contained HTML (inline CSS, no CDN, no script) and Markdown. Amounts and durations in
the cards' parameter tables come from parameters.yaml in force on the latest parameter
effective date (``catalogue_date``; reproducible, never today's date), so the published
catalogue never disagrees with the rule; regional settings are marked 区域可调参数.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml

from policies.params import POLICIES_DIR, load_policy, parameters_on, policy_codes

LIST_COLUMNS = ["政策名称", "补贴对象", "政策内容", "享受条件", "补贴标准", "经办渠道", "申请流程",
                "申报材料", "办理期限", "政策依据"]
CARD_SECTIONS = ["政策内容", "享受条件", "补贴标准", "区域可调参数", "经办渠道", "申请流程", "申报材料",
                 "办理期限", "政策依据"]
REQUIRED_KEYS = ["政策名称", "政策内容", "享受条件", "补贴标准", "经办渠道", "申请流程", "申报材料",
                 "办理期限", "政策依据"]
UNIT_LABELS = {"CNY": "元", "months": "个月", "years": "年", "persons": "人", "month_of_year": "月",
               "ratio": "", "date": "", "list": "", "text": "", "bool": ""}

CSS = """
body{font-family:"Microsoft YaHei","微软雅黑","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","SimSun","宋体",sans-serif;margin:2em;color:#222;line-height:1.6}
h1{font-size:1.6em;border-bottom:3px solid #b22;padding-bottom:.3em}
h2{font-size:1.15em;color:#b22;margin:1.2em 0 .3em}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid #bbb;padding:.4em .6em;vertical-align:top;text-align:left}
th{background:#f3e6e6}
.regional{background:#fff4d6;border:1px solid #e0b84c;padding:0 .3em;border-radius:3px;font-size:.85em}
.card{max-width:60em}
body{max-width:72em}
table.summary{table-layout:fixed}
td.name{white-space:nowrap;font-weight:600}
td.name a{color:#222;text-decoration:none}
td.num,th.num{text-align:right;white-space:nowrap}
section{margin-top:1.6em;border-top:1px solid #ddd}
dl{display:grid;grid-template-columns:7em 1fr;gap:.3em 1em;margin:.4em 0}
dt{font-weight:600;color:#555}
dd{margin:0}
.meta{color:#666;font-size:.85em}
ul{margin:.2em 0;padding-left:1.4em}
"""


def load_catalogue(code: str) -> dict:
    with open(POLICIES_DIR / code / "catalogue.yaml", encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    missing = [k for k in REQUIRED_KEYS if not doc.get(k)]
    if missing:
        raise ValueError(f"{code}/catalogue.yaml is missing {missing}")
    return doc


def _items(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def format_value(unit: str, value) -> str:
    """A parameter value as a caseworker reads it (1500元, 36个月, 60%, 2/3)."""
    if value is None:
        return "（未施行）"
    if unit == "ratio":
        frac = value if isinstance(value, Fraction) else Fraction(str(value))
        pct = frac * 100
        if pct.denominator == 1:
            return f"{pct.numerator}%"
        if frac.denominator <= 12:
            return f"{frac.numerator}/{frac.denominator}"
        return f"{float(pct):.2f}%"
    if unit == "list":
        return "、".join(str(v) for v in value)
    if unit == "CNY":
        return f"{Decimal(value):,.2f}".rstrip("0").rstrip(".") + "元"
    if isinstance(value, dt.date):
        return value.isoformat()
    return f"{value}{UNIT_LABELS.get(unit, '')}"


def parameter_rows(code: str, on: dt.date) -> list[dict]:
    """One row per parameter: description, value in force on ``on``, since when, basis, regional."""
    params = load_policy(code)["parameters"]
    in_force = parameters_on(code, on)
    rows = []
    for name, spec in params.items():
        since = max((d for d in spec["values"] if d <= on), default=None)
        history = "；".join(f"{d.isoformat()}起 {format_value(spec['unit'], spec['values'][d])}"
                           for d in sorted(spec["values"]))
        rows.append({
            "name": name, "description": spec["description"],
            "value": format_value(spec["unit"], in_force[name]),
            "since": since.isoformat() if since else "",
            "history": history, "reference": spec["reference"],
            "regional": bool(spec.get("regional_setting")),
        })
    return rows


def _md_cell(items: list[str]) -> str:
    return "<br>".join(i.replace("|", "｜").replace("\n", " ") for i in items)


def _html_items(items: list[str]) -> str:
    if len(items) == 1:
        return html.escape(items[0])
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")


SUMMARY_COLUMNS = ["政策名称", "补贴对象", "补贴标准", "经办渠道", "办理期限"]
DETAIL_SECTIONS = ["政策内容", "享受条件", "补贴标准", "经办渠道", "申请流程", "申报材料", "办理期限",
                   "政策依据"]


def render_list(codes: list[str], on: dt.date) -> tuple[str, str]:
    """政策清单 as (markdown, html): a five-column overview a person can scan (names never
    wrapped), then one section per policy with every catalogue item."""
    cats = [(code, load_catalogue(code)) for code in codes]
    note = (f"参数截至 {on.isoformat()}（各政策参数的最近一次施行日期）。"
            "标注“区域可调参数”的为自治区可调整的设置。")
    md = ["# 就业补贴政策清单（直补快办）", "", note, "", "## 一览", "",
          "| 序号 | " + " | ".join(SUMMARY_COLUMNS) + " |", "|---|" + "---|" * len(SUMMARY_COLUMNS)]
    trs = []
    for i, (code, cat) in enumerate(cats, start=1):
        cells = [_items(cat.get(col)) for col in SUMMARY_COLUMNS]
        md.append(f"| {i} | " + " | ".join(_md_cell(c) for c in cells) + " |")
        trs.append(f"<tr><td class='num'>{i}</td><td class='name'><a href='#{code}'>"
                   f"{html.escape(cat['政策名称'])}</a></td>"
                   + "".join(f"<td>{_html_items(c)}</td>" for c in cells[1:]) + "</tr>")
    sections = []
    for i, (code, cat) in enumerate(cats, start=1):
        md += ["", f"## {i}. {cat['政策名称']}", ""]
        parts = [f"<section id='{code}'><h2>{i}. {html.escape(cat['政策名称'])}</h2><dl>"]
        for sec in DETAIL_SECTIONS:
            items = _items(cat.get(sec))
            if sec == "补贴标准" and cat.get("区域可调参数"):
                items = items + ["区域可调参数：" + "；".join(_items(cat["区域可调参数"]))]
            md += [f"**{sec}**", ""] + [f"- {x}" for x in items] + [""]
            parts.append(f"<dt>{html.escape(sec)}</dt><dd>{_html_items(items)}</dd>")
        parts.append("</dl></section>")
        sections.append("".join(parts))
    head = "<th class='num'>序号</th>" + "".join(f"<th>{html.escape(c)}</th>" for c in SUMMARY_COLUMNS)
    body = (f"<h1>就业补贴政策清单（直补快办）</h1><p class='meta'>{html.escape(note)}</p>"
            f"<table class='summary'><colgroup><col style='width:3em'><col style='width:14.5em'>"
            f"<col style='width:16%'><col><col style='width:22%'><col style='width:14%'></colgroup>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(trs)}</tbody></table>"
            + "".join(sections))
    return "\n".join(md) + "\n", _page("就业补贴政策清单", body)


def catalogue_date(codes: list[str]) -> dt.date:
    """The date a catalogue is stamped with: the latest effective date of any parameter (the
    catalogue changes only when a parameter does, so the same files give the same pages)."""
    days = [d for code in codes for spec in load_policy(code)["parameters"].values()
            for d in spec["values"]]
    return max(days) if days else dt.date(2000, 1, 1)


def render_card(code: str, on: dt.date) -> tuple[str, str]:
    """政策一卡通 for one policy as (markdown, html)."""
    cat = load_catalogue(code)
    title = f"政策一卡通：{cat['政策名称']}"
    md = [f"# {title}", "", f"补贴对象：{cat.get('补贴对象', '')}　发放方式：{cat.get('发放方式', '')}", ""]
    parts = [f"<div class='card'><h1>{html.escape(title)}</h1>"
             f"<p class='meta'>补贴对象：{html.escape(str(cat.get('补贴对象', '')))}　"
             f"发放方式：{html.escape(str(cat.get('发放方式', '')))}　政策代码：{code}</p>"]
    for section in CARD_SECTIONS:
        items = _items(cat.get(section))
        if section == "区域可调参数" and not items:
            continue
        md += [f"## {section}", ""] + [f"- {i}" for i in items] + [""]
        label = section if section != "区域可调参数" else "<span class='regional'>区域可调参数</span>"
        parts.append(f"<h2>{label}</h2>{_html_items(items)}")
    rows = parameter_rows(code, on)
    md += [f"## 参数（截至 {on.isoformat()}）", "", "| 参数 | 现行值 | 施行日期 | 历次取值 | 依据 |", "|---|---|---|---|---|"]
    trs = []
    for r in rows:
        mark = "（区域可调参数）" if r["regional"] else ""
        md.append(f"| {r['description']}{mark} | {r['value']} | {r['since']} | {r['history']} | {r['reference']} |")
        badge = " <span class='regional'>区域可调参数</span>" if r["regional"] else ""
        trs.append(f"<tr><td>{html.escape(r['description'])}{badge}</td><td>{html.escape(r['value'])}</td>"
                   f"<td>{r['since']}</td><td>{html.escape(r['history'])}</td>"
                   f"<td>{html.escape(r['reference'])}</td></tr>")
    parts.append(f"<h2>参数（截至 {on.isoformat()}）</h2><table><thead><tr><th>参数</th><th>现行值</th>"
                 f"<th>施行日期</th><th>历次取值</th><th>依据</th></tr></thead><tbody>{''.join(trs)}</tbody></table></div>")
    return "\n".join(md) + "\n", _page(title, "".join(parts))


def render_catalogue(out_dir, on: dt.date | None = None) -> list[Path]:
    """Write 政策清单 (policy_list.html/.md) and one card per policy (card_<code>.html/.md)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    codes = policy_codes()
    day = on or catalogue_date(codes)
    written = []
    md, page = render_list(codes, day)
    for name, text in (("policy_list.md", md), ("policy_list.html", page)):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    for code in codes:
        md, page = render_card(code, day)
        for name, text in ((f"card_{code}.md", md), (f"card_{code}.html", page)):
            (out / name).write_text(text, encoding="utf-8")
            written.append(out / name)
    return written
