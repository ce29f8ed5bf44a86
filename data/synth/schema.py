"""The extract contract as the generator writes it: per source the Chinese header, canonical
name and value type of every column (from shared/spec/extracts.md), plus which person/firm
identifiers each row carries (for the record truth)."""
from __future__ import annotations

# type codes: id, uscc, applicant (ID or USCC), name, firm_name, text, enum, date, month,
# money, phone, region, bool, list
SOURCES: dict[str, list[tuple[str, str, str]]] = {
    "employment_registration": [
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"),
        ("registration_type", "登记类型", "enum"), ("registration_date", "登记日期", "date"),
        ("employment_form", "就业形式", "enum"), ("employer_uscc", "用人单位统一社会信用代码", "uscc"),
        ("hardship_category", "就业困难人员类别", "enum"), ("phone", "联系电话", "phone"),
        ("region_code", "行政区划代码", "region"),
    ],
    "hiring_filing": [
        ("employer_uscc", "用人单位统一社会信用代码", "uscc"), ("employer_name", "用人单位名称", "firm_name"),
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"),
        ("filing_type", "备案类型", "enum"), ("contract_start", "劳动合同起始日期", "date"),
        ("contract_end", "劳动合同终止日期", "date"), ("contract_term_type", "合同期限类型", "enum"),
        ("filing_date", "备案日期", "date"), ("region_code", "行政区划代码", "region"),
    ],
    "social_insurance": [
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"),
        ("employer_uscc", "单位统一社会信用代码", "uscc"), ("insured_type", "参保身份", "enum"),
        ("insurance_type", "险种类型", "enum"), ("contribution_month", "费款所属期", "month"),
        ("contribution_base", "缴费基数", "money"), ("employer_amount", "单位缴费金额", "money"),
        ("individual_amount", "个人缴费金额", "money"), ("credited_date", "到账日期", "date"),
        ("region_code", "行政区划代码", "region"),
    ],
    "business_registration": [
        ("uscc", "统一社会信用代码", "uscc"), ("name", "主体名称", "firm_name"),
        ("entity_type", "主体类型", "enum"), ("enterprise_scale", "企业规模", "enum"),
        ("legal_rep_id_number", "法定代表人（经营者）证件号码", "id"),
        ("legal_rep_name", "法定代表人（经营者）姓名", "name"),
        ("established_date", "成立日期", "date"), ("status", "登记状态", "enum"),
        ("status_date", "状态变更日期", "date"), ("serious_dishonest", "严重违法失信", "bool"),
        ("phone", "联系电话", "phone"), ("region_code", "行政区划代码", "region"),
    ],
    "graduates": [
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"), ("school", "院校名称", "text"),
        ("degree", "学历层次", "enum"), ("graduation_date", "毕业日期", "date"),
        ("hardship_types", "困难类别", "list"), ("region_code", "生源地行政区划代码", "region"),
        ("phone", "联系电话", "phone"),
    ],
    "poverty_alleviation": [
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"), ("household_id", "户编号", "text"),
        ("population_type", "人员类型", "enum"), ("is_labor_force", "是否劳动力", "bool"),
        ("phone", "联系电话", "phone"), ("region_code", "行政区划代码", "region"),
    ],
    "fiscal_staff": [
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"), ("work_unit", "工作单位", "text"),
        ("region_code", "行政区划代码", "region"),
    ],
    "deceased": [
        ("id_number", "公民身份号码", "id"), ("name", "姓名", "name"), ("death_date", "死亡日期", "date"),
    ],
    "subsidy_ledger": [
        ("application_id", "业务流水号", "text"), ("policy_code", "政策代码", "enum"),
        ("applicant_type", "申领主体类型", "enum"), ("applicant_id", "申领主体证件号码", "applicant"),
        ("beneficiary_id_number", "受益人员身份证号", "id"), ("subsidy_month", "补贴所属期", "month"),
        ("amount", "补贴金额", "money"), ("apply_date", "申请日期", "date"),
        ("accept_date", "受理日期", "date"), ("review_date", "审核日期", "date"),
        ("pay_date", "拨付日期", "date"), ("status", "办理状态", "enum"), ("channel", "经办渠道", "enum"),
        ("handler_id_number", "经办人身份证号", "id"), ("region_code", "行政区划代码", "region"),
    ],
}

SOURCE_ORDER = list(SOURCES)
SNAPSHOTS = {"poverty_alleviation", "fiscal_staff"}

# identifier column -> the name column that goes with it (None: no name in the file)
ID_NAME_PAIRS: dict[str, dict[str, str | None]] = {
    "employment_registration": {"id_number": "name", "employer_uscc": None},
    "hiring_filing": {"id_number": "name", "employer_uscc": "employer_name"},
    "social_insurance": {"id_number": "name", "employer_uscc": None},
    "business_registration": {"uscc": "name", "legal_rep_id_number": "legal_rep_name"},
    "graduates": {"id_number": "name"},
    "poverty_alleviation": {"id_number": "name"},
    "fiscal_staff": {"id_number": "name"},
    "deceased": {"id_number": "name"},
    "subsidy_ledger": {"applicant_id": None, "beneficiary_id_number": None, "handler_id_number": None},
}

# Required columns (a blank one there is a planted quarantine case).
REQUIRED = {
    "employment_registration": ["id_number", "name", "registration_date", "region_code"],
    "hiring_filing": ["employer_uscc", "employer_name", "id_number", "name", "region_code"],
    "social_insurance": ["id_number", "name", "region_code"],
    "business_registration": ["uscc", "name", "established_date", "region_code"],
    "graduates": ["id_number", "name"],
    "poverty_alleviation": ["id_number", "name", "region_code"],
    "fiscal_staff": ["id_number", "name"],
    "deceased": ["id_number", "name"],
    "subsidy_ledger": ["application_id"],
}

ENUM_BAD_VALUE = {
    "employment_registration": ("registration_type", "临时登记"),
    "hiring_filing": ("filing_type", "借调"),
    "social_insurance": ("insurance_type", "999"),
    "business_registration": ("status", "休眠"),
    "graduates": ("degree", "博士后"),
    "poverty_alleviation": ("population_type", "低收入人口"),
    "subsidy_ledger": ("status", "已作废"),
}

# default file format per source (cycled per month so every format/encoding appears)
FORMAT_PLAN: dict[str, list[tuple[str, str]]] = {
    "social_insurance": [("csv", "utf-8")],
    "employment_registration": [("csv", "gb18030"), ("csv", "utf-8"), ("xlsx", "")],
    "hiring_filing": [("csv", "utf-8-sig"), ("xlsx", ""), ("csv", "gb18030")],
    "business_registration": [("parquet", ""), ("csv", "utf-8"), ("xlsx", "")],
    "graduates": [("xlsx", ""), ("csv", "gb18030")],
    "poverty_alleviation": [("csv", "utf-8-sig"), ("parquet", "")],
    "fiscal_staff": [("csv", "gb18030"), ("xlsx", "")],
    "deceased": [("csv", "utf-8"), ("parquet", ""), ("csv", "utf-8-sig")],
    "subsidy_ledger": [("xlsx", ""), ("csv", "utf-8-sig")],
}
