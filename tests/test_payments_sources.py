"""The two optional sources of "From list to money" (extracts.md 10, 11): loaded from their
contract, account numbers typed and Luhn-checked, the beneficiary code read by the policy."""
import json
import shutil
from pathlib import Path

import pytest

from reports.parquet_out import read_quarantine
from schemas.gate import validate_month
from schemas.loader import load_month
from schemas.sources import SOURCES
from zhibu.warehouse import connect

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "incoming" / "2025-03"

CONFIRMATIONS = """告知编号,告知月份,受益主体证件号码,政策代码,确认结果,确认日期,收款账户类型,开户银行,银行账号
N1,202503,11010519491231002X,job_search,确认申领,2025-03-20,社会保障卡,,
N2,2025-03,123456789012345678,one_time_hiring,确认申领,2025/3/21,单位银行账户,工商银行,6222 0212-3456 789
N3,2025-03,123456789012345678,startup_one_time,放弃,2025-03-22,,,
N4,2025-03,91150100MA0N123450,hiring_social_insurance,信息有误,2025-03-22,单位银行账户,,12-34
N5,2025-03,,job_search,确认申领,2025-03-22,,,
N6,2025-03,11010519491231002X,startup_one_time,不知道,2025-03-22,,,
"""
CARDS = """公民身份号码,姓名,社会保障卡号,金融账户,开户银行,卡状态,行政区划代码
11010519491231002X,张三,A12345678,6222 0212 3456 7890 128,工商银行,正常,150102
110105194912310037,李四,A12345679,6222021234567890129,工商银行,挂失,150102
"""


@pytest.fixture
def loaded(tmp_path):
    inc = tmp_path / "in"
    shutil.copytree(SAMPLE, inc)
    (inc / "confirmations.csv").write_text(CONFIRMATIONS, encoding="utf-8")
    (inc / "social_security_cards.csv").write_text(CARDS, encoding="utf-8")
    con = connect(tmp_path / "w.duckdb")
    loads = {f.source: f for f in load_month(con, "2025-03", inc)}
    yield con, loads
    con.close()


def test_contract_declares_both_optional():
    assert not SOURCES["confirmations"].required and not SOURCES["social_security_cards"].required
    assert SOURCES["confirmations"].key == ("beneficiary_id", "policy_code", "notice_month")
    assert SOURCES["social_security_cards"].sensitive_columns == ["card_number", "bank_account"]


def test_loaded_typed_and_quarantined(loaded):
    con, loads = loaded
    c = loads["confirmations"]
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (6, 4, 2)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT notice_id, beneficiary_id, beneficiary_id_valid, account_number, account_number_valid "
        "FROM stg_confirmations").fetchall()}
    assert rows["N1"][:2] == ("11010519491231002X", True)
    # the same all-digit code: a valid USCC for a firm policy, an invalid ID for a person policy
    assert rows["N2"][:2] == ("123456789012345678", True)
    assert rows["N3"][:2] == ("123456789012345678", False)
    assert rows["N2"][2:] == ("622202123456789", True)        # spaces and dashes removed, 15 digits
    assert rows["N4"][2:] == ("1234", False)                  # too short for a bank account
    q = dict(con.execute("SELECT source_line, reason FROM quarantine WHERE source = 'confirmations'").fetchall())
    assert q == {6: "missing_required", 7: "bad_enum"}
    cards = con.execute("SELECT id_number, bank_account, bank_account_valid, card_status "
                        "FROM stg_social_security_cards ORDER BY id_number").fetchall()
    assert cards == [("11010519491231002X", "6222021234567890128", True, "正常"),
                     ("110105194912310037", "6222021234567890129", False, "挂失")]
    assert all(ch.success for ch in validate_month(con, "2025-03", raise_on_failure=False)
               if ch.source in ("confirmations", "social_security_cards"))


def test_quarantine_output_masks_account_numbers(loaded):
    con, _ = loaded
    con.execute("""INSERT INTO quarantine VALUES (DATE '2025-03-01', 'social_security_cards', 'c.csv', 9,
                   'bad_enum', 'bad_enum:card_status',
                   to_json({'card_number': 'A12345678', 'bank_account': '6222021234567890128', 'card_status': 'x'}))""")
    raws = [json.loads(r) for r in read_quarantine(con, "2025-03").column("raw").to_pylist()]
    card = next(r for r in raws if "bank_account" in r)
    assert card["bank_account"] == "*" * 15 + "0128" and card["card_number"] == "*****5678"
    assert "6222021234567890128" not in json.dumps(raws)
