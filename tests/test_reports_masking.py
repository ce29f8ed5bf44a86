import re

import pytest

from reports.masking import mask_id, mask_name, mask_phone, mask_text
from test_reports_data import ELIG_ROWS, MONTH, P1, publish, warehouse  # noqa: F401


@pytest.mark.parametrize("raw,masked", [
    ("15010219950101123X", "150102********123X"),
    ("91150102MA0N000001", "911501********0001"),
    (None, ""),
    ("", ""),
    ("1234", "****"),
])
def test_mask_id(raw, masked):
    assert mask_id(raw) == masked


@pytest.mark.parametrize("raw,masked", [
    ("张三伟", "张*伟"), ("张伟", "张*"), ("巴特尔·朝鲁", "巴****鲁"), ("欧阳娜娜", "欧**娜"),
    ("王", "*"), (None, ""),
])
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked


@pytest.mark.parametrize("raw,masked", [
    ("13812345678", "138****5678"), ("+86 138-1234-5678", "138****5678"), (None, ""),
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


def test_mask_text_scrubs_ids_and_phones():
    s = mask_text(f"身份证{P1},电话13812345678;金额1500")
    assert P1 not in s and "13812345678" not in s
    assert P1[:6] + "********" + P1[-4:] in s and "138****5678" in s
    assert "1500" in s


def test_report_contains_no_personal_data(warehouse, tmp_path):  # noqa: F811
    out = publish(warehouse, tmp_path / "out")
    html = (out / "report.html").read_text(encoding="utf-8")
    for r in ELIG_ROWS:
        for v in (r[3], r[5]):          # beneficiary_id, person_id_number
            assert v not in html
        if r[15] and re.fullmatch(r"1\d{10}", r[15]):
            assert r[15] not in html
        for name in (r[6],):            # person names (firm names are not personal data)
            if len(name) >= 2 and name.isalpha():
                assert name not in html, name
    assert not re.search(r"(?<![0-9A-Za-z*])\d{17}[\dX](?![0-9A-Za-z])", html)
    assert "150102********" in html       # masked IDs do appear (verification examples)
    assert MONTH in html
