"""Per-盟市 exports: one xlsx (xlsxwriter) and one UTF-8-with-BOM csv per bureau."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import xlsxwriter

from .common import (
    BENEFICIARY_TYPES,
    LEAGUES,
    MATCH_METHODS,
    POLICIES,
    UNASSIGNED_LEAGUE,
    league_name,
    month_first_day,
    neutralise,
    policy_name,
)

# (header, row key, kind, width). kind: text = ID/code-like text, str = free text,
# money = Decimal amount, score = float 0..1
EXPORT_COLUMNS: list[tuple[str, str, str, int]] = [
    ("政策代码", "policy_code", "text", 26),
    ("政策名称", "policy_name", "str", 26),
    ("受益主体类型", "beneficiary_type_zh", "str", 12),
    ("受益主体证件号码", "beneficiary_id", "text", 22),
    ("受益主体名称", "beneficiary_name", "str", 28),
    ("人员身份证号", "person_id_number", "text", 22),
    ("人员姓名", "person_name", "str", 12),
    ("补贴金额(元)", "amount", "money", 14),
    ("起始月份", "period_start", "text", 10),
    ("截止月份", "period_end", "text", 10),
    ("行政区划代码", "region_code", "text", 12),
    ("盟市代码", "league_code", "text", 10),
    ("匹配方式", "match_method_zh", "str", 14),
    ("匹配得分", "match_score", "score", 10),
    ("依据", "evidence", "str", 60),
    ("联系电话", "phone", "text", 14),
]

SUMMARY_HEADERS = ["政策代码", "政策名称", "名单条数", "受益主体数", "补贴金额(元)"]


def export_rows(table: pa.Table, catalogue: dict | None = None) -> list[dict]:
    """eligibility rows as dicts, with the Chinese display fields added."""
    rows = table.to_pylist()
    for r in rows:
        r["policy_name"] = policy_name(r["policy_code"], catalogue)
        r["beneficiary_type_zh"] = BENEFICIARY_TYPES.get(
            r["beneficiary_type"], r["beneficiary_type"] or ""
        )
        r["match_method_zh"] = MATCH_METHODS.get(r["match_method"], r["match_method"] or "")
    return rows


def league_of(row: dict) -> str:
    return row.get("league_code") or UNASSIGNED_LEAGUE


def leagues_to_export(rows: list[dict]) -> list[str]:
    """Every 盟市 gets a folder (an empty list is news too), plus any other code present."""
    codes = set(LEAGUES) | {league_of(r) for r in rows}
    return sorted(codes)


def policies_for(rows: list[dict]) -> list[str]:
    codes = list(POLICIES)
    for r in rows:
        if r["policy_code"] not in codes:
            codes.append(r["policy_code"])
    return codes


def _csv_value(kind: str, v) -> str:
    if v is None:
        return ""
    if kind == "money":
        return f"{Decimal(v):.2f}"
    if kind == "score":
        return f"{float(v):.4f}"
    return str(neutralise(str(v)))


def write_csv(rows: list[dict], path: Path) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for h, *_ in EXPORT_COLUMNS])
    for r in rows:
        w.writerow([_csv_value(kind, r.get(key)) for _, key, kind, _ in EXPORT_COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


def _sheet_name(name: str, used: set[str]) -> str:
    bad = '[]:*?/\\'
    s = "".join("_" if ch in bad else ch for ch in name)[:31] or "Sheet"
    base, i = s, 2
    while s in used:
        suffix = f"({i})"
        s = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(s)
    return s


def write_xlsx(
    rows: list[dict],
    path: Path,
    month: str,
    league_code: str,
    catalogue: dict | None = None,
) -> Path:
    """One sheet per policy plus a 汇总 sheet. Reproducible bytes for the same rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "in_memory": True,
        },
    )
    first = month_first_day(month)
    wb.set_properties(
        {
            "title": f"直补快办新增享受名单 {league_name(league_code)} {month}",
            "subject": "就业补贴直补快办",
            "author": "zhibu",
            "company": "",
            "created": datetime(first.year, first.month, first.day),
        }
    )
    f_header = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter",
         "text_wrap": True}
    )
    f_text = wb.add_format({"num_format": "@"})
    f_str = wb.add_format({})
    f_money = wb.add_format({"num_format": "0.00"})
    f_score = wb.add_format({"num_format": "0.0000"})
    f_total_label = wb.add_format({"bold": True, "top": 1})
    f_total_money = wb.add_format({"bold": True, "top": 1, "num_format": "0.00"})
    f_total_int = wb.add_format({"bold": True, "top": 1, "num_format": "0"})
    f_total_blank = wb.add_format({"top": 1})
    f_note = wb.add_format({"italic": True, "font_color": "#595959"})
    col_fmt = {"text": f_text, "str": f_str, "money": f_money, "score": f_score}

    used: set[str] = set()
    by_policy: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_policy[r["policy_code"]].append(r)
    policy_codes = policies_for(rows)

    # 汇总 first
    ws = wb.add_worksheet(_sheet_name("汇总", used))
    ws.freeze_panes(1, 0)
    ws.set_row(0, 20)
    widths = [26, 26, 10, 12, 16]
    for i, (h, wdt) in enumerate(zip(SUMMARY_HEADERS, widths)):
        ws.set_column(i, i, wdt, f_text if i == 0 else None)
        ws.write_string(0, i, h, f_header)
    total_rows = 0
    total_benef: set = set()
    total_amount = Decimal("0.00")
    for i, code in enumerate(policy_codes, start=1):
        prow = by_policy.get(code, [])
        amount = sum((Decimal(r["amount"]) for r in prow), Decimal("0.00"))
        benef = {(r["beneficiary_type"], r["beneficiary_id"]) for r in prow}
        ws.write_string(i, 0, neutralise(code), f_text)
        ws.write_string(i, 1, neutralise(policy_name(code, catalogue)), f_str)
        ws.write_number(i, 2, len(prow))
        ws.write_number(i, 3, len(benef))
        ws.write_number(i, 4, float(amount), f_money)
        total_rows += len(prow)
        total_benef |= benef
        total_amount += amount
    t = len(policy_codes) + 1
    ws.write_string(t, 0, "合计", f_total_label)
    ws.write_blank(t, 1, None, f_total_blank)
    ws.write_number(t, 2, total_rows, f_total_int)
    ws.write_number(t, 3, len(total_benef), f_total_int)
    ws.write_number(t, 4, float(total_amount), f_total_money)
    ws.write_string(t + 2, 0, f"盟市：{league_code} {league_name(league_code)}；名单月份：{month}", f_note)
    ws.write_string(
        t + 3, 0,
        "说明：本名单为数据比对新增的符合条件对象，请核实后按规定主动告知、经办兑现。"
        "证件号码、代码、电话均为文本格式。",
        f_note,
    )

    # one sheet per policy
    money_col = next(i for i, c in enumerate(EXPORT_COLUMNS) if c[2] == "money")
    for code in policy_codes:
        prow = by_policy.get(code, [])
        ws = wb.add_worksheet(_sheet_name(policy_name(code, catalogue), used))
        ws.freeze_panes(1, 0)
        ws.set_row(0, 30)
        for i, (h, _key, kind, width) in enumerate(EXPORT_COLUMNS):
            ws.set_column(i, i, width, f_text if kind == "text" else None)
            ws.write_string(0, i, h, f_header)
        for n, r in enumerate(prow, start=1):
            for i, (_h, key, kind, _w) in enumerate(EXPORT_COLUMNS):
                v = r.get(key)
                if v is None:
                    ws.write_blank(n, i, None, col_fmt[kind])
                elif kind == "money":
                    ws.write_number(n, i, float(Decimal(v)), f_money)
                elif kind == "score":
                    ws.write_number(n, i, float(v), f_score)
                else:
                    ws.write_string(n, i, neutralise(str(v)), col_fmt[kind])
        t = len(prow) + 1
        amount = sum((Decimal(r["amount"]) for r in prow), Decimal("0.00"))
        ws.write_string(t, 0, "合计", f_total_label)
        for i in range(1, len(EXPORT_COLUMNS)):
            if i == money_col:
                ws.write_number(t, i, float(amount), f_total_money)
            elif i == 1:
                ws.write_string(t, i, f"{len(prow)} 条", f_total_label)
            else:
                ws.write_blank(t, i, None, f_total_blank)
        if prow:
            ws.autofilter(0, 0, len(prow), len(EXPORT_COLUMNS) - 1)
    wb.close()
    return path


def export_file_stem(league_code: str, month: str) -> str:
    return f"eligibility_{league_code}_{month}"


def write_exports(
    rows: list[dict], out_dir: Path, month: str, catalogue: dict | None = None
) -> list[Path]:
    """exports/<league_code>/eligibility_<league>_<YYYY-MM>.{xlsx,csv}; only that league's rows."""
    written: list[Path] = []
    for league in leagues_to_export(rows):
        mine = [r for r in rows if league_of(r) == league]
        folder = out_dir / "exports" / league
        stem = export_file_stem(league, month)
        written.append(write_xlsx(mine, folder / f"{stem}.xlsx", month, league, catalogue))
        written.append(write_csv(mine, folder / f"{stem}.csv"))
    return written
