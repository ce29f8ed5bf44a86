"""The month's payment batch (发放批次) and its 待补录 list (outputs.md, "From list to money").

One row per confirmed decision not yet batched or handled in the ledger:
- a person's subsidy goes to the 社会保障卡 金融账户 when the card is 正常 and the account
  passes its check (digits, length, Luhn);
- a firm's subsidy goes to the 单位银行账户 given in its confirmation;
- anything else is 待补录 with the reason, in every run until resolved (with the month it was
  first pending), never paid to a guess.
Nothing is batched twice: a decision batched by an earlier *published* month (`published_runs`,
like the listings of policies/engine.py) is never batched again; a decision for which the ledger
holds an application that was not refused (不予受理/审核不通过) is being handled there.

Warehouse tables (the run month's rows replaced on re-run; they count once the month is published):
  payment_batch(run_month, decision_key, batch_no, ..., amount DECIMAL(12,2), account_type, bank_name, account_number)
  payment_pending(run_month, decision_key, ..., reason_code, reason, since_month)
Account numbers appear in full only in these two tables and in `payments/<league>/`; never logged.
"""
from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from .common import LEAGUES, UNASSIGNED_LEAGUE, league_name, month_first_day, neutralise, policy_name, table_exists

log = logging.getLogger(__name__)

OPTIONAL_SOURCES = ("confirmations", "social_security_cards")

PENDING_REASONS = {
    "no_card": "未办理社会保障卡（持卡信息中无此人）",
    "card_lost": "社会保障卡已挂失",
    "card_cancelled": "社会保障卡已注销",
    "card_not_activated": "社会保障卡未激活金融功能",
    "card_status_unknown": "社会保障卡状态不明",
    "card_account_invalid": "社会保障卡金融账户缺失或校验不通过",
    "card_link_uncertain": "持卡人身份号码仅模糊比对一致，需核实",
    "no_firm_account": "单位未提供银行账户",
    "firm_account_invalid": "单位银行账号有误（位数或字符不符）",
}

DECISION_COLUMNS = """
    decision_key VARCHAR, listing_month VARCHAR, notice_id VARCHAR, policy_code VARCHAR,
    beneficiary_type VARCHAR, beneficiary_id VARCHAR, beneficiary_name VARCHAR,
    person_id_number VARCHAR, person_name VARCHAR, period_start VARCHAR, period_end VARCHAR,
    amount DECIMAL(12,2), region_code VARCHAR, league_code VARCHAR, response_date DATE"""
BATCH_DDL = f"""CREATE TABLE IF NOT EXISTS payment_batch (run_month VARCHAR, batch_no VARCHAR, {DECISION_COLUMNS},
    account_type VARCHAR, bank_name VARCHAR, account_number VARCHAR)"""
PENDING_DDL = f"""CREATE TABLE IF NOT EXISTS payment_pending (run_month VARCHAR, {DECISION_COLUMNS},
    account_type VARCHAR, reason_code VARCHAR, reason VARCHAR, since_month VARCHAR)"""

# Confirmed decisions of earlier listings → batch or 待补录 (pay_listed / pay_answers: confirmations.py).
SETTLE_SQL = """
CREATE OR REPLACE TEMP TABLE pay_settled AS
WITH confirmed AS (
    SELECT d.*, a.response_date, a.bank_name AS answered_bank_name,
           a.account_number AS answered_account, a.account_number_valid AS answered_account_valid
    FROM pay_listed AS d
    JOIN pay_answers AS a USING (decision_key)
    WHERE a.response = '确认申领' AND d.listing_month < $run_month
),

batched_before AS (
    SELECT DISTINCT decision_key FROM payment_batch
    WHERE run_month < $run_month AND run_month IN (SELECT run_month FROM published_runs)
),

-- an application in the ledger that was not refused: the case system is handling (or paid) it
handled_in_ledger AS (
    SELECT DISTINCT c.decision_key
    FROM confirmed AS c
    JOIN lnk_subsidy_ledger AS g
      ON g.policy_code = c.policy_code
     AND g.applicant_id = c.beneficiary_id
     AND g.beneficiary_id_number IS NOT DISTINCT FROM c.person_id_number
     AND (c.period_start IS NULL OR g.subsidy_month IS NULL
          OR strftime(g.subsidy_month, '%Y-%m') BETWEEN c.period_start AND coalesce(c.period_end, c.period_start))
    WHERE coalesce(g.status, '') NOT IN ('不予受理', '审核不通过')
      AND coalesce(g.apply_date, g.pay_date, g.accept_date, g.review_date) <= $as_of
),

to_settle AS (
    SELECT * FROM confirmed
    WHERE decision_key NOT IN (SELECT decision_key FROM batched_before)
      AND decision_key NOT IN (SELECT decision_key FROM handled_in_ledger)
),

cards AS (
    SELECT id_number, card_status, bank_name, bank_account, bank_account_valid,
           -- a card whose holder ID was only fuzzily linked is never paid to (a guess)
           id_number_method NOT IN ('exact', 'id_repaired', 'reviewed') AS holder_uncertain
    FROM lnk_social_security_cards
    WHERE id_number IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY id_number
                               ORDER BY (id_number_method = 'exact') DESC, (card_status = '正常') DESC NULLS LAST,
                                        source_line DESC) = 1
),

with_account AS (
    SELECT s.*,
           CASE WHEN s.beneficiary_type = 'firm' THEN '单位银行账户' ELSE '社会保障卡' END AS account_type,
           CASE WHEN s.beneficiary_type = 'firm' THEN s.answered_bank_name ELSE c.bank_name END AS bank_name,
           CASE WHEN s.beneficiary_type = 'firm' THEN s.answered_account ELSE c.bank_account END AS account_number,
           CASE
               WHEN s.beneficiary_type = 'firm' AND s.answered_account IS NULL THEN 'no_firm_account'
               WHEN s.beneficiary_type = 'firm' AND NOT coalesce(s.answered_account_valid, false) THEN 'firm_account_invalid'
               WHEN s.beneficiary_type = 'firm' THEN NULL
               WHEN c.id_number IS NULL THEN 'no_card'
               WHEN c.holder_uncertain THEN 'card_link_uncertain'
               WHEN c.card_status = '挂失' THEN 'card_lost'
               WHEN c.card_status = '注销' THEN 'card_cancelled'
               WHEN c.card_status = '未激活金融功能' THEN 'card_not_activated'
               WHEN c.card_status IS DISTINCT FROM '正常' THEN 'card_status_unknown'
               WHEN c.bank_account IS NULL OR NOT coalesce(c.bank_account_valid, false) THEN 'card_account_invalid'
           END AS reason_code
    FROM to_settle AS s
    LEFT JOIN cards AS c ON s.beneficiary_type = 'person' AND c.id_number = s.beneficiary_id
),

pending_before AS (
    SELECT decision_key, min(run_month) AS since_month FROM payment_pending
    WHERE run_month < $run_month AND run_month IN (SELECT run_month FROM published_runs)
    GROUP BY decision_key
)

SELECT w.*, coalesce(p.since_month, $run_month) AS since_month
FROM with_account AS w
LEFT JOIN pending_before AS p USING (decision_key)
"""

DECISION_FIELDS = ("decision_key, listing_month, notice_id, policy_code, beneficiary_type, beneficiary_id, "
                   "beneficiary_name, person_id_number, person_name, period_start, period_end, amount, "
                   "region_code, coalesce(league_code, '150000') AS league_code, response_date")
ORDER = "league_code, policy_code, region_code, beneficiary_id, person_id_number, period_start, decision_key"


def has_sources(con: duckdb.DuckDBPyConnection, month: str) -> bool:
    """Whether either optional source holds rows of an extract up to `month` (the loader keeps an
    empty table for a source that never came): without them a run is what it always was."""
    for s in OPTIONAL_SOURCES:
        if table_exists(con, f"stg_{s}") and con.execute(
                f"SELECT count(*) FROM stg_{s} WHERE extract_month <= ?",
                [month_first_day(month)]).fetchall()[0][0]:
            return True
    return False


def _execute(con, sql: str, params: dict):
    import re
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def settle_month(con: duckdb.DuckDBPyConnection, month: str, as_of) -> dict:
    """Replace `month`'s rows of payment_batch / payment_pending (needs pay_listed, pay_answers)."""
    con.execute(BATCH_DDL)
    con.execute(PENDING_DDL)
    params = {"run_month": month, "as_of": as_of}
    _execute(con, SETTLE_SQL, params)
    reasons = ", ".join(f"('{k}', '{v}')" for k, v in PENDING_REASONS.items())
    batch_no = f"'ZBFF{month.replace('-', '')}-' || league_code"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM payment_batch WHERE run_month = ?", [month])
        con.execute("DELETE FROM payment_pending WHERE run_month = ?", [month])
        con.execute(f"""INSERT INTO payment_batch BY NAME
            SELECT ? AS run_month, {batch_no} AS batch_no, * FROM (
                SELECT {DECISION_FIELDS}, account_type, bank_name, account_number
                FROM pay_settled WHERE reason_code IS NULL) ORDER BY {ORDER}""", [month])
        con.execute(f"""INSERT INTO payment_pending BY NAME
            SELECT ? AS run_month, x.*, r.reason FROM (
                SELECT {DECISION_FIELDS}, account_type, reason_code, since_month
                FROM pay_settled WHERE reason_code IS NOT NULL) AS x
            JOIN (VALUES {reasons}) AS r(reason_code, reason) USING (reason_code)
            ORDER BY {ORDER}""", [month])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    n_batch, amount = con.execute("SELECT count(*), coalesce(sum(amount), 0) FROM payment_batch WHERE run_month = ?",
                                  [month]).fetchall()[0]
    pending = dict(con.execute("SELECT reason_code, count(*) FROM payment_pending WHERE run_month = ? "
                               "GROUP BY 1 ORDER BY 1", [month]).fetchall())
    log.info("payments %s: %d batched, %d pending", month, n_batch, sum(pending.values()))
    return {"batched": n_batch, "batched_amount": f"{amount:.2f}", "pending": pending}


def pay_month(con: duckdb.DuckDBPyConnection, month: str) -> dict:
    """The pay stage: confirmations matched, the batch settled, every listed decision tracked."""
    from policies.engine import month_bounds
    from . import confirmations, tracking
    _, as_of = month_bounds(month)
    stats = {"confirmations": confirmations.match_confirmations(con, month, as_of)}
    stats["payments"] = settle_month(con, month, as_of)
    stats["tracking"] = tracking.track_month(con, month, as_of)
    return stats


# ---------------------------------------------------------------- files: payments/<league>/
# The decision as both sheets show it (policy, beneficiary, person, period, amount).
DECISION_COLUMNS: list[tuple[str, str, str, int]] = [
    ("政策名称", "policy_name", "wrap", 14),
    ("受益主体类型", "beneficiary_type_zh", "str", 7),
    ("受益主体证件号码", "beneficiary_id", "text", 20),
    ("受益主体名称", "beneficiary_name", "wrap", 14),
    ("人员身份证号", "person_id_number", "text", 20),
    ("人员姓名", "person_name", "wrap", 9),
    ("补贴起始月份", "period_start", "text", 8),
    ("补贴截止月份", "period_end", "text", 8),
    ("补贴金额(元)", "amount", "money", 11),
]
BATCH_COLUMNS: list[tuple[str, str, str, int]] = [
    ("序号", "seq", "str", 6),
    ("发放批次号", "batch_no", "text", 20),
    *DECISION_COLUMNS,
    ("收款账户类型", "account_type", "str", 12),
    ("开户银行", "bank_name", "wrap", 12),
    ("收款账号", "account_number", "text", 24),
    ("名单月份", "listing_month", "text", 8),
    ("告知编号", "notice_id", "text", 20),
    ("确认日期", "response_date", "text", 11),
    ("行政区划代码", "region_code", "text", 8),
]
PENDING_COLUMNS: list[tuple[str, str, str, int]] = [
    *DECISION_COLUMNS,
    ("应补录账户", "account_type", "str", 12),
    ("待补录原因", "reason", "wrap", 20),
    ("待补录起始月份", "since_month", "text", 9),
    ("名单月份", "listing_month", "text", 8),
    ("告知编号", "notice_id", "text", 20),
    ("确认日期", "response_date", "text", 11),
    ("行政区划代码", "region_code", "text", 8),
]


def _rows(con, table: str, month: str) -> list[dict]:
    cur = con.execute(f"SELECT * FROM {table} WHERE run_month = ? ORDER BY {ORDER}", [month])
    names = [d[0] for d in cur.description]
    out = []
    for rec in cur.fetchall():
        r = dict(zip(names, rec))
        r["policy_name"] = policy_name(r["policy_code"])
        r["beneficiary_type_zh"] = {"person": "个人", "firm": "单位"}.get(r["beneficiary_type"], "")
        r["response_date"] = r["response_date"].isoformat() if r.get("response_date") else None
        out.append(r)
    return out


def _csv_bytes(columns, rows: list[dict]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for h, *_ in columns])
    for r in rows:
        w.writerow(["" if r.get(k) is None else (f"{Decimal(r[k]):.2f}" if kind == "money" else neutralise(str(r[k])))
                    for _h, k, kind, _w in columns])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def write_batch_xlsx(batch: list[dict], pending: list[dict], path: Path, month: str, league: str) -> Path:
    """发放批次 (the table, then a total row below it, outside the table) + 待补录. Reproducible bytes."""
    from .exports import _Formats, _page_setup, _sheet_name, _write_table
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "in_memory": True})
    first = month_first_day(month)
    lname = league_name(league)
    wb.set_properties({"title": f"就业补贴发放批次 {lname} {month}", "subject": "就业补贴直补快办",
                       "author": "zhibu", "company": "", "created": datetime(first.year, first.month, first.day)})
    fmt = _Formats(wb)
    used: set[str] = set()
    ws = wb.add_worksheet(_sheet_name("发放批次", used))
    _write_table(ws, fmt, BATCH_COLUMNS, batch)
    total = sum((Decimal(r["amount"]) for r in batch), Decimal("0.00"))
    t = len(batch) + 2            # one empty row: the total is not part of the data table
    bold = wb.add_format({"bold": True, "top": 1})
    money = wb.add_format({"bold": True, "top": 1, "num_format": "0.00"})
    ws.write_string(t, 0, "合计", bold)
    ws.write_string(t, 1, f"{len(batch)} 笔", bold)
    ws.write_number(t, 10, total, money)
    ws.write_string(t + 1, 0, f"批次金额合计 {total:.2f} 元，共 {len(batch)} 笔；{lname}，{month}。"
                              "收款账号仅在本批次文件中完整显示，请按涉密资料管理。")
    _page_setup(ws, len(BATCH_COLUMNS), f"{lname} {month} 发放批次")
    ws = wb.add_worksheet(_sheet_name("待补录", used))
    _write_table(ws, fmt, PENDING_COLUMNS, pending)
    _page_setup(ws, len(PENDING_COLUMNS), f"{lname} {month} 待补录")
    wb.close()
    return path


def payment_leagues(batch: list[dict], pending: list[dict]) -> list[str]:
    return sorted(set(LEAGUES) | {r["league_code"] or UNASSIGNED_LEAGUE for r in batch + pending})


def write_payments(con: duckdb.DuckDBPyConnection, out: Path, month: str) -> dict:
    """payments/<league>/发放批次_<league>_<YYYY-MM>.xlsx|.csv and 待补录_<league>_<YYYY-MM>.csv."""
    if not table_exists(con, "payment_batch"):
        return {}
    batch, pending = _rows(con, "payment_batch", month), _rows(con, "payment_pending", month)
    by_league: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for r in batch:
        by_league[r["league_code"]][0].append(r)
    for r in pending:
        by_league[r["league_code"]][1].append(r)
    for league in payment_leagues(batch, pending):
        b, p = by_league[league]
        for i, r in enumerate(b, start=1):
            r["seq"] = str(i)
        folder = out / "payments" / league
        write_batch_xlsx(b, p, folder / f"发放批次_{league}_{month}.xlsx", month, league)
        (folder / f"发放批次_{league}_{month}.csv").write_bytes(_csv_bytes(BATCH_COLUMNS, b))
        (folder / f"待补录_{league}_{month}.csv").write_bytes(_csv_bytes(PENDING_COLUMNS, p))
    total = sum((Decimal(r["amount"]) for r in batch), Decimal("0.00"))
    return {"payment_batch_rows": len(batch), "payment_batch_amount": f"{total:.2f}",
            "payment_pending_rows": len(pending)}
