"""The SQL normalisers agree with python-stdnum and handle every noise kind of extracts.md."""
import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings, strategies as st
from stdnum.cn import ric, uscc

from zhibu.warehouse import NORMALISE_SQL

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(NORMALISE_SQL.read_text(encoding="utf-8"))
    return c


def one(con, sql, *params):
    return con.execute(f"SELECT {sql}", list(params)).fetchone()[0]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_id_check_digit_agrees_with_stdnum(con, body):
    expected = ric.calc_check_digit(body + "0")
    assert one(con, "zb_id_check(?)", body) == expected
    assert one(con, "zb_id_valid(?)", body + expected) is True


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_char_agrees_with_stdnum(con, body):
    expected = uscc.calc_check_digit(body)
    assert one(con, "zb_uscc_check(?)", body) == expected
    assert one(con, "zb_uscc_valid(?)", body + expected) is True


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_id_validity_matches_stdnum_on_random_input(con, body, last):
    number = body + last
    try:
        ric.validate(number)
        stdnum_ok = True
    except Exception:
        stdnum_ok = False
    # stdnum also checks the birth date; the check digit alone is what the SQL flags.
    if stdnum_ok:
        assert one(con, "zb_id_valid(?)", number) is True
    assert one(con, "zb_id_valid(?)", number) == (ric.calc_check_digit(body + "0") == last)


@pytest.mark.parametrize("written, canonical", [
    ("11010519491231002x", "11010519491231002X"),                 # lower-case x
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),   # full-width digits
    (" 110105 19491231002X\t", "11010519491231002X"),             # spaces and tabs
    ("'11010519491231002X", "11010519491231002X"),                # Excel text marker
    ("110105491231002", "11010519491231002X"),                    # 15-digit legacy ID
])
def test_id_noise_is_normalised(con, written, canonical):
    assert one(con, "zb_id(?)", written) == canonical
    assert one(con, "zb_id_valid(zb_id(?))", written) is True


def test_fifteen_digit_conversion_matches_stdnum(con):
    legacy = "110105491231002"
    eighteen = legacy[:6] + "19" + legacy[6:]
    assert one(con, "zb_id(?)", legacy) == eighteen + ric.calc_check_digit(eighteen + "0")


def test_scientific_notation_id_is_flagged_unrecoverable(con):
    assert one(con, "zb_id_problem(?)", "1.50102E+17") == "id_scientific_notation"
    assert one(con, "zb_id(?)", "1.50102E+17") is None


def test_typo_id_keeps_shape_but_fails_check(con):
    typo = "11010519491231003X"
    assert one(con, "zb_id(?)", typo) == typo
    assert one(con, "zb_id_valid(?)", typo) is False
    assert one(con, "zb_id_problem(?)", typo) is None     # kept, not quarantined


def test_uscc_noise(con):
    assert one(con, "zb_uscc(?)", " 91350100m000100y43") == "91350100M000100Y43"
    assert one(con, "zb_uscc(?)", "９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert one(con, "zb_uscc_valid(zb_uscc(?))", "91350100M000100Y44") is False


@pytest.mark.parametrize("written, canonical", [
    ("张 伟", "张伟"), ("张\u3000伟", "张伟"), ("巴特尔·朝鲁", "巴特尔·朝鲁"), ("巴特尔•朝鲁", "巴特尔·朝鲁"),
    ("巴特尔・朝鲁", "巴特尔·朝鲁"), ("巴特尔.朝鲁", "巴特尔·朝鲁"), ("巴特尔．朝鲁", "巴特尔·朝鲁"),
    ("巴特尔朝鲁", "巴特尔朝鲁"),
])
def test_names(con, written, canonical):
    assert one(con, "zb_name(?)", written) == canonical


@pytest.mark.parametrize("written", ["2026-10-15", "2026/10/15", "20261015", "2026年10月15日",
                                     "46310", "2026-10-15 00:00:00"])
def test_dates(con, written):
    assert one(con, "zb_date(?)", written) == dt.date(2026, 10, 15)


def test_unpadded_date(con):
    assert one(con, "zb_date(?)", "2026/1/5") == dt.date(2026, 1, 5)


@pytest.mark.parametrize("written", ["2026-02-30", "15/10/2026", "soon"])
def test_bad_dates(con, written):
    assert one(con, "zb_date(?)", written) is None


@pytest.mark.parametrize("written", ["202610", "2026-10", "2026/10", "2026年10月"])
def test_months(con, written):
    assert one(con, "zb_month(?)", written) == dt.date(2026, 10, 1)


@pytest.mark.parametrize("written, value", [("1,234.50", Decimal("1234.50")), ("12", Decimal("12.00")),
                                            ("１２３.４", Decimal("123.40")), ("¥88", Decimal("88.00"))])
def test_money_is_exact_decimal(con, written, value):
    got = one(con, "zb_money(?)", written)
    assert isinstance(got, Decimal) and got == value


@pytest.mark.parametrize("written, value", [("+86 138-1234-5678", "13812345678"), ("138 1234 5678", "13812345678"),
                                            ("8613812345678", "13812345678"), ("12345", None), ("0471-1234567", None)])
def test_phones(con, written, value):
    assert one(con, "zb_phone(?)", written) == value


def test_league_of_region(con):
    assert one(con, "zb_league(?)", "150102") == "150100"
    assert one(con, "zb_league(?)", "152201") == "152200"


# The UTF-8 check that runs beside DuckDB's parse validates with Arrow, chunk by chunk: it must
# judge every byte string as Python's strict decoder does, wherever the chunks are cut.
_utf8ish = st.lists(st.one_of(st.text(max_size=6).map(lambda t: t.encode("utf-8", "surrogatepass")),
                              st.binary(max_size=3)), max_size=12).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(data=_utf8ish, cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=4))
def test_utf8_validator_agrees_with_strict_decoding(data, cuts):
    from schemas.readers import _Utf8Validator
    try:
        data.decode("utf-8")
        expected = True
    except UnicodeDecodeError:
        expected = False
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    v = _Utf8Validator()
    try:
        for a, b in zip(bounds, bounds[1:]):
            v.decode(data[a:b])
        v.decode(b"", final=True)
        got = True
    except UnicodeDecodeError:
        got = False
    assert got == expected
