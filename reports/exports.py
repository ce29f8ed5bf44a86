"""Per-盟市 exports: one xlsx (xlsxwriter) and one UTF-8-with-BOM csv per bureau."""
from __future__ import annotations

import csv
import io
import unicodedata
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import xlsxwriter

from .common import (
    BENEFICIARY_TYPES,
    BUREAU_EXCLUSION_REASONS,
    EXCLUSION_REASONS,
    LEAGUES,
    MATCH_METHODS,
    POLICIES,
    UNASSIGNED_LEAGUE,
    is_dangerous,
    league_name,
    month_first_day,
    neutralise,
    policy_name,
)

# (header, row key, kind, width). kind: text = ID/code-like text, str = free text,
# wrap = long free text (wrapped), money = Decimal amount, score = float 0..1.
# Widths are chosen so a sheet fits A4 landscape at a readable scale (fit to width).
EXPORT_COLUMNS: list[tuple[str, str, str, int]] = [
    ("政策代码", "policy_code", "text", 24),
    ("政策名称", "policy_name", "wrap", 12),
    ("受益主体类型", "beneficiary_type_zh", "str", 7),
    ("受益主体证件号码", "beneficiary_id", "text", 20),
    ("受益主体名称", "beneficiary_name", "wrap", 14),
    ("人员身份证号", "person_id_number", "text", 20),
    ("人员姓名", "person_name", "wrap", 9),
    ("补贴金额(元)", "amount", "money", 11),
    ("起始月份", "period_start", "text", 8),
    ("截止月份", "period_end", "text", 8),
    ("行政区划代码", "region_code", "text", 8),
    ("盟市代码", "league_code", "text", 8),
    ("匹配方式", "match_method_zh", "str", 9),
    ("匹配得分", "match_score", "score", 7),
    ("依据", "evidence", "wrap", 40),
    ("联系电话", "phone", "text", 13),
]

# 不予列入: the region's fiscal-staff, death and ledger exclusions (exclusions.parquet rows).
EXCLUSION_COLUMNS: list[tuple[str, str, str, int]] = [
    ("政策名称", "policy_name", "wrap", 14),
    ("不予列入原因", "reason_zh", "wrap", 12),
    ("受益主体证件号码", "beneficiary_id", "text", 20),
    ("人员身份证号", "person_id_number", "text", 20),
    ("人员姓名", "person_name", "wrap", 9),
    ("行政区划代码", "region_code", "text", 8),
    ("依据", "detail", "wrap", 60),
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


class _Formats:
    """xlsxwriter formats by (kind, quote): `quote` sets Excel's hidden quote-prefix flag on a
    cell whose text starts like a formula, so it stays text without showing an apostrophe."""

    BASE = {
        "text": {"num_format": "@", "valign": "top"},
        "str": {"valign": "top"},
        "wrap": {"valign": "top", "text_wrap": True},
        "money": {"num_format": "0.00", "valign": "top"},
        "score": {"num_format": "0.0000", "valign": "top"},
    }

    def __init__(self, wb):
        self.wb = wb
        self._cache: dict = {}
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                     "valign": "vcenter", "text_wrap": True})

    def __call__(self, kind: str, quote: bool = False, **extra):
        key = (kind, quote, tuple(sorted(extra.items())) if extra else ())   # called once per cell
        if key not in self._cache:
            props = dict(self.BASE[kind], **extra)
            if quote:
                props["quote_prefix"] = True
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def _page_setup(ws, ncols: int, title: str) -> None:
    """A4 landscape, one page wide, header row repeated on every page, page x of y."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(f"&L&9{_hf(title)}")
    ws.set_footer("&C&9第 &P 页，共 &N 页")
    ws.hide_gridlines(0)


def _hf(text: str) -> str:
    return text.replace("&", "&&")


LINE_HEIGHT = 14.0   # points per line of 11 pt text


def text_width(text: str) -> int:
    """Width in spreadsheet column units: CJK / full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def row_height(r: dict, columns) -> float:
    """Height that shows every wrapped cell whole. Set explicitly: neither LibreOffice nor
    Excel re-measures rows of a generated file, so wrapped text would be cut off or overlap."""
    lines = 1
    for _h, key, kind, width in columns:
        v = r.get(key)
        if kind == "wrap" and v:
            usable = max(width, 1)
            n = sum(max(1, -(-text_width(part) // usable)) for part in str(v).split("\n"))
            lines = max(lines, n)
    return LINE_HEIGHT * lines + 1.5


def _write_table(ws, fmt: _Formats, columns, rows: list[dict]) -> None:
    """Header row + data rows only: nothing else on the sheet, so importers read just the data."""
    ws.freeze_panes(1, 0)
    ws.set_row(0, 30)
    for i, (h, _key, kind, width) in enumerate(columns):
        ws.set_column(i, i, width, fmt("text") if kind == "text" else None)
        ws.write_string(0, i, h, fmt.header)
    for n, r in enumerate(rows, start=1):
        ws.set_row(n, row_height(r, columns))
        for i, (_h, key, kind, _w) in enumerate(columns):
            v = r.get(key)
            if v is None:
                ws.write_blank(n, i, None, fmt(kind))
            elif kind == "money":
                ws.write_number(n, i, float(Decimal(v)), fmt(kind))
            elif kind == "score":
                ws.write_number(n, i, float(v), fmt(kind))
            else:
                text = str(v)
                ws.write_string(n, i, text, fmt(kind, is_dangerous(text)))
    if rows:
        ws.autofilter(0, 0, len(rows), len(columns) - 1)


def write_xlsx(
    rows: list[dict],
    path: Path,
    month: str,
    league_code: str,
    catalogue: dict | None = None,
    exclusions: list[dict] | None = None,
) -> Path:
    """汇总 + one sheet per policy (+ 不予列入 when `exclusions` is given). Reproducible bytes.

    Data sheets hold the header and the rows only (totals are on 汇总), print on A4 landscape
    one page wide with the header repeated, and keep formula-like text as text without an
    apostrophe in the cell (quote-prefix flag).
    """
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
    lname = league_name(league_code)
    wb.set_properties(
        {
            "title": f"直补快办新增享受名单 {lname} {month}",
            "subject": "就业补贴直补快办",
            "author": "zhibu",
            "company": "",
            "created": datetime(first.year, first.month, first.day),
        }
    )
    fmt = _Formats(wb)
    f_total_label = wb.add_format({"bold": True, "top": 1})
    f_total_money = wb.add_format({"bold": True, "top": 1, "num_format": "0.00"})
    f_total_int = wb.add_format({"bold": True, "top": 1, "num_format": "0"})
    f_total_blank = wb.add_format({"top": 1})
    f_note = wb.add_format({"italic": True, "font_color": "#595959"})

    used: set[str] = set()
    by_policy: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_policy[r["policy_code"]].append(r)
    policy_codes = policies_for(rows)

    # 汇总 first: the totals live here, not in the data sheets
    ws = wb.add_worksheet(_sheet_name("汇总", used))
    ws.freeze_panes(1, 0)
    ws.set_row(0, 20)
    widths = [26, 26, 10, 12, 16]
    for i, (h, wdt) in enumerate(zip(SUMMARY_HEADERS, widths)):
        ws.set_column(i, i, wdt, fmt("text") if i == 0 else None)
        ws.write_string(0, i, h, fmt.header)
    total_rows = 0
    total_benef: set = set()
    total_amount = Decimal("0.00")
    for i, code in enumerate(policy_codes, start=1):
        prow = by_policy.get(code, [])
        amount = sum((Decimal(r["amount"]) for r in prow), Decimal("0.00"))
        benef = {(r["beneficiary_type"], r["beneficiary_id"]) for r in prow}
        ws.write_string(i, 0, code, fmt("text", is_dangerous(code)))
        pname = policy_name(code, catalogue)
        ws.write_string(i, 1, pname, fmt("str", is_dangerous(pname)))
        ws.write_number(i, 2, len(prow))
        ws.write_number(i, 3, len(benef))
        ws.write_number(i, 4, float(amount), fmt("money"))
        total_rows += len(prow)
        total_benef |= benef
        total_amount += amount
    t = len(policy_codes) + 1
    ws.write_string(t, 0, "合计", f_total_label)
    ws.write_blank(t, 1, None, f_total_blank)
    ws.write_number(t, 2, total_rows, f_total_int)
    ws.write_number(t, 3, len(total_benef), f_total_int)
    ws.write_number(t, 4, float(total_amount), f_total_money)
    ws.write_string(t + 2, 0, f"盟市：{league_code} {lname}；名单月份：{month}", f_note)
    ws.write_string(
        t + 3, 0,
        "说明：本名单为数据比对新增的符合条件对象，请核实后按规定主动告知、经办兑现。"
        "证件号码、代码、电话均为文本格式。各政策工作表只含名单行（合计见本表）。",
        f_note,
    )
    if exclusions is not None:
        ws.write_string(t + 4, 0, f"不予列入（财政供养、死亡、台账已享受）：{len(exclusions)} 条，"
                                  "见“不予列入”工作表。", f_note)
    _page_setup(ws, len(SUMMARY_HEADERS), f"{lname} {month} 汇总")

    # one sheet per policy: header + rows, nothing below
    for code in policy_codes:
        prow = by_policy.get(code, [])
        pname = policy_name(code, catalogue)
        ws = wb.add_worksheet(_sheet_name(pname, used))
        _write_table(ws, fmt, EXPORT_COLUMNS, prow)
        _page_setup(ws, len(EXPORT_COLUMNS), f"{lname} {month} {pname}")

    if exclusions is not None:
        ws = wb.add_worksheet(_sheet_name("不予列入", used))
        _write_table(ws, fmt, EXCLUSION_COLUMNS, exclusion_rows(exclusions, catalogue))
        _page_setup(ws, len(EXCLUSION_COLUMNS), f"{lname} {month} 不予列入")
    wb.close()
    return path


def exclusion_rows(exclusions: list[dict], catalogue: dict | None = None) -> list[dict]:
    out = []
    for x in exclusions:
        r = dict(x)
        r["policy_name"] = policy_name(r.get("policy_code"), catalogue)
        r["reason_zh"] = EXCLUSION_REASONS.get(r.get("reason"), r.get("reason") or "")
        out.append(r)
    return out


README_NAME = "README.txt"


def readme_text(league_code: str, month: str) -> str:
    """说明 in each bureau folder: what is here and how to open the CSV without losing IDs."""
    stem = export_file_stem(league_code, month)
    lines = [
        f"直补快办 {month} 名单 —— {league_name(league_code)}（{league_code}）",
        "",
        "本文件夹只含本盟市的数据：",
        f"  {stem}.xlsx  新增享受名单（汇总、每项政策一个工作表、不予列入），证件号码均为文本，可直接打开、打印（A4横向）。",
        f"  {stem}.csv   同一名单的 UTF-8（带 BOM）CSV，供导入其他系统。",
        "  verification/  本盟市的核查发现（findings_*.csv）和联合核查抽样企业（spot_check_sample.csv）。",
        "",
        "安全打开 CSV（防止身份证号被 Excel 变成 1.52202E+17 或末位变 0）：",
        "  请勿双击打开 CSV。请用 xlsx 文件；如必须用 CSV：",
        "  Excel：数据 → 自文本/CSV（或“从文本”），文件原始格式选 65001: Unicode (UTF-8)，",
        "         分隔符选逗号，在“转换数据/列数据格式”中把所有证件号码、代码、电话列设为“文本”，再加载。",
        "  WPS / LibreOffice：打开时在导入对话框中把这些列的类型设为“文本”。",
        "  以 ' 开头的单元格是防公式注入的转义（原值以 = + - @ 开头），核对时请去掉开头的 '。",
        "",
        "xlsx 文件是安全副本：以它为准。",
        "",
    ]
    return "\r\n".join(lines)


def write_readme(folder: Path, league_code: str, month: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / README_NAME
    p.write_bytes(b"\xef\xbb\xbf" + readme_text(league_code, month).encode("utf-8"))
    return p


def export_file_stem(league_code: str, month: str) -> str:
    return f"eligibility_{league_code}_{month}"


def write_exports(
    rows: list[dict], out_dir: Path, month: str, catalogue: dict | None = None,
    exclusions: list[dict] | None = None,
) -> list[Path]:
    """exports/<league_code>/eligibility_<league>_<YYYY-MM>.{xlsx,csv} + README.txt; only that
    league's rows (and, when `exclusions` is given, its 不予列入 rows by their league_code)."""
    written: list[Path] = []
    leagues = leagues_to_export(rows)
    if exclusions is not None:
        leagues = sorted(set(leagues) | {league_of(x) for x in exclusions})
    for league in leagues:
        mine = [r for r in rows if league_of(r) == league]
        folder = out_dir / "exports" / league
        stem = export_file_stem(league, month)
        my_excl = None if exclusions is None else [x for x in exclusions if league_of(x) == league]
        written.append(write_xlsx(mine, folder / f"{stem}.xlsx", month, league, catalogue, my_excl))
        written.append(write_csv(mine, folder / f"{stem}.csv"))
        written.append(write_readme(folder, league, month))
    return written


def bureau_exclusions(exclusions) -> list[dict]:
    """exclusions.parquet rows a bureau's 不予列入 sheet shows: fiscal staff, death, ledger
    (not the routine earlier listings)."""
    rows = exclusions.to_pylist() if hasattr(exclusions, "to_pylist") else list(exclusions)
    return [r for r in rows if r.get("reason") in BUREAU_EXCLUSION_REASONS]
