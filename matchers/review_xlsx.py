"""Review in Excel: the month's review queue out to an xlsx, the analysts' decisions back in.

``export_review`` writes one row per proposed pair (both records side by side) with a 复核结论
column restricted to 确认/否决 by a data-validation dropdown, plus 复核人 and 复核日期.
``import_review`` reads the filled workbook back and appends the decided rows to the decisions
file (``review_decisions.csv`` beside the warehouse; format in matchers/review.py), which the
next run applies. Every decided row is checked: the pair must be one the matcher proposed for
that month, with a reviewer and a date; a bad row is rejected with a message naming its row.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import xlsxwriter

from matchers.review import DECISION_COLUMNS

SHEET = "待复核"
INFO_SHEET = "说明"
DECISIONS_ZH = {"确认": "confirm", "否决": "reject"}
KINDS_ZH = {"person": "人员", "firm": "单位"}

# (header, queue column, width); the first column carries the kind code for the import
COLUMNS = [
    ("类型代码", "kind", 8),
    ("类型", "kind_zh", 6),
    ("来源", "source", 16),
    ("得分", "score", 7),
    ("原始证件号码/代码", "left_id", 21),
    ("原始姓名/名称", "left_name", 16),
    ("原始地区", "left_region", 9),
    ("原始电话", "left_phone", 13),
    ("候选证件号码/代码", "right_id", 21),
    ("候选姓名/名称", "right_name", 16),
    ("候选地区", "right_region", 9),
    ("候选电话", "right_phone", 13),
    ("一致项", "agreed", 18),
    ("进入复核原因", "reason", 24),
]
DECISION_HEADERS = ["复核结论（确认/否决）", "复核人", "复核日期（YYYY-MM-DD）"]


class ReviewImportError(ValueError):
    """Some decided rows were rejected; `errors` names each row."""

    def __init__(self, errors: list[str], imported: int):
        self.errors, self.imported = errors, imported
        super().__init__(f"{len(errors)} 行被拒绝 / rows rejected (imported {imported}): "
                         + "；".join(errors))


def queue_path(output_root: Path | str, month: str) -> Path:
    return Path(output_root) / month / "review_queue.parquet"


def read_queue(path: Path | str) -> list[dict]:
    rows = pq.read_table(str(path)).to_pylist()
    return [r for r in rows if r.get("kind") in KINDS_ZH]


def _s(v) -> str:
    return "" if v is None else str(v).strip()


def export_review(queue_file: Path | str, out: Path | str, month: str) -> Path:
    """The month's review queue (review_queue.parquet) as an xlsx to review in Excel."""
    rows = read_queue(queue_file)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False, "in_memory": True})
    y, m = map(int, month.split("-"))
    wb.set_properties({"title": f"待人工复核的候选链接 {month}", "author": "zhibu",
                       "created": dt.datetime(y, m, 1)})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                          "valign": "vcenter"})
    head_dec = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True,
                              "valign": "vcenter"})
    text = wb.add_format({"num_format": "@", "valign": "top"})
    wrap = wb.add_format({"valign": "top", "text_wrap": True})
    score = wb.add_format({"num_format": "0.000", "valign": "top"})
    entry = wb.add_format({"num_format": "@", "bg_color": "#FFF9E5", "border": 1, "locked": False})
    date_f = wb.add_format({"num_format": "yyyy-mm-dd", "bg_color": "#FFF9E5", "border": 1,
                            "locked": False})
    ws = wb.add_worksheet(SHEET)
    ncol = len(COLUMNS)
    for i, (h, key, w) in enumerate(COLUMNS):
        ws.set_column(i, i, w, text if key not in ("score", "agreed", "reason") else None)
        ws.write_string(0, i, h, head)
    ws.set_column(0, 0, 8, text, {"hidden": True})
    for j, (h, w) in enumerate(zip(DECISION_HEADERS, (14, 10, 14))):
        ws.set_column(ncol + j, ncol + j, w, entry if j < 2 else date_f)
        ws.write_string(0, ncol + j, h, head_dec)
    ws.set_row(0, 32)
    ws.freeze_panes(1, 6)
    for n, r in enumerate(rows, start=1):
        r = dict(r, kind_zh=KINDS_ZH.get(r.get("kind"), r.get("kind")))
        for i, (_h, key, _w) in enumerate(COLUMNS):
            v = r.get(key)
            if key == "score" and v is not None:
                ws.write_number(n, i, float(v), score)
            elif v is None:
                ws.write_blank(n, i, None)
            else:
                ws.write_string(n, i, _s(v), wrap if key in ("agreed", "reason") else text)
        ws.write_blank(n, ncol, None, entry)
        ws.write_blank(n, ncol + 1, None, entry)
        ws.write_blank(n, ncol + 2, None, date_f)
    last = max(len(rows), 1)
    ws.data_validation(1, ncol, last, ncol, {
        "validate": "list", "source": list(DECISIONS_ZH), "error_title": "复核结论",
        "error_message": "请选择“确认”或“否决”。", "input_title": "复核结论",
        "input_message": "确认：两条记录是同一人/同一单位；否决：不是。"})
    ws.data_validation(1, ncol + 2, last, ncol + 2, {
        "validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1),
        "error_message": "请填写日期，如 2026-11-03。"})
    if rows:
        ws.autofilter(0, 1, len(rows), ncol + 2)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    info = wb.add_worksheet(INFO_SHEET)
    info.set_column(0, 0, 14)
    info.set_column(1, 1, 90)
    for i, (k, v) in enumerate([
        ("月份", month),
        ("候选对数", str(len(rows))),
        ("怎么填", "在“待复核”表最后三列填写：复核结论选“确认”（同一人/同一单位）或“否决”，"
                  "复核人填姓名，复核日期填 YYYY-MM-DD。不确定的留空，下次再审。"),
        ("导入", f"zhibu review import 本文件 —— 写入 review_decisions.csv，下次运行生效"
                 "（确认的按“人工复核确认”链接，否决的不再提出）。"),
        ("注意", "请勿修改左侧两条记录的内容、勿增删行；只接受本月提出的候选对。"),
    ]):
        info.write_string(i, 0, k)
        info.write_string(i, 1, v)
    wb.close()
    return out


def _date(v, where: str, errors: list[str]) -> str | None:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    t = _s(v).replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(t).isoformat() if t else None
    except ValueError:
        try:
            return dt.datetime.strptime(t, "%Y-%m-%d").date().isoformat()
        except ValueError:
            errors.append(f"{where}：复核日期“{_s(v)}”不是日期（YYYY-MM-DD）/ date is not YYYY-MM-DD")
            return ""


def import_review(xlsx: Path | str, decisions_file: Path | str,
                  queue_file: Path | str | None = None) -> int:
    """Merge the workbook's decided rows into `decisions_file`; return how many.

    `queue_file` (the month's review_queue.parquet) holds the pairs proposed for review; a
    decided row must be one of them. All or nothing: a workbook with any rejected row imports
    nothing (ReviewImportError names each row), so fixing it and importing again is safe. A pair
    decided again replaces its earlier line: importing the same workbook twice changes nothing."""
    wb = openpyxl.load_workbook(str(xlsx), data_only=True)
    if SHEET not in wb.sheetnames:
        raise ValueError(f"{Path(xlsx).name}: 没有“{SHEET}”工作表 / not a review workbook")
    month = None
    if INFO_SHEET in wb.sheetnames:
        for k, v in wb[INFO_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
            if k == "月份":
                month = _s(v)
    ws = wb[SHEET]
    header = [_s(c.value) for c in ws[1]]
    want = [h for h, _k, _w in COLUMNS] + DECISION_HEADERS
    if header[:len(want)] != want:
        raise ValueError(f"{Path(xlsx).name}: 表头被改动 / header changed: {header}")
    idx = {key: i for i, (_h, key, _w) in enumerate(COLUMNS)}
    ncol = len(COLUMNS)
    proposed = None
    if queue_file is not None:
        proposed = {(r["kind"], _s(r.get("left_id")).upper(), _s(r.get("left_name")),
                     _s(r.get("right_id")).upper()) for r in read_queue(queue_file)}
    errors: list[str] = []
    out: list[list[str]] = []
    for n, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        row = list(row) + [None] * (ncol + 3 - len(row))
        decision, reviewer, date = row[ncol], row[ncol + 1], row[ncol + 2]
        if not _s(decision) and not _s(reviewer) and not _s(date):
            continue                                        # not reviewed yet
        where = f"第{n}行 / row {n}"
        bad = len(errors)
        d = DECISIONS_ZH.get(_s(decision)) or ({"confirm", "reject"} & {_s(decision).lower()} or {None}).pop()
        if d is None:
            errors.append(f"{where}：复核结论“{_s(decision)}”应为“确认”或“否决” / decision must be 确认 or 否决")
        if not _s(reviewer):
            errors.append(f"{where}：未填复核人 / reviewer missing")
        day = _date(date, where, errors)
        if day is None:
            errors.append(f"{where}：未填复核日期 / date missing")
        kind = _s(row[idx["kind"]])
        key = (kind, _s(row[idx["left_id"]]).upper(), _s(row[idx["left_name"]]),
               _s(row[idx["right_id"]]).upper())
        if kind not in KINDS_ZH or not key[3] or (proposed is not None and key not in proposed):
            errors.append(f"{where}：这一对记录不是{month or '本月'}提出的候选对（记录被改动？）"
                          " / not a pair proposed for review")
        if len(errors) == bad:
            out.append([kind, key[1], key[2], key[3], d, _s(reviewer), day])
    if errors:
        raise ReviewImportError(errors, 0)
    if out:
        _merge(Path(decisions_file), out)
    return len(out)


def _merge(path: Path, rows: list[list[str]]) -> None:
    """Write `rows` into the decisions file, replacing earlier lines of the same pair (kind, raw
    ID, name, candidate); other lines keep their order. Written whole, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pair = lambda r: tuple((r[i] or "").strip().upper() for i in range(4))     # noqa: E731
    new_pairs = {pair(r) for r in rows}
    kept: list[list[str]] = []
    if path.exists() and path.stat().st_size:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header and header[:len(DECISION_COLUMNS)] != DECISION_COLUMNS:
                raise ValueError(f"{path.name}: unexpected header {header}")
            kept = [r for r in reader if r and pair(r + [""] * 4) not in new_pairs]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(DECISION_COLUMNS)
    w.writerows(kept + rows)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def month_of(xlsx: Path | str) -> str | None:
    wb = openpyxl.load_workbook(str(xlsx), read_only=True)
    if INFO_SHEET not in wb.sheetnames:
        return None
    for k, v in wb[INFO_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
        if k == "月份":
            return _s(v)
    return None
