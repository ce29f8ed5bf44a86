"""Comparison levels as tables: left value, right value, expected level (matchers.names/codes/levels)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchers import codes, levels, names
import duckdb

from matchers.persons import decide_sql, decisions_table, region_level_sql, score_sql
from matchers.review import Decisions

# ---------------------------------------------------------------------------------------------
# Person names: (left, right, expected level)
# ---------------------------------------------------------------------------------------------
PERSON_NAME_CASES = [
    ("王晓明", "王晓明", "exact"),
    ("張偉", "张伟", "exact"),                       # traditional vs simplified
    ("張 偉", "张伟", "exact"),                      # stray space
    ("巴特尔·朝鲁", "巴特尔朝鲁", "exact"),           # Mongolian name, dot vs no dot
    ("巴特尔•朝鲁", "巴特尔.朝鲁", "exact"),
    ("巴特尔・朝鲁", "巴特尔．朝鲁", "exact"),
    ("巴特爾·朝魯", "巴特尔朝鲁", "exact"),           # traditional + dot
    ("王晓明", "王小明", "homophone"),                # pinyin input error, the most common one
    ("王晓明", "汪晓明", "homophone"),                # surname is a homophone (wang/wang)
    ("单晓红", "善晓红", "homophone"),                # heteronym surname 单 (dan/shan)
    ("巴特尔朝鲁", "巴特儿朝鲁", "homophone"),        # transliteration written with another 字
    ("乌云其木格", "乌云琪木格", "homophone"),
    ("王晓明", "王晓鹏", "fuzzy"),                    # same surname, one character off
    ("王晓明", "王明", "fuzzy"),                      # dropped character
    ("欧阳晓明", "欧阳小明", "homophone"),            # compound surname
    ("王晓明", "李晓明", "else"),                     # different surname: never the same person
    ("王晓明", "李小明", "else"),
    ("张伟", "张强", "else"),                         # one-character given name, different
    ("王晓明", "赵丽", "else"),
    ("王晓明", None, "null"),
    (None, None, "null"),
    ("", "王晓明", "null"),
]


@pytest.mark.parametrize("left,right,expected", PERSON_NAME_CASES)
def test_person_name_level(left, right, expected):
    assert names.compare_person_names(left, right) == expected
    assert names.compare_person_names(right, left) == expected   # symmetric


def test_region_words_inside_a_firm_name_are_kept():
    assert names.normalise_firm_name("红旗机械有限公司") == "红旗机械有限公司"     # 红旗 is not a region
    assert names.normalise_firm_name("内蒙古红旗机械有限责任公司") == "红旗机械有限公司"


def test_name_display_form():
    assert names.display_person_name("巴特爾•朝魯") == "巴特尔·朝鲁"
    assert names.normalise_person_name("張 偉") == "张伟"


# ---------------------------------------------------------------------------------------------
# Firm names
# ---------------------------------------------------------------------------------------------
FIRM_NAME_CASES = [
    ("内蒙古华强商贸有限责任公司", "华强商贸有限公司", "exact"),
    ("呼和浩特市华强商贸有限公司", "内蒙古自治区华强商贸有限公司", "exact"),
    ("内蒙古蒙牛乳业（集团）股份有限公司", "蒙牛乳业(集团)股份有限公司", "exact"),   # full/half-width brackets
    ("土默特左旗草原牧业有限公司", "草原牧业有限公司", "exact"),                     # XX旗 prefix
    ("草原牧业有限公司（呼和浩特）", "草原牧业有限公司", "exact"),
    ("鄂爾多斯市東勝煤炭有限公司", "东胜煤炭有限公司", "exact"),                      # traditional
    ("华强商贸物流配送服务有限公司", "华强商贸物流配送服务部有限公司", "fuzzy_high"),
    ("华强商贸有限公司", "华强商贸发展有限公司", "fuzzy"),
    ("华强商贸有限公司", "华强商务有限公司", "fuzzy"),
    ("华强商贸有限公司", "宏达建材有限公司", "else"),
    (None, "华强商贸有限公司", "null"),
]


@pytest.mark.parametrize("left,right,expected", FIRM_NAME_CASES)
def test_firm_name_level(left, right, expected):
    assert names.compare_firm_names(left, right) == expected


# ---------------------------------------------------------------------------------------------
# Check characters and edits
# ---------------------------------------------------------------------------------------------
def test_id_check_digit_known_values():
    assert codes.id_valid("11010519491231002X")
    assert codes.id_valid("440524188001010014")
    assert not codes.id_valid("440524188001010015")


def test_uscc_check_char_known_values():
    assert codes.uscc_valid("91150100MA0N2XQ41P") == (codes.uscc_check_char("91150100MA0N2XQ41") == "P")
    assert codes.uscc_valid("91350100M000100Y43")
    assert not codes.uscc_valid("91350100M000100Y44")


EDIT_CASES = [
    ("150102199001011234", "150102199001011234", "else"),
    ("150102199001011234", "150102199001011235", "substitution@18"),
    ("150102199001011234", "150102199001011324", "transposition@16"),
    ("150102199001011234", "150102199001012235", "two_edits"),
    ("150102199001011234", "150103199101011235", "else"),
]


@pytest.mark.parametrize("left,right,expected", EDIT_CASES)
def test_edit_kind(left, right, expected):
    assert codes.edit_kind(left, right) == expected


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"15[0-9]{4}19[5-9][0-9](0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True),
       st.integers(0, 17), st.integers(1, 9))
def test_every_single_typo_is_one_edit_from_the_true_id(prefix17, pos, delta):
    true_id = prefix17 + codes.id_check_char(prefix17)
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    current = alphabet.index(true_id[pos]) if true_id[pos] in alphabet else 0
    typo = true_id[:pos] + alphabet[(current + delta) % len(alphabet)] + true_id[pos + 1:]
    assert typo != true_id and not codes.id_valid(typo)       # MOD 11-2 catches every single substitution
    assert true_id in codes.one_edit_variants(typo, "0123456789", "0123456789X")


# ---------------------------------------------------------------------------------------------
# Scores, bands and levels as data
# ---------------------------------------------------------------------------------------------
def test_levels_are_well_formed():
    for comp in levels.PERSON_COMPARISONS + levels.FIRM_COMPARISONS:
        real = [lv for lv in comp.levels if not lv.null]
        assert abs(sum(lv.m for lv in real) - 1) < 1e-9, comp.field
        assert all(0 < lv.m <= 1 and 0 < lv.u for lv in real), comp.field
    assert 0 < levels.REVIEW < levels.ACCEPT < 1


REGION_CASES = [(["150102"], ["150102", "150203"], "same_county"),
                (["150102"], ["150105"], "same_league"),
                (["150102"], ["152502"], "else"),
                ([], ["150102"], "null")]


@pytest.mark.parametrize("left,right,expected", REGION_CASES)
def test_region_level(left, right, expected):
    con = duckdb.connect()
    got = con.execute(f"SELECT {region_level_sql('$l::VARCHAR[]', '$r::VARCHAR[]')}", {"l": left, "r": right}).fetchall()
    assert got[0][0] == expected


FIELDS = [c.field for c in levels.PERSON_COMPARISONS]


def decide_labels(candidates: list[dict]) -> tuple[str, int, list[float]]:
    """Score and decide one bad-ID record with these candidates' labels through the production SQL."""
    con = duckdb.connect()
    cols = ", ".join(f"l_{f} VARCHAR" for f in FIELDS)
    con.execute(f"""CREATE TABLE pairs (pair_id BIGINT, rid BIGINT, raw_id VARCHAR, name VARCHAR, candidate VARCHAR,
                    block VARCHAR, {cols}, score DOUBLE, veto BOOLEAN, agreed VARCHAR, labels VARCHAR)""")
    con.execute("CREATE TABLE residue AS SELECT 1::BIGINT AS rid, 'X' AS raw_id, 'N' AS name")
    for i, lab in enumerate(candidates):
        base = {"name": "exact", "id_edit": "one_edit", "birth_date": "exact", "sex": "exact",
                "region": "same_county", "phone": "null", "employer": "null", "school": "null",
                "household": "null", **lab}
        con.execute(f"INSERT INTO pairs VALUES (?, 1, 'X', 'N', ?, 'id_one_edit', {', '.join('?' * len(FIELDS))}, "
                    "0, false, '', '')", [i + 1, f"C{i}"] + [base[f] for f in FIELDS])
    s = score_sql(levels.PERSON_COMPARISONS, levels.PERSON_BLOCKING)
    con.execute(f"UPDATE pairs SET score = {s['score']}, veto = {s['veto']}, agreed = {s['agreed']}")
    decisions_table(con, Decisions())
    decide_sql(con, kind="person", residue="residue", pairs="pairs", raw_col="raw_id", name_col="name",
               valid_code="true", out="decided")
    rows = con.execute("SELECT verdict, score FROM decided ORDER BY score DESC").fetchall()
    scores = [r[0] for r in con.execute("SELECT score FROM pairs ORDER BY pair_id").fetchall()]
    if not rows:
        return "unlinked", 0, scores
    assert len({r[0] for r in rows}) == 1
    return rows[0][0], len(rows), scores


# (candidate labels..., expected decision)
DECISION_CASES = [
    ([{"name": "exact"}], "link"),
    ([{"name": "exact", "region": "else"}], "link"),
    ([{"name": "exact", "region": "null"}], "link"),
    ([{"name": "homophone"}], "link"),
    ([{"name": "homophone", "region": "else", "birth_date": "else"}], "review"),
    ([{"name": "fuzzy", "region": "null"}], "review"),
    ([{"name": "else"}], "unlinked"),                                  # one digit apart, different name
    ([{"name": "else", "phone": "exact"}], "unlinked"),                # veto holds whatever else agrees
    ([{"name": "exact"}, {"name": "exact"}], "review"),                # two plausible owners
    ([{"name": "homophone"}, {"name": "exact"}], "review"),            # still two plausible owners
    ([{"name": "exact"}, {"name": "else"}], "link"),                   # decoy with another name is no rival
    ([{"name": "null", "region": "same_county"}], "review"),           # no name (subsidy ledger)
    ([{"name": "null", "region": "else"}], "unlinked"),
]


@pytest.mark.parametrize("labels,expected", DECISION_CASES)
def test_decision_bands(labels, expected):
    verdict, n_rows, scores = decide_labels(labels)
    assert verdict == expected, scores
    assert all(0.0 <= x <= 1.0 for x in scores)
    if expected == "review" and len(labels) == 2:
        assert n_rows == 2                                              # both owners side by side


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_sql_variant_generator_equals_the_python_definition(data):
    """codes.variants_sql (arithmetic check filter) = every one-edit variant that passes the check."""
    kind = data.draw(st.sampled_from(["id", "uscc"]))
    if kind == "id":
        body = data.draw(st.from_regex(r"[0-9]{17}", fullmatch=True))
        valid_code = body + codes.id_check_char(body)
        alphabet, last, is_valid = "0123456789", "0123456789X", codes.id_valid
    else:
        body = data.draw(st.from_regex(r"[0-9A-HJ-NPQRTUWXY]{17}", fullmatch=True))
        valid_code = body + codes.uscc_check_char(body)
        alphabet, last, is_valid = codes.USCC_ALPHABET, codes.USCC_ALPHABET, codes.uscc_valid
    bad = data.draw(st.sampled_from(sorted(v for v in codes.one_edit_variants(valid_code, alphabet, last)
                                           if not is_valid(v))))
    expected = {v for v in codes.one_edit_variants(bad, alphabet, last) if is_valid(v)}
    con = duckdb.connect()
    con.execute("CREATE TABLE bad AS SELECT ? AS raw_id", [bad])
    con.execute("CREATE TABLE known (code VARCHAR)")
    con.executemany("INSERT INTO known VALUES (?)", [[v] for v in sorted(expected)] + [[valid_code]])
    got = {r[1] for r in con.execute(codes.variants_sql("bad", "raw_id", "known", kind)).fetchall()}
    assert got == expected
    assert valid_code in got
