"""What a month folder also holds when the optional sources `confirmations` and
`social_security_cards` are in use (outputs.md, "From list to money"). Without them nothing here
is written, and the month folder is what it always was.

  payments/<league>/      发放批次 xlsx + csv, 待补录 csv      (reports/payments.py)
  tracking.parquet        every listed decision's state        (reports/tracking.py)
  push/<league>/reminders.csv   再次告知 for 超期未确认, once
  调度表_<YYYY-MM>.xlsx   the regional progress table              (reports/takeup.py)
  exports/<league>/核查报告_<YYYY-MM>.docx                          (reports/verification_docx.py)
"""
from __future__ import annotations

import csv
import io
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

import duckdb

from . import payments, tracking
from .common import LEAGUES, POLICIES, UNASSIGNED_LEAGUE, league_name, neutralise, policy_name, table_exists
from .notices import channel_for
from .parquet_out import write_parquet

REMINDER_COLUMNS = ["notice_id", "run_month", "listing_month", "league_code", "region_code", "beneficiary_type",
                    "beneficiary_id", "name", "phone", "channel", "policy_codes", "total_amount", "message"]


def reminders(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    """One 再次告知 per original notice whose decisions are 超期未确认 for the first time."""
    cur = con.execute("""SELECT notice_id, listing_month, league_code, region_code, beneficiary_type, beneficiary_id,
                                beneficiary_name, phone, policy_code, amount
                         FROM payment_tracking WHERE run_month = ? AND reminder_due
                         ORDER BY league_code, notice_id, policy_code, region_code, person_id_number, decision_key""",
                      [month])
    groups: "OrderedDict[str, list[tuple]]" = OrderedDict()
    for rec in cur.fetchall():
        groups.setdefault(rec[0], []).append(rec)
    out = []
    for nid, grp in groups.items():
        _, listing, league, region, btype, bid, name, phone, *_ = grp[0]
        codes = [c for c in POLICIES if any(g[8] == c for g in grp)] + sorted({g[8] for g in grp} - set(POLICIES))
        total = sum((Decimal(g[9]) for g in grp), Decimal("0.00"))
        who = "贵单位" if btype == "firm" else "您"
        names = "、".join(policy_name(c) for c in codes)
        out.append({
            "notice_id": nid, "run_month": month, "listing_month": listing,
            "league_code": league or UNASSIGNED_LEAGUE, "region_code": region or "",
            "beneficiary_type": btype, "beneficiary_id": bid, "name": name or "", "phone": phone or "",
            "channel": channel_for(phone), "policy_codes": ";".join(codes), "total_amount": f"{total:.2f}",
            "message": (f"【直补快办】再次告知 {name or ''}：{listing[:4]}年{int(listing[5:])}月已告知{who}符合{names}，合计{total:,.2f}元，"
                        f"尚未收到{who}的确认（告知编号{nid}）。请通过原告知中的经办渠道确认领取或告知放弃；"
                        "如信息有误请一并反馈。如有疑问请拨打12333人社服务热线。"),
        })
    return out


def write_reminders(rows: list[dict], out: Path) -> None:
    for league in sorted({r["league_code"] for r in rows}):
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(REMINDER_COLUMNS)
        for r in rows:
            if r["league_code"] == league:
                w.writerow([neutralise(str(r[c])) for c in REMINDER_COLUMNS])
        path = out / "push" / league / "reminders.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def write_money_outputs(con: duckdb.DuckDBPyConnection, out: Path, month: str) -> dict:
    """Every "From list to money" output of `month` into folder `out`; summary counts."""
    if not table_exists(con, "payment_tracking"):
        return {}
    summary = payments.write_payments(con, out, month)
    write_parquet(tracking.read_tracking(con, month), out / "tracking.parquet")
    due = reminders(con, month)
    write_reminders(due, out)
    summary["reminders"] = len(due)
    from .takeup import takeup_rows, write_dispatch_xlsx
    write_dispatch_xlsx(takeup_rows(con, month), out / f"调度表_{month}.xlsx", month)
    from .verification_docx import write_verification_docx
    leagues = sorted(set(LEAGUES) | {r[0] for r in con.execute(
        "SELECT DISTINCT coalesce(league_code, '150000') FROM verification_findings WHERE run_month = ?",
        [month]).fetchall()} if table_exists(con, "verification_findings") else set(LEAGUES))
    summary["verification_reports"] = len(write_verification_docx(con, out, month, leagues))
    return summary
