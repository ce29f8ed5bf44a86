"""The data contract of every source, stated once (../shared/spec/extracts.md).

Loading, quarantine rules, the Great Expectations suite and the docs are all generated from
these declarations, so a header or an enum value changes here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds understood by the normaliser (schemas/normalise.sql macros).
KINDS = {"id", "uscc", "id_or_uscc", "text", "name", "enum", "date", "month", "money",
         "bool", "list", "phone", "region", "code", "account"}
# `account`: a bank or card account number (银行账号, 金融账户). Spaces and dashes removed, digits
# only, `digits` = (min, max) length, `luhn` = the card's check digit; typed with a `<col>_valid`
# flag like an ID (a bad account is loaded, flagged and never paid to, not quarantined). As
# sensitive as an ID: masked everywhere but the payment batch, never logged.


@dataclass(frozen=True)
class Column:
    name: str                      # canonical (English) name
    header: str                    # header as the source system exports it
    kind: str
    required: bool = False
    values: tuple[str, ...] = ()   # allowed values for enum / list / code
    required_when: str | None = None   # SQL over typed columns: required only when this holds
    note: str = ""
    event: bool = False            # a date the month's events happen on: never after the run month
    signed: bool = False           # money that may be negative (冲正 rows of social insurance only)
    digits: tuple[int, int] = ()   # account: (min, max) number of digits
    luhn: bool = False             # account: Luhn (mod 10) check digit
    sensitive: bool = False        # card/account numbers: masked in every output but the payment batch
    # id_or_uscc: the SQL (over the row's raw columns) that makes the code a USCC, and the one
    # that makes it a citizen ID; the row's other column decides, never the code's shape.
    firm_when: str | None = None
    person_when: str | None = None

    def __post_init__(self):
        assert self.kind in KINDS, self.kind


@dataclass(frozen=True)
class Source:
    name: str
    title: str                     # Chinese name of the extract
    department: str
    kind: str                      # 'delta' or 'snapshot'
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()      # later rows supersede earlier ones by this key
    required: bool = True          # needed for a full run
    aliases: dict[str, str] = field(default_factory=dict)   # extra accepted headers

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def sensitive_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.sensitive or c.kind == "account"]

    @property
    def id_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind in ("id", "uscc", "id_or_uscc")]

    def header_map(self) -> dict[str, str]:
        """Every accepted header (Chinese, canonical English, aliases) → canonical name."""
        m = {}
        for c in self.columns:
            m[c.header] = c.name
            m[c.name] = c.name
        m.update(self.aliases)
        return m


REG_TYPES = ("就业登记", "失业登记", "就业登记注销", "失业登记注销")
EMPLOYMENT_FORMS = ("单位就业", "灵活就业", "自主创业", "公益性岗位")
HARDSHIP_CATEGORIES = ("大龄失业人员", "残疾人", "零就业家庭成员", "低保家庭成员", "长期失业人员",
                       "脱贫人口", "其他就业困难人员")
STUDENT_HARDSHIP = ("低保家庭", "脱贫家庭", "防返贫监测对象", "特困人员", "残疾", "国家助学贷款")
# 510 生育保险 is not in the extract contract but policies.md names it ("not 410/510"): accepted
# so that such rows are loaded (and ignored by every rule) rather than quarantined.
INSURANCE_TYPES = ("110", "210", "310", "410", "510")
POLICY_CODES = ("one_time_hiring", "hiring_social_insurance", "flexible_social_insurance",
                "startup_one_time", "job_search", "job_retention_refund")
LEDGER_STATUS = ("已申请", "已受理", "已审核", "已拨付", "不予受理", "审核不通过")
# Policies whose beneficiary is a firm (a USCC in confirmations); the others pay a person.
FIRM_POLICY_CODES = ("one_time_hiring", "hiring_social_insurance", "job_retention_refund")
CONFIRMATION_RESPONSES = ("确认申领", "放弃", "信息有误")
CARD_STATUS = ("正常", "挂失", "注销", "未激活金融功能")
_FIRM_POLICY_SQL = "trim(policy_code) IN (" + ", ".join(f"'{c}'" for c in FIRM_POLICY_CODES) + ")"
_PERSON_POLICY_SQL = "trim(policy_code) IN (" + ", ".join(
    f"'{c}'" for c in POLICY_CODES if c not in FIRM_POLICY_CODES) + ")"

C = Column

SOURCES: dict[str, Source] = {s.name: s for s in [
    Source(
        "employment_registration", "就业失业登记", "就业服务系统", "delta",
        "one row per registration event (person × type × date)",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name", required=True),
            C("registration_type", "登记类型", "enum", required=True, values=REG_TYPES),
            C("registration_date", "登记日期", "date", required=True, event=True),
            C("employment_form", "就业形式", "enum", values=EMPLOYMENT_FORMS,
              note="only for 就业登记"),
            C("employer_uscc", "用人单位统一社会信用代码", "uscc", note="for 单位就业 / 公益性岗位"),
            C("hardship_category", "就业困难人员类别", "enum", values=HARDSHIP_CATEGORIES),
            C("phone", "联系电话", "phone"),
            C("region_code", "行政区划代码", "region", required=True),
        ),
        key=("id_number", "registration_type", "registration_date"),
    ),
    Source(
        "hiring_filing", "用工备案", "劳动关系系统", "delta",
        "one row per filing event (firm × person × type × date)",
        (
            C("employer_uscc", "用人单位统一社会信用代码", "uscc", required=True),
            C("employer_name", "用人单位名称", "text", required=True),
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name", required=True),
            C("filing_type", "备案类型", "enum", required=True, values=("招用", "解除", "终止")),
            C("contract_start", "劳动合同起始日期", "date", required_when="filing_type = '招用'"),
            C("contract_end", "劳动合同终止日期", "date", note="empty = open-ended"),
            C("contract_term_type", "合同期限类型", "enum",
              values=("固定期限", "无固定期限", "以完成一定工作任务为期限")),
            C("filing_date", "备案日期", "date", event=True, required_when="filing_type IN ('解除', '终止')"),
            C("region_code", "行政区划代码", "region", required=True),
        ),
        key=("employer_uscc", "id_number", "filing_type", "contract_start", "filing_date"),
    ),
    Source(
        "social_insurance", "社保参保缴费", "社会保险经办机构", "delta",
        "one row per person × employer × insurance type × contribution month, credited in the extract month",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name", required=True),
            C("employer_uscc", "单位统一社会信用代码", "uscc", note="empty for 灵活就业人员"),
            C("insured_type", "参保身份", "enum", required=True, values=("单位职工", "灵活就业人员")),
            C("insurance_type", "险种类型", "code", required=True, values=INSURANCE_TYPES),
            C("contribution_month", "费款所属期", "month", required=True),
            C("contribution_base", "缴费基数", "money", signed=True),
            C("employer_amount", "单位缴费金额", "money", signed=True),
            C("individual_amount", "个人缴费金额", "money", signed=True),
            C("credited_date", "到账日期", "date", event=True),
            C("region_code", "行政区划代码", "region", required=True),
        ),
        key=("id_number", "employer_uscc", "insurance_type", "contribution_month"),
    ),
    Source(
        "business_registration", "经营主体登记注册", "市场监管部门", "delta",
        "one row per entity (latest state by uscc)",
        (
            C("uscc", "统一社会信用代码", "uscc", required=True),
            C("name", "主体名称", "text", required=True),
            C("entity_type", "主体类型", "enum", values=("企业", "个体工商户", "农民专业合作社")),
            C("enterprise_scale", "企业规模", "enum", values=("大型", "中型", "小型", "微型")),
            C("legal_rep_id_number", "法定代表人（经营者）证件号码", "id"),
            C("legal_rep_name", "法定代表人（经营者）姓名", "name"),
            C("established_date", "成立日期", "date", required=True, event=True),
            C("status", "登记状态", "enum", values=("存续", "在业", "吊销", "注销", "迁出")),
            C("status_date", "状态变更日期", "date"),
            C("serious_dishonest", "严重违法失信", "bool"),
            C("phone", "联系电话", "phone"),
            C("region_code", "行政区划代码", "region", required=True),
        ),
        key=("uscc",),
        aliases={"法定代表人(经营者)证件号码": "legal_rep_id_number",
                 "法定代表人(经营者)姓名": "legal_rep_name"},
    ),
    Source(
        "graduates", "高校毕业生", "教育部门", "delta",
        "one row per graduate (latest by id_number)",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name", required=True),
            C("school", "院校名称", "text"),
            C("degree", "学历层次", "enum", values=("专科", "本科", "硕士研究生", "博士研究生")),
            C("graduation_date", "毕业日期", "date"),
            C("hardship_types", "困难类别", "list", values=STUDENT_HARDSHIP),
            # 生源地 may be outside Inner Mongolia: validated as a 6-digit code only.
            C("region_code", "生源地行政区划代码", "region"),
            # optional: where the school is, so a student from outside the region reaches the
            # bureau of the school's league (outputs.md, routing).
            C("school_region_code", "院校所在地行政区划代码", "region"),
            C("phone", "联系电话", "phone"),
        ),
        key=("id_number",),
    ),
    Source(
        "poverty_alleviation", "脱贫人口", "乡村振兴部门", "snapshot",
        "one row per person on the roster",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name", required=True),
            C("household_id", "户编号", "text"),
            C("population_type", "人员类型", "enum", values=("脱贫人口", "防返贫监测对象")),
            C("is_labor_force", "是否劳动力", "bool"),
            C("phone", "联系电话", "phone"),
            C("region_code", "行政区划代码", "region", required=True),
        ),
        key=("id_number",),
    ),
    Source(
        "fiscal_staff", "财政供养人员", "财政部门", "snapshot",
        "one row per person on the fiscal payroll (exclusion list)",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name"),
            C("work_unit", "工作单位", "text"),
            C("region_code", "行政区划代码", "region"),
        ),
        key=("id_number",),
    ),
    Source(
        "deceased", "死亡人员", "民政/公安部门", "delta",
        "one row per deceased person",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name"),
            C("death_date", "死亡日期", "date", required=True, event=True),
        ),
        key=("id_number",),
        required=False,
    ),
    Source(
        "subsidy_ledger", "就业补贴申领发放台账", "补贴经办系统", "delta",
        "one row per application (latest state by application_id)",
        (
            C("application_id", "业务流水号", "text", required=True),
            C("policy_code", "政策代码", "enum", required=True, values=POLICY_CODES),
            C("applicant_type", "申领主体类型", "enum", values=("个人", "单位")),
            C("applicant_id", "申领主体证件号码", "id_or_uscc"),
            C("beneficiary_id_number", "受益人员身份证号", "id"),
            C("subsidy_month", "补贴所属期", "month"),
            C("amount", "补贴金额", "money"),
            C("apply_date", "申请日期", "date", event=True),
            C("accept_date", "受理日期", "date"),
            C("review_date", "审核日期", "date"),
            C("pay_date", "拨付日期", "date"),
            C("status", "办理状态", "enum", required=True, values=LEDGER_STATUS),
            C("channel", "经办渠道", "enum", values=("直补快办", "线上申领", "窗口申领")),
            C("handler_id_number", "经办人身份证号", "id"),
            C("region_code", "行政区划代码", "region"),
        ),
        key=("application_id",),
    ),
    # ---- From list to money (outputs.md): optional; a run without them is unchanged.
    Source(
        "confirmations", "意愿确认回执", "政策推送平台", "delta",
        "one row per answer to a notice (beneficiary × policy × notice month; a later answer supersedes)",
        (
            C("notice_id", "告知编号", "text", note="as written in notices.csv, when the platform keeps it"),
            C("notice_month", "告知月份", "month", required=True),
            C("beneficiary_id", "受益主体证件号码", "id_or_uscc", required=True,
              firm_when=_FIRM_POLICY_SQL, person_when=_PERSON_POLICY_SQL,
              note="a USCC for firm subsidies: the policy decides, never the shape"),
            C("policy_code", "政策代码", "enum", required=True, values=POLICY_CODES),
            C("response", "确认结果", "enum", required=True, values=CONFIRMATION_RESPONSES),
            C("response_date", "确认日期", "date", required=True, event=True),
            C("account_type", "收款账户类型", "enum", values=("社会保障卡", "单位银行账户")),
            C("bank_name", "开户银行", "text"),
            C("account_number", "银行账号", "account", digits=(8, 30), note="firms"),
        ),
        key=("beneficiary_id", "policy_code", "notice_month"),
        required=False,
    ),
    Source(
        "social_security_cards", "社会保障卡持卡信息", "社会保障卡管理系统", "snapshot",
        "one row per card holder",
        (
            C("id_number", "公民身份号码", "id", required=True),
            C("name", "姓名", "name", required=True),
            C("card_number", "社会保障卡号", "text", required=True, sensitive=True),
            C("bank_account", "金融账户", "account", digits=(16, 19), luhn=True),
            C("bank_name", "开户银行", "text"),
            C("card_status", "卡状态", "enum", values=CARD_STATUS),
            C("region_code", "行政区划代码", "region"),
        ),
        key=("id_number",),
        required=False,
    ),
]}

SOURCE_ORDER = list(SOURCES)
