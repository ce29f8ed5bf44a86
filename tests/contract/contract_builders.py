"""Month-folder builders written from the data contract (shared/spec/extracts.md) alone.

A *plan* (drawn by hypothesis) says, for every source: format, encoding, header language,
column order, extra columns, title row, and for every row its noise kind.  `write_month`
turns a plan into a folder of files and returns what the contract lets us expect:
rows per file, rows that must load, rows that must be quarantined, and the canonical IDs
that must come out unchanged.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

# ---------------------------------------------------------------- identifiers

COUNTIES = ["150102", "150104", "150203", "150402", "150502", "150602", "150702",
            "150802", "150902", "152201", "152502", "152921"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_W = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def id_checksum_ok(code: str) -> bool:
    """A citizen ID as extracts.md defines it: 18 characters, MOD 11-2 check digit. (stdnum's
    is_valid also wants the county to have existed at the birth date: 150902 集宁区 dates from
    2003, yet people born before carry it.)"""
    return (len(code) == 18 and code[:17].isdigit()
            and ric.calc_check_digit(code[:17] + "0") == code[17])


def ric_check(body17: str) -> str:
    return ric.calc_check_digit(body17 + "0")   # stdnum wants the number with a check digit slot


def make_id(n: int, *, birth_from: dt.date = dt.date(1966, 1, 1), step: int = 11, want_x: bool = False) -> str:
    """A valid 18-char citizen ID, unique per n (birth date = birth_from + (n-1000)*step days)."""
    region = COUNTIES[n % len(COUNTIES)]
    birth = birth_from + dt.timedelta(days=(n - 1000) * step)
    for seq in range(n % 500, n % 500 + 500):
        body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
        chk = ric_check(body)
        if not want_x or chk == "X":
            return body + chk
    return body + chk


def legacy15(canon: str) -> str | None:
    """The 15-digit legacy form of an 18-char ID born in 19xx (else None)."""
    if canon[6:8] != "19":
        return None
    return canon[:6] + canon[8:17]


def org_check(code8: str) -> str:
    s = sum(_ORG_ALPHA.index(c) * w for c, w in zip(code8, _ORG_W))
    c = 11 - s % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(n: int, kind: str = "enterprise") -> str:
    """A valid GB 32100 code.  kind: enterprise (91…, with letters), digits (all digits: converted
    from an old organisation code), individual (92… 个体工商户), institution (starts with 1)."""
    region = COUNTIES[n % len(COUNTIES)]
    prefix = {"enterprise": "91", "digits": "91", "individual": "92", "institution": "12"}[kind]
    for k in range(5000):
        m = n * 7919 + k * 104729
        if kind == "digits":
            code8 = f"{m % 10**8:08d}"
        else:
            code8 = "MA" + "".join(_ORG_ALPHA[(m // 31**i) % 31] for i in range(6))
        oc = org_check(code8)
        body = prefix + region + code8 + oc
        chk = uscc.calc_check_digit(body)
        code = body + chk
        if kind == "digits" and not code.isdigit():
            continue
        if kind == "enterprise" and code.isdigit():
            continue
        assert uscc.is_valid(code), code
        return code
    raise AssertionError("no code found")


_FW = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}

ID_OK_NOISE = ["plain", "lower", "fullwidth", "spaces", "tab", "apostrophe", "legacy15"]
ID_EITHER_NOISE = ["typo_digit", "typo_swap"]          # may be repaired by linking, or quarantined
ID_BAD_NOISE = ["sci"]                                 # unrecoverable: must be quarantined


def noisy_code(canon: str, noise: str) -> str:
    if noise == "plain":
        return canon
    if noise == "lower":
        return canon.lower()
    if noise == "fullwidth":
        return canon.translate(_FW)
    if noise == "spaces":
        return f" {canon[:6]} {canon[6:14]} {canon[14:]} "
    if noise == "tab":
        return canon[:6] + "\t" + canon[6:] + "\t"
    if noise == "apostrophe":
        return "'" + canon
    if noise == "legacy15":
        return legacy15(canon) or canon
    if noise == "typo_digit":
        for pos in range(6, 17):
            for d in "1234567890":
                if d != canon[pos]:
                    t = canon[:pos] + d + canon[pos + 1:]
                    if not _valid_any(t):
                        return t
    if noise == "typo_swap":
        for pos in range(14, 6, -1):
            if canon[pos] != canon[pos + 1]:
                t = canon[:pos] + canon[pos + 1] + canon[pos] + canon[pos + 2:]
                if not _valid_any(t):
                    return t
        return noisy_code(canon, "typo_digit")
    if noise == "sci":
        digits = "".join(c if c.isdigit() else "0" for c in canon)
        return f"{int(digits):.5E}".replace("E+", "E+")
    raise ValueError(noise)


def _valid_any(code: str) -> bool:
    return id_checksum_ok(code) or uscc.is_valid(code)


# ---------------------------------------------------------------- names, dates, money

NAMES = [("张伟", "張偉"), ("刘洋", "劉洋"), ("陈静", "陳靜"), ("王丽", "王麗"), ("赵军", "趙軍"),
         ("杨帆", "楊帆"), ("黄磊", "黃磊"), ("吴刚", "吳剛"), ("王小明", "王小明"), ("孙红", "孫紅")]
MONGOL = [("巴特尔", "朝鲁"), ("其其格", "乌兰"), ("苏和", "巴雅尔"), ("额尔敦", "宝音")]
DOTS = ["·", "•", "・", ".", "．", ""]
NAME_NOISE = ["plain", "traditional", "space", "mongol"]


def make_name(n: int, noise: str, dot: str = "·") -> str:
    simp, trad = NAMES[n % len(NAMES)]
    if noise == "traditional":
        return trad
    if noise == "space":
        return simp[0] + " " + simp[1:]
    if noise == "mongol":
        a, b = MONGOL[n % len(MONGOL)]
        return a + dot + b
    return simp


DATE_FORMS = ["iso", "slash", "slash_nopad", "compact", "chinese", "excel"]
MONTH_FORMS = ["compact", "dash"]


@dataclass(frozen=True)
class ExcelDate:
    """A date the xlsx writer stores as an Excel serial number with a date format."""
    d: dt.date

    def __str__(self):
        return self.d.isoformat()


def fmt_date(d: dt.date, form: str, fmt: str):
    if form == "iso":
        return d.isoformat()
    if form == "slash":
        return f"{d:%Y/%m/%d}"
    if form == "slash_nopad":
        return f"{d.year}/{d.month}/{d.day}"
    if form == "compact":
        return f"{d:%Y%m%d}"
    if form == "chinese":
        return f"{d.year}年{d.month}月{d.day}日"
    if form == "excel":
        return ExcelDate(d) if fmt == "xlsx" else d.isoformat()
    raise ValueError(form)


def fmt_month(year: int, month: int, form: str) -> str:
    return f"{year}{month:02d}" if form == "compact" else f"{year}-{month:02d}"


def fmt_money(cents: int, thousands: bool) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    y, f = divmod(cents, 100)
    whole = f"{y:,}" if thousands else str(y)
    return f"{sign}{whole}.{f:02d}"


def month_end(month: str) -> dt.date:
    y, m = map(int, month.split("-"))
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def shift_month(month: str, k: int) -> str:
    y, m = map(int, month.split("-"))
    i = y * 12 + (m - 1) + k
    return f"{i // 12}-{i % 12 + 1:02d}"


# ---------------------------------------------------------------- headers

HEADERS = {
    "employment_registration": [
        ("公民身份号码", "id_number"), ("姓名", "name"), ("登记类型", "registration_type"),
        ("登记日期", "registration_date"), ("就业形式", "employment_form"),
        ("用人单位统一社会信用代码", "employer_uscc"), ("就业困难人员类别", "hardship_category"),
        ("联系电话", "phone"), ("行政区划代码", "region_code")],
    "hiring_filing": [
        ("用人单位统一社会信用代码", "employer_uscc"), ("用人单位名称", "employer_name"),
        ("公民身份号码", "id_number"), ("姓名", "name"), ("备案类型", "filing_type"),
        ("劳动合同起始日期", "contract_start"), ("劳动合同终止日期", "contract_end"),
        ("合同期限类型", "contract_term_type"), ("备案日期", "filing_date"), ("行政区划代码", "region_code")],
    "social_insurance": [
        ("公民身份号码", "id_number"), ("姓名", "name"), ("单位统一社会信用代码", "employer_uscc"),
        ("参保身份", "insured_type"), ("险种类型", "insurance_type"), ("费款所属期", "contribution_month"),
        ("缴费基数", "contribution_base"), ("单位缴费金额", "employer_amount"),
        ("个人缴费金额", "individual_amount"), ("到账日期", "credited_date"), ("行政区划代码", "region_code")],
    "business_registration": [
        ("统一社会信用代码", "uscc"), ("主体名称", "name"), ("主体类型", "entity_type"),
        ("企业规模", "enterprise_scale"), ("法定代表人（经营者）证件号码", "legal_rep_id_number"),
        ("法定代表人（经营者）姓名", "legal_rep_name"), ("成立日期", "established_date"),
        ("登记状态", "status"), ("状态变更日期", "status_date"), ("严重违法失信", "serious_dishonest"),
        ("联系电话", "phone"), ("行政区划代码", "region_code")],
    "graduates": [
        ("公民身份号码", "id_number"), ("姓名", "name"), ("院校名称", "school"), ("学历层次", "degree"),
        ("毕业日期", "graduation_date"), ("困难类别", "hardship_types"),
        ("生源地行政区划代码", "region_code"), ("院校所在地行政区划代码", "school_region_code"),
        ("联系电话", "phone")],
    "poverty_alleviation": [
        ("公民身份号码", "id_number"), ("姓名", "name"), ("户编号", "household_id"),
        ("人员类型", "population_type"), ("是否劳动力", "is_labor_force"), ("联系电话", "phone"),
        ("行政区划代码", "region_code")],
    "fiscal_staff": [
        ("公民身份号码", "id_number"), ("姓名", "name"), ("工作单位", "work_unit"), ("行政区划代码", "region_code")],
    "deceased": [("公民身份号码", "id_number"), ("姓名", "name"), ("死亡日期", "death_date")],
    "subsidy_ledger": [
        ("业务流水号", "application_id"), ("政策代码", "policy_code"), ("申领主体类型", "applicant_type"),
        ("申领主体证件号码", "applicant_id"), ("受益人员身份证号", "beneficiary_id_number"),
        ("补贴所属期", "subsidy_month"), ("补贴金额", "amount"), ("申请日期", "apply_date"),
        ("受理日期", "accept_date"), ("审核日期", "review_date"), ("拨付日期", "pay_date"),
        ("办理状态", "status"), ("经办渠道", "channel"), ("经办人身份证号", "handler_id_number"),
        ("行政区划代码", "region_code")],
    "confirmations": [
        ("告知编号", "notice_id"), ("告知月份", "notice_month"), ("受益主体证件号码", "beneficiary_id"),
        ("政策代码", "policy_code"), ("确认结果", "response"), ("确认日期", "response_date"),
        ("收款账户类型", "account_type"), ("开户银行", "bank_name"), ("银行账号", "account_number")],
    "social_security_cards": [
        ("公民身份号码", "id_number"), ("姓名", "name"), ("社会保障卡号", "card_number"),
        ("金融账户", "bank_account"), ("开户银行", "bank_name"), ("卡状态", "card_status"),
        ("行政区划代码", "region_code")],
}
ZH = {src: {en: zh for zh, en in cols} for src, cols in HEADERS.items()}
REQUIRED = ["employment_registration", "hiring_filing", "social_insurance", "business_registration",
            "graduates", "poverty_alleviation", "fiscal_staff", "subsidy_ledger"]
OPTIONAL = ["deceased", "confirmations", "social_security_cards"]
SNAPSHOTS = {"poverty_alleviation", "fiscal_staff", "social_security_cards"}
EXTRA_COLUMNS = ["备注", "数据来源", "导出时间", "remark"]
POLICIES = ["one_time_hiring", "hiring_social_insurance", "flexible_social_insurance",
            "startup_one_time", "job_search", "job_retention_refund"]
HARDSHIP_GRAD = ["低保家庭", "脱贫家庭", "防返贫监测对象", "特困人员", "残疾", "国家助学贷款"]
HARDSHIP_CAT = ["大龄失业人员", "残疾人", "零就业家庭成员", "低保家庭成员", "长期失业人员", "脱贫人口", "其他就业困难人员"]
TITLES = {"employment_registration": "就业失业登记信息导出", "hiring_filing": "用工备案花名册",
          "social_insurance": "参保缴费明细", "business_registration": "经营主体登记信息",
          "graduates": "高校毕业生信息", "poverty_alleviation": "脱贫人口信息", "fiscal_staff": "财政供养人员名单",
          "deceased": "死亡人员信息", "subsidy_ledger": "就业补贴申领发放台账", "confirmations": "意愿确认回执",
          "social_security_cards": "社会保障卡持卡信息"}


def luhn_complete(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


# ---------------------------------------------------------------- strategies

ROW_KINDS_BAD = ["bad_id_sci", "bad_missing_name", "bad_date", "bad_enum"]


@st.composite
def row_styles(draw, allow_bad=True, allow_either=True):
    id_noise_pool = ID_OK_NOISE + (ID_EITHER_NOISE if allow_either else [])
    return dict(
        id_noise=draw(st.sampled_from(id_noise_pool)),
        uscc_noise=draw(st.sampled_from(["plain", "lower", "fullwidth", "spaces", "apostrophe"])),
        uscc_kind=draw(st.sampled_from(["enterprise", "digits", "individual"])),
        name_noise=draw(st.sampled_from(NAME_NOISE)),
        dot=draw(st.sampled_from(DOTS)),
        date_form=draw(st.sampled_from(DATE_FORMS)),
        month_form=draw(st.sampled_from(MONTH_FORMS)),
        thousands=draw(st.booleans()),
        want_x=draw(st.booleans()),
        bad=draw(st.sampled_from([None, None, None] + ROW_KINDS_BAD)) if allow_bad else None,
        days_back=draw(st.integers(0, 40)),
        variant=draw(st.integers(0, 5)),
    )


@st.composite
def file_plans(draw, source, snapshot=False):
    fmt = draw(st.sampled_from(["csv", "xlsx", "parquet"]))
    cols = [en for _, en in HEADERS[source]]
    return dict(
        source=source,
        fmt=fmt,
        encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])),
        lang=draw(st.sampled_from(["zh", "zh", "en"])),
        order=draw(st.permutations(cols)),
        extras=draw(st.lists(st.sampled_from(EXTRA_COLUMNS), max_size=2, unique=True)),
        title_row=draw(st.booleans()),
        rows=draw(st.lists(row_styles(allow_bad=not snapshot, allow_either=not snapshot),
                           min_size=0 if not snapshot else 1,
                           max_size=draw(st.sampled_from([0, 1, 3, 8])) if not snapshot else 4)),
        all_bad=(not snapshot) and draw(st.booleans()) and draw(st.booleans()),
    )


@st.composite
def month_plans(draw):
    plan = {s: draw(file_plans(s, snapshot=s in SNAPSHOTS)) for s in REQUIRED}
    for s in OPTIONAL:
        if draw(st.booleans()):
            plan[s] = draw(file_plans(s, snapshot=s in SNAPSHOTS))
    plan["repeat_graduates"] = draw(st.booleans())
    return plan


RUN_MONTHS = [f"2025-{m:02d}" for m in range(9, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]


# ---------------------------------------------------------------- writing

@dataclass
class FileExpect:
    file: str
    source: str
    rows: int = 0
    must_load: int = 0
    must_quarantine: int = 0


@dataclass
class MonthExpect:
    month: str
    files: dict = field(default_factory=dict)                 # file name -> FileExpect
    job_search: dict = field(default_factory=dict)            # canonical ID -> raw form written
    canonical_ids: set = field(default_factory=set)           # must-load canonical IDs/USCCs


class Pools:
    """Identities shared across the months of one sequence (so snapshots stay stable)."""

    def __init__(self):
        self.n = 1000
        self.snapshot_rows: dict = {}       # source -> list of (style, canon id) kept across months
        self.graduates_seen: list = []      # (canon, style) of earlier months' graduates

    def next(self) -> int:
        self.n += 1
        return self.n


def _apply_bad(row: dict, bad: str, source: str, month: str) -> bool:
    """Make a row quarantinable; returns False when this source has no such field."""
    id_field = {"employment_registration": "id_number", "hiring_filing": "id_number",
                "social_insurance": "id_number", "graduates": "id_number",
                "business_registration": "uscc", "deceased": "id_number",
                "subsidy_ledger": "beneficiary_id_number", "confirmations": "beneficiary_id"}.get(source)
    date_field = {"employment_registration": "registration_date", "hiring_filing": "contract_start",
                  "business_registration": "established_date",
                  "confirmations": "response_date"}.get(source)
    enum_field = {"employment_registration": "registration_type", "hiring_filing": "filing_type",
                  "social_insurance": "insured_type", "business_registration": "entity_type",
                  "graduates": "degree", "subsidy_ledger": "status", "confirmations": "response"}.get(source)
    y = int(month[:4])
    if bad == "bad_id_sci" and id_field:
        row[id_field] = noisy_code(row[id_field] if isinstance(row[id_field], str) and len(row[id_field]) == 18
                                   else make_id(7), "sci")
        return True
    if bad == "bad_date" and date_field:
        row[date_field] = f"{y}-02-30"
        if source == "hiring_filing":
            row["filing_date"] = f"{y}-02-30"
        return True
    if bad == "bad_enum" and enum_field:
        row[enum_field] = "未知类型"
        return True
    if source == "subsidy_ledger":
        row["amount"] = "-500.00"          # negative money outside social_insurance
        return True
    if id_field and source not in ("confirmations", "deceased"):
        row[id_field] = None              # missing required identifier
        return True
    return False


def build_rows(source: str, fplan: dict, month: str, pools: Pools, expect: MonthExpect):
    """Rows as dicts canonical-name -> value, plus per-row expectation ('load'|'quarantine'|'either')."""
    end = month_end(month)
    y, m = end.year, end.month
    fmt = fplan["fmt"]
    out = []
    styles = list(fplan["rows"])
    carried = []
    if source in SNAPSHOTS:
        carried = pools.snapshot_rows.setdefault(source, [])
        if not carried:
            carried.extend((s, pools.next()) for s in styles)
        elif source == "poverty_alleviation":
            carried.append((styles[0], pools.next()))      # the roster grows: each month's set differs
        seq = list(carried)
    else:
        seq = [(s, pools.next()) for s in styles]
        if source == "graduates" and fplan.get("repeat_graduates"):
            seq = [(s, n) for s, n in pools.graduates_seen[:2]] + seq
    for style, n in seq:
        d = end - dt.timedelta(days=style["days_back"])          # event dates: within or before the month
        D = lambda x: fmt_date(x, style["date_form"], fmt)     # noqa: E731
        birth, step = (dt.date(2001, 1, 1), 3) if source == "graduates" else (dt.date(1966, 1, 1), 11)
        canon = make_id(n, birth_from=birth, step=step, want_x=style["want_x"] or style["id_noise"] == "lower")
        idv = noisy_code(canon, style["id_noise"])
        firm_canon = make_uscc(n, style["uscc_kind"])
        firm = noisy_code(firm_canon, style["uscc_noise"])
        name = make_name(n, style["name_noise"], style["dot"])
        region = COUNTIES[n % len(COUNTIES)]
        phone = ["13912345678", "+86 139 1234 5678", "139-1234-5678", None][style["variant"] % 4]
        v = style["variant"]
        if source == "employment_registration":
            rt = ["就业登记", "失业登记", "就业登记注销", "失业登记注销"][v % 4]
            form = ["单位就业", "灵活就业", "自主创业", "公益性岗位"][v % 4] if rt == "就业登记" else None
            row = dict(id_number=idv, name=name, registration_type=rt, registration_date=D(d),
                       employment_form=form, employer_uscc=firm if form in ("单位就业", "公益性岗位") else None,
                       hardship_category=HARDSHIP_CAT[v % 7] if rt == "失业登记" and v % 2 else None,
                       phone=phone, region_code=region)
        elif source == "hiring_filing":
            ft = ["招用", "招用", "解除", "终止"][v % 4]
            start = d - dt.timedelta(days=30 * (v % 3))
            row = dict(employer_uscc=firm, employer_name=["内蒙古恒通商贸有限公司", "呼和浩特市远航科技有限责任公司（分公司）",
                                                          "包头市草原(蒙)餐饮有限公司"][v % 3],
                       id_number=idv, name=name, filing_type=ft, contract_start=D(start),
                       contract_end=None if v % 2 else D(start + dt.timedelta(days=730)),
                       contract_term_type="无固定期限" if v % 2 else "固定期限",
                       filing_date=D(d), region_code=region)
        elif source == "social_insurance":
            flex = v % 3 == 0
            cm_back = v % 3
            cy, cmm = divmod(y * 12 + m - 1 - cm_back, 12)
            base = 460000 + 1000 * v
            neg = -1 if v == 5 and not flex else 1                # a 冲正 row: negative amounts are valid here
            row = dict(id_number=idv, name=name, employer_uscc=None if flex else firm,
                       insured_type="灵活就业人员" if flex else "单位职工",
                       insurance_type=["110", "210", "310", "410"][v % 4],
                       contribution_month=fmt_month(cy, cmm + 1, style["month_form"]),
                       contribution_base=fmt_money(base, style["thousands"]),
                       employer_amount=fmt_money(0 if flex else neg * base * 16 // 100, style["thousands"]),
                       individual_amount=fmt_money(neg * base * 8 // 100, style["thousands"]),
                       credited_date=D(d), region_code=region)
        elif source == "business_registration":
            et = ["企业", "个体工商户", "农民专业合作社"][v % 3]
            st_ = ["存续", "在业", "吊销", "注销", "迁出", "存续"][v]
            row = dict(uscc=firm, name=["内蒙古恒通商贸有限公司", "赤峰市草原修理部", "包头市富民农牧业专业合作社"][v % 3],
                       entity_type=et, enterprise_scale=["小型", "微型", "中型", "大型", None][v % 5] if et == "企业" else None,
                       legal_rep_id_number=idv, legal_rep_name=name,
                       established_date=D(d - dt.timedelta(days=400 * (v % 3))),
                       status=st_, status_date=D(d) if st_ in ("吊销", "注销", "迁出") else None,
                       serious_dishonest=["否", "是"][v == 4], phone=phone, region_code=region)
        elif source == "graduates":
            gy = y if m <= 6 else y + 1                      # graduating year of run month
            gdate = dt.date(gy, 6, 30 - v)
            hard = ";".join(HARDSHIP_GRAD[v % 6: v % 6 + 1 + v % 2])
            row = dict(id_number=idv, name=name, school="内蒙古大学", degree=["专科", "本科", "硕士研究生", "博士研究生"][v % 4],
                       graduation_date=fmt_date(gdate, style["date_form"], fmt), hardship_types=hard,
                       region_code=region if v != 3 else "110105", school_region_code="150104", phone=phone)
            if style["bad"] is None and style["id_noise"] in ID_OK_NOISE and not fplan.get("all_bad"):
                if m >= 9 or m <= 6:                        # job_search months: Sept of Y-1 .. June of Y
                    expect.job_search[canon] = idv
            if (not fplan.get("all_bad") and style["bad"] is None and style["id_noise"] in ID_OK_NOISE
                    and (style, n) not in pools.graduates_seen):
                pools.graduates_seen.append((style, n))
        elif source == "poverty_alleviation":
            row = dict(id_number=idv, name=name, household_id=f"{region}{n:010d}", population_type=["脱贫人口", "防返贫监测对象"][v % 2],
                       is_labor_force=["是", "否"][v % 2], phone=phone, region_code=region)
        elif source == "fiscal_staff":
            row = dict(id_number=idv, name=name, work_unit="某旗人民医院", region_code=region)
        elif source == "deceased":
            row = dict(id_number=idv, name=name, death_date=D(d))
        elif source == "subsidy_ledger":
            pol = POLICIES[v]
            unit = v % 2 == 1
            applicant = firm if unit else idv
            status = ["已申请", "已受理", "已审核", "已拨付", "不予受理", "审核不通过"][v]
            ap = d - dt.timedelta(days=10)
            recurring = pol in ("hiring_social_insurance", "flexible_social_insurance")
            row = dict(application_id=f"ZB{month.replace('-', '')}{n:06d}", policy_code=pol,
                       applicant_type="单位" if unit else "个人", applicant_id=applicant,
                       beneficiary_id_number=idv,
                       subsidy_month=fmt_month(y, m, style["month_form"]) if recurring else None,
                       amount=fmt_money([150000, 137200, 74214, 500000, 200000, 123450][v], style["thousands"]),
                       apply_date=D(ap), accept_date=D(ap + dt.timedelta(days=2)) if v >= 1 else None,
                       review_date=D(ap + dt.timedelta(days=4)) if v in (2, 3, 5) else None,
                       pay_date=D(ap + dt.timedelta(days=6)) if v == 3 else None,
                       status=status, channel=["直补快办", "线上申领", "窗口申领"][v % 3],
                       handler_id_number=make_id(n, birth_from=dt.date(1975, 1, 1)), region_code=region)
            if unit and style["uscc_kind"] == "digits" and style["id_noise"] in ID_OK_NOISE:
                pass
        elif source == "confirmations":
            row = dict(notice_id=f"N{month.replace('-', '')}{n:06d}", notice_month=fmt_month(y, m, style["month_form"]),
                       beneficiary_id=idv, policy_code=POLICIES[v], response=["确认申领", "放弃", "信息有误"][v % 3],
                       response_date=D(d), account_type=["社会保障卡", "单位银行账户"][v % 2],
                       bank_name="中国农业银行" if v % 2 else None,
                       account_number="6228 4800 1234 5678 9" if v % 2 else None)
        elif source == "social_security_cards":
            acct = luhn_complete(f"62284800{n:09d}")
            row = dict(id_number=idv, name=name, card_number=f"K{n:08d}", bank_account=acct, bank_name="中国农业银行",
                       card_status=["正常", "挂失", "注销", "未激活金融功能"][v % 4], region_code=region)
        else:
            raise ValueError(source)
        bad = style["bad"] or ("bad_id_sci" if fplan.get("all_bad") else None)
        if source in SNAPSHOTS:
            bad = None
        if bad and _apply_bad(row, bad, source, month):
            verdict = "quarantine"
        elif style["id_noise"] in ID_EITHER_NOISE:
            verdict = "either"
        else:
            verdict = "load"
            if source not in ("subsidy_ledger", "confirmations") and "id_number" in row:
                expect.canonical_ids.add(canon)
        out.append((row, verdict))
    return out


def write_file(folder: Path, fplan: dict, rows: list[dict]) -> str:
    source, fmt, lang = fplan["source"], fplan["fmt"], fplan["lang"]
    cols = list(fplan["order"])
    header = [ZH[source][c] if lang == "zh" else c for c in cols] + list(fplan["extras"])

    def cells(r):
        return [r.get(c) for c in cols] + [f"x{i}" for i, _ in enumerate(fplan["extras"])]

    name = f"{source}.{fmt}"
    path = folder / name
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else str(v) for v in cells(r)])
        path.write_bytes(buf.getvalue().encode(fplan["encoding"]))
    elif fmt == "xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = TITLES[source][:31]
        if fplan["title_row"]:
            ws.append([TITLES[source]])
        ws.append(header)
        for r in rows:
            line = []
            for v in cells(r):
                line.append(v)
            ws.append([None if isinstance(v, ExcelDate) else v for v in line])
            rix = ws.max_row
            for j, v in enumerate(line, start=1):
                c = ws.cell(row=rix, column=j)
                if isinstance(v, ExcelDate):
                    c.value = (v.d - dt.date(1899, 12, 30)).days
                    c.number_format = "yyyy/m/d"
                elif isinstance(v, str):
                    c.number_format = "@"           # text cells: IDs stay text
        wb.save(path)
    else:
        data = {h: [None if cells(r)[i] is None else str(cells(r)[i]) for r in rows] for i, h in enumerate(header)}
        tbl = pa.table({h: pa.array(vals, type=pa.string()) for h, vals in data.items()})
        pq.write_table(tbl, path)
    return name


def write_month(folder: Path, month: str, plan: dict, pools: Pools) -> MonthExpect:
    folder.mkdir(parents=True, exist_ok=True)
    expect = MonthExpect(month)
    for source in REQUIRED + OPTIONAL:
        fplan = plan.get(source)
        if fplan is None:
            continue
        fplan = dict(fplan, repeat_graduates=plan.get("repeat_graduates", False))
        built = build_rows(source, fplan, month, pools, expect)
        name = write_file(folder, fplan, [r for r, _ in built])
        fe = FileExpect(name, source, rows=len(built),
                        must_load=sum(v == "load" for _, v in built),
                        must_quarantine=sum(v == "quarantine" for _, v in built))
        expect.files[name] = fe
    return expect


def describe(plan) -> str:
    return json.dumps(plan, ensure_ascii=False, default=str)
