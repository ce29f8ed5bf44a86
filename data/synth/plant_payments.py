"""From list to money (outputs.md): the push platform's answers and the card roster, planted on
top of generated months, with the truth of what each run must batch or hold 待补录.

The decisions answered are the planted eligible ones (truth/expected_decisions.parquet): their
notices go out after the listing month's run, the answers arrive in the next month's extract.
Every outcome is planted, assigned in a fixed cycle over the sorted notices (no randomness, so
every kind is present in every generated range that has enough decisions):
  answers  确认申领 / 放弃 / 信息有误 / no answer; a few confirmations with a mistyped ID (the
           matchers repair it, or the notice_id names the notice), a few sent again a month later
  cards    正常 / 挂失 / 注销 / 未激活金融功能 / no card / 挂失 then 正常 the month after
  firms    with a bank account / without / with a malformed one
Two batched decisions in three are then paid through the ledger (appended to a later month's
subsidy_ledger.csv, 已拨付 on the 10th).
Writes incoming/<M>/confirmations.csv (answer months) and incoming/<M>/social_security_cards.csv
(every month, a snapshot), truth/expected_payments.parquet (run_month, outcome batch|pending,
decision, reason_code, account_number, confirmed_on, paid_on, workdays_to_payment) and
truth/payment_plants.parquet (one row per answered unit).
"""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import duckdb

ANSWERS = ("confirm", "confirm", "give_up", "confirm", "wrong_info", "silence")
RESPONSE_ZH = {"confirm": "确认申领", "give_up": "放弃", "wrong_info": "信息有误"}
CARD_PLANS = ("normal", "lost", "cancelled", "not_activated", "missing", "lost_then_normal")
CARD_STATUS = {"normal": "正常", "lost": "挂失", "cancelled": "注销", "not_activated": "未激活金融功能"}
FIRM_PLANS = ("account", "no_account", "bad_account")
PENDING_REASON = {"lost": "card_lost", "cancelled": "card_cancelled", "not_activated": "card_not_activated",
                  "missing": "no_card", "no_account": "no_firm_account", "bad_account": "firm_account_invalid"}
BACKGROUND_CARDS = 40

CONF_HEADER = ["告知编号", "告知月份", "受益主体证件号码", "政策代码", "确认结果", "确认日期", "收款账户类型", "开户银行", "银行账号"]
CARD_HEADER = ["公民身份号码", "姓名", "社会保障卡号", "金融账户", "开户银行", "卡状态", "行政区划代码"]
BANKS = ("中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "内蒙古农村信用社")


def _h(*parts) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def luhn_complete(prefix: str) -> str:
    digits = [int(c) for c in prefix][::-1]
    total = sum(sum(divmod(2 * d, 10)) if i % 2 == 0 else d for i, d in enumerate(digits))
    return prefix + str((10 - total % 10) % 10)


def card_account(seed: int, id_number: str, generation: int = 0) -> str:
    return luhn_complete("622202" + f"{_h(seed, 'card', id_number, generation) % 10**12:012d}")


def firm_account(seed: int, uscc: str) -> str:
    return f"{_h(seed, 'firm', uscc) % 10**16:016d}"


def typo(id_number: str) -> str:
    d = id_number[10]
    return id_number[:10] + ("0" if d != "0" else "1") + id_number[11:]


def _next(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + (m == 12)}-{(m % 12) + 1:02d}"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows([["" if v is None else v for v in r] for r in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def plant_payments(out: Path, months: list[str], seed: int) -> dict:
    """Plant confirmations and cards into `out`/incoming for `months`; write the truth."""
    from reports.notice_ids import notice_id
    out = Path(out)
    con = duckdb.connect()
    decisions = con.execute(f"""
        SELECT run_month, policy_code, beneficiary_type, beneficiary_id, person_id_number, period_start, amount
        FROM '{out / 'truth' / 'expected_decisions.parquet'}'
        WHERE expected_outcome = 'eligible'
        ORDER BY run_month, beneficiary_type, beneficiary_id, policy_code, person_id_number, period_start""").fetchall()
    persons = {r[0]: r[1:] for r in con.execute(
        f"SELECT id_number, name, region_code, planted FROM '{out / 'truth' / 'persons.parquet'}' ORDER BY pidx").fetchall()}
    con.close()

    # notices: one per beneficiary per run month, bundling its policies (reports/notices.py)
    bundles: dict[tuple, set] = {}
    for m, pol, btype, bid, *_ in decisions:
        bundles.setdefault((m, btype, bid), set()).add(pol)
    # answer units: a notice × policy (the key of a confirmation)
    units: dict[tuple, list] = {}
    for d in decisions:
        units.setdefault((d[0], d[2], d[3], d[1]), []).append(d)

    card_plan: dict[str, str] = {}
    firm_plan: dict[str, str] = {}
    card_since: dict[str, str] = {}          # lost_then_normal: the month of the first confirmation
    answers_by_month: dict[str, list] = {}
    plants, truth = [], []
    confirmed_persons = 0
    for i, key in enumerate(sorted(units)):
        m, btype, bid, pol = key
        answer_month = _next(m)
        nid = notice_id(m, btype, bid, sorted(bundles[(m, btype, bid)]))
        answer = ANSWERS[i % len(ANSWERS)] if answer_month in months else "silence"
        plan = None
        if answer == "confirm" and btype == "person":
            plan = card_plan.setdefault(bid, CARD_PLANS[len(card_plan) % len(CARD_PLANS)])
            card_since.setdefault(bid, answer_month)
        elif answer == "confirm":
            plan = firm_plan.setdefault(bid, FIRM_PLANS[len(firm_plan) % len(FIRM_PLANS)])
        mistyped = answer == "confirm" and btype == "person" and confirmed_persons % 4 == 1
        resent = answer == "confirm" and i % 4 == 3 and _next(answer_month) in months
        confirmed_persons += answer == "confirm" and btype == "person"
        plants.append((m, btype, bid, pol, nid, answer, plan, mistyped, resent))
        if answer == "silence":
            continue
        day = 3 + _h(seed, "day", nid, pol) % 18
        acct_type = bank = acct = None
        if answer == "confirm" and btype == "firm":
            acct_type = None if plan == "no_account" else "单位银行账户"
            bank = None if plan == "no_account" else BANKS[_h(seed, bid) % len(BANKS)]
            acct = {"account": firm_account(seed, bid), "bad_account": "12-34", "no_account": None}[plan]
            if acct and plan == "account" and _h(seed, "fmt", bid) % 2:
                acct = acct[:4] + " " + acct[4:8] + "-" + acct[8:]       # as typed: spaces and dashes
        elif answer == "confirm":
            acct_type = "社会保障卡"
        row = [nid, m.replace("-", "") if day % 2 else m, typo(bid) if mistyped else bid, pol, RESPONSE_ZH[answer],
               f"{answer_month}-{day:02d}", acct_type, bank, acct]
        answers_by_month.setdefault(answer_month, []).append(row)
        if resent:
            answers_by_month.setdefault(_next(answer_month), []).append(row)
        if answer != "confirm":
            continue
        # the truth: batched once, or pending in every run until resolved
        for d in units[key]:
            decision = {"policy_code": d[1], "beneficiary_type": d[2], "beneficiary_id": d[3],
                        "person_id_number": d[4], "period_start": d[5], "listing_month": d[0],
                        "amount": d[6], "confirmed_on": f"{answer_month}-{day:02d}"}
            if plan == "lost_then_normal" and answer_month > card_since[bid]:
                # the card was 正常 again from the month after the first confirmation
                truth.append({"run_month": answer_month, "outcome": "batch", **decision,
                              "reason_code": None, "account_number": card_account(seed, bid, 1)})
                continue
            if plan in ("normal", "account"):
                acct_full = card_account(seed, bid) if btype == "person" else firm_account(seed, bid)
                truth.append({"run_month": answer_month, "outcome": "batch", **decision,
                              "reason_code": None, "account_number": acct_full})
                continue
            if plan == "lost_then_normal":
                truth.append({"run_month": answer_month, "outcome": "pending", **decision,
                              "reason_code": "card_lost", "account_number": None})
                if _next(answer_month) in months:
                    truth.append({"run_month": _next(answer_month), "outcome": "batch", **decision,
                                  "reason_code": None, "account_number": card_account(seed, bid, 1)})
                continue
            r = answer_month
            while r in months:
                truth.append({"run_month": r, "outcome": "pending", **decision,
                              "reason_code": PENDING_REASON[plan], "account_number": None})
                r = _next(r)

    # cards: every month a full snapshot (planted holders + some background holders)
    background = [pid for pid, (_n, _r, planted) in persons.items() if not planted]
    background = sorted(background, key=lambda p: _h(seed, "bg", p))[:BACKGROUND_CARDS]
    for month in months:
        rows = []
        for pid in background:
            name, region, _ = persons[pid]
            rows.append([pid, name, f"K{_h(seed, 'no', pid) % 10**8:08d}", card_account(seed, pid), BANKS[_h(pid) % 5],
                         "正常", region])
        for pid, plan in sorted(card_plan.items()):
            if plan == "missing" or pid not in persons:
                continue
            name, region, _ = persons[pid]
            gen, status = 0, CARD_STATUS.get(plan)
            if plan == "lost_then_normal":
                recovered = month > card_since[pid]
                gen, status = (1, "正常") if recovered else (0, "挂失")
            rows.append([pid, name, f"K{_h(seed, 'no', pid, gen) % 10**8:08d}", card_account(seed, pid, gen),
                         BANKS[_h(pid) % 5], status, region])
        rows.sort(key=lambda r: _h(seed, "order", month, r[0]))
        _write_csv(out / "incoming" / month / "social_security_cards.csv", CARD_HEADER, rows)
        if month in answers_by_month:
            _write_csv(out / "incoming" / month / "confirmations.csv", CONF_HEADER, answers_by_month[month])

    paid = _pay_in_ledger(out, months, seed, truth)

    con = duckdb.connect()
    import pandas as pd
    cols = ["run_month", "outcome", "policy_code", "beneficiary_type", "beneficiary_id", "person_id_number",
            "period_start", "listing_month", "reason_code", "account_number", "amount", "confirmed_on",
            "paid_on", "workdays_to_payment"]
    t = pd.DataFrame(truth, columns=cols).astype("string")
    p = pd.DataFrame(plants, columns=["notice_month", "beneficiary_type", "beneficiary_id", "policy_code", "notice_id",
                                      "answer", "plan", "mistyped", "resent"])
    con.register("t", t)
    con.register("p", p)
    con.execute(f"COPY (SELECT * FROM t ORDER BY ALL) TO '{out / 'truth' / 'expected_payments.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * FROM p ORDER BY ALL) TO '{out / 'truth' / 'payment_plants.parquet'}' (FORMAT parquet)")
    con.close()
    return {"answer_units": len(plants), "answers": {a: sum(1 for x in plants if x[5] == a) for a in sorted(set(ANSWERS))},
            "card_plans": {c: sum(1 for v in card_plan.values() if v == c) for c in CARD_PLANS},
            "firm_plans": {c: sum(1 for v in firm_plan.values() if v == c) for c in FIRM_PLANS},
            "expected_batch_rows": sum(1 for x in truth if x["outcome"] == "batch"),
            "expected_pending_rows": sum(1 for x in truth if x["outcome"] == "pending"),
            "paid_in_ledger": paid}


LEDGER_COLUMNS = ("application_id", "policy_code", "applicant_type", "applicant_id", "beneficiary_id_number",
                  "subsidy_month", "amount", "apply_date", "accept_date", "review_date", "pay_date", "status",
                  "channel", "handler_id_number", "region_code")


def _pay_in_ledger(out: Path, months: list[str], seed: int, truth: list[dict]) -> int:
    """Two batch rows in three are paid through the case system (直补快办 channel) on the 10th of
    the first later month whose ledger extract is a CSV: appended to that file, and the truth
    learns the pay date and the working days from the confirmation."""
    from zhibu.workdays import default_calendar

    from .readback import read_extract
    from .schema import SOURCES
    zh = {c: h for c, h, _t in SOURCES["subsidy_ledger"]}
    cal = default_calendar()
    con = duckdb.connect()
    regions = dict(con.execute(f"""SELECT id_number, region_code FROM '{out / 'truth' / 'persons.parquet'}'
                                   UNION ALL SELECT uscc, region_code FROM '{out / 'truth' / 'firms.parquet'}'""").fetchall())
    con.close()
    appended: dict[str, list[list]] = {}
    headers: dict[str, tuple] = {}
    n = 0
    for i, t in enumerate(x for x in truth if x["outcome"] == "batch"):
        if i % 3 == 2:
            continue                     # left unpaid: 已确认待发放, then 超期未发放
        month = _next(t["run_month"])
        while month in months and not (out / "incoming" / month / "subsidy_ledger.csv").exists():
            month = _next(month)
        if month not in months:
            continue
        path = out / "incoming" / month / "subsidy_ledger.csv"
        if month not in headers:
            enc, header, _rows = read_extract(path)
            headers[month] = (enc, header)
        region = regions.get(t["beneficiary_id"]) or regions.get(t["person_id_number"] or "") or "150102"
        rec = {"application_id": f"ZBFF{t['run_month'].replace('-', '')}{_h(seed, 'app', i) % 10**8:08d}",
               "policy_code": t["policy_code"], "applicant_type": "单位" if t["beneficiary_type"] == "firm" else "个人",
               "applicant_id": t["beneficiary_id"], "beneficiary_id_number": t["person_id_number"],
               "subsidy_month": t["period_start"], "amount": t["amount"], "apply_date": f"{month}-03",
               "accept_date": f"{month}-04", "review_date": f"{month}-07", "pay_date": f"{month}-10",
               "status": "已拨付", "channel": "直补快办", "handler_id_number": None, "region_code": region}
        by_header = {zh[c]: rec[c] for c in LEDGER_COLUMNS}
        appended.setdefault(month, []).append([by_header.get(h) for h in headers[month][1]])
        t["paid_on"] = f"{month}-10"
        t["workdays_to_payment"] = str(cal.workdays_between(t["confirmed_on"], t["paid_on"]))
        n += 1
    for month, rows in appended.items():
        path = out / "incoming" / month / "subsidy_ledger.csv"
        enc, header = headers[month]
        text = path.read_bytes().decode(enc)
        eol = "\r\n" if "\r\n" in text else "\n"          # the file's own line ends
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator=eol).writerows([["" if v is None else v for v in r] for r in rows])
        sep = "" if text.endswith(("\n", "\r")) else eol
        path.write_bytes((text + sep + buf.getvalue()).encode("utf-8-sig" if enc == "utf-8-sig" else enc))
    # the generator's manifest states each file's size: keep it true
    import json
    man_path = out / "truth" / "manifest.json"
    man = json.loads(man_path.read_text(encoding="utf-8"))
    for f in man["files"]:
        if f["source"] == "subsidy_ledger" and f["month"] in appended:
            f["bytes"] = (out / f["file"]).stat().st_size
            f["rows"] += len(appended[f["month"]])
    man_path.write_text(json.dumps(man, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return n
