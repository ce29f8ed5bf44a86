"""Chinese person- and firm-name normalisation and comparison (applied to the residue only).

Person names: NFKC, traditional → simplified (OpenCC t2s), spaces and separator dots removed
(`巴特尔·朝鲁` = `巴特尔朝鲁`). Comparison levels (see levels.PERSON_COMPARISONS['name']):
  exact      equal after normalisation (张偉 = 张伟, 巴特尔•朝鲁 = 巴特尔朝鲁)
  homophone  same length, every character equal or sharing a pinyin reading (tones ignored,
             heteronyms allowed: 单 = dan/shan/chan) — the surname is the first position, so it
             must agree or be a homophone of it (王晓明 ~ 王小明; 王晓明 !~ 汪晓明 is homophone too,
             since 王/汪 both read wang)
  fuzzy      surname agrees (or is a homophone) and the rest is close (rapidfuzz on characters
             or on pinyin): 王晓明 ~ 王晓鹏, 王晓明 ~ 王明
  else       anything else

pypinyin is called once per distinct *character* (cached); OpenCC once per distinct name.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

from matchers import levels

_DOTS = re.compile(r"[·•・.．‧∙⋅･]")
_SPACES = re.compile(r"\s+")

_converter = None


def _t2s(text: str) -> str:
    global _converter
    if _converter is None:
        import opencc
        _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


@lru_cache(maxsize=1_000_000)
def normalise_person_name(name: str | None) -> str | None:
    """Comparison key of a person name: NFKC, t2s, no spaces, no separator dots. None if empty."""
    if name is None:
        return None
    text = unicodedata.normalize("NFKC", str(name))
    text = _SPACES.sub("", text)
    text = _DOTS.sub("", text)
    if not text:
        return None
    return _t2s(text)


@lru_cache(maxsize=1_000_000)
def display_person_name(name: str | None) -> str | None:
    """Canonical display form: t2s, no spaces, separator dots unified to `·`."""
    if name is None:
        return None
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(name)))
    text = _DOTS.sub("·", text).strip("·")
    return _t2s(text) if text else None


@lru_cache(maxsize=20_000)
def _readings(char: str) -> frozenset[str]:
    """All toneless pinyin readings of one character (the character itself if it has none)."""
    from pypinyin import Style, pinyin
    out = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")
    readings = frozenset(r.lower() for r in out[0]) if out and out[0] else frozenset()
    return readings or frozenset([char])


@lru_cache(maxsize=500_000)
def pinyin_key(key: str) -> str:
    """Toneless pinyin of a normalised name, most common reading per character ("wangxiaoming")."""
    from pypinyin import Style, lazy_pinyin
    return "".join(lazy_pinyin(key, style=Style.NORMAL))


def chars_homophone(a: str, b: str) -> bool:
    return a == b or bool(_readings(a) & _readings(b))


_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 呼延 "
    "万俟 闻人 澹台 公冶 宗政 濮阳 太叔 申屠 钟离 拓跋 百里 东郭 西门 第五".split()
)


def surname_length(key: str) -> int:
    return 2 if key[:2] in _COMPOUND_SURNAMES and len(key) > 2 else 1


@lru_cache(maxsize=1_000_000)
def _compare_keys(a: str, b: str) -> str:
    if a == b:
        return "exact"
    if len(a) == len(b) and all(chars_homophone(x, y) for x, y in zip(a, b)):
        return "homophone"
    sa, sb = surname_length(a), surname_length(b)
    surname_agrees = sa == sb and all(chars_homophone(x, y) for x, y in zip(a[:sa], b[:sb]))
    if not surname_agrees:
        return "else"
    rest_a, rest_b = a[sa:], b[sb:]
    if not rest_a or not rest_b:
        return "else"
    char_score = fuzz.ratio(rest_a, rest_b)
    pinyin_score = fuzz.ratio(pinyin_key(rest_a), pinyin_key(rest_b))
    # A one-character name after the surname differing entirely is a different person (张伟/张强).
    if min(len(rest_a), len(rest_b)) == 1 and len(rest_a) == len(rest_b):
        return "fuzzy" if pinyin_score >= 80 else "else"
    if max(char_score, pinyin_score) >= levels.NAME_FUZZY_MIN:
        return "fuzzy"
    return "else"


def compare_person_names(a: str | None, b: str | None) -> str:
    """Level label of the `name` comparison: null / exact / homophone / fuzzy / else."""
    ka, kb = normalise_person_name(a), normalise_person_name(b)
    if ka is None or kb is None:
        return "null"
    if ka > kb:
        ka, kb = kb, ka
    return _compare_keys(ka, kb)


# --------------------------------------------------------------------------------------------
# Firm names
# --------------------------------------------------------------------------------------------
# Region prefixes firms are registered with or without (内蒙古, 呼和浩特市, XX旗 ...).
_LEAGUES = (
    "呼和浩特市 包头市 乌海市 赤峰市 通辽市 鄂尔多斯市 呼伦贝尔市 巴彦淖尔市 乌兰察布市 "
    "兴安盟 锡林郭勒盟 阿拉善盟"
).split()
_COUNTIES = (
    "新城区 回民区 玉泉区 赛罕区 土默特左旗 托克托县 和林格尔县 清水河县 武川县 "
    "东河区 昆都仑区 青山区 石拐区 白云鄂博矿区 九原区 土默特右旗 固阳县 达尔罕茂明安联合旗 "
    "海勃湾区 海南区 乌达区 "
    "红山区 元宝山区 松山区 阿鲁科尔沁旗 巴林左旗 巴林右旗 林西县 克什克腾旗 翁牛特旗 喀喇沁旗 宁城县 敖汉旗 "
    "科尔沁区 科尔沁左翼中旗 科尔沁左翼后旗 开鲁县 库伦旗 奈曼旗 扎鲁特旗 霍林郭勒市 "
    "东胜区 康巴什区 达拉特旗 准格尔旗 鄂托克前旗 鄂托克旗 杭锦旗 乌审旗 伊金霍洛旗 "
    "海拉尔区 扎赉诺尔区 阿荣旗 莫力达瓦达斡尔族自治旗 鄂伦春自治旗 鄂温克族自治旗 陈巴尔虎旗 "
    "新巴尔虎左旗 新巴尔虎右旗 满洲里市 牙克石市 扎兰屯市 额尔古纳市 根河市 "
    "临河区 五原县 磴口县 乌拉特前旗 乌拉特中旗 乌拉特后旗 杭锦后旗 "
    "集宁区 卓资县 化德县 商都县 兴和县 凉城县 察哈尔右翼前旗 察哈尔右翼中旗 察哈尔右翼后旗 四子王旗 丰镇市 "
    "乌兰浩特市 阿尔山市 科尔沁右翼前旗 科尔沁右翼中旗 扎赉特旗 突泉县 "
    "二连浩特市 锡林浩特市 阿巴嘎旗 苏尼特左旗 苏尼特右旗 东乌珠穆沁旗 西乌珠穆沁旗 太仆寺旗 镶黄旗 "
    "正镶白旗 正蓝旗 多伦县 阿拉善左旗 阿拉善右旗 额济纳旗"
).split()
_REGION_PREFIXES = sorted(
    {"内蒙古自治区", "内蒙古"} | set(_LEAGUES) | {x[:-1] for x in _LEAGUES if x.endswith("市")}
    | set(_COUNTIES),
    key=len, reverse=True,
)
# The prefixes that can start a text, by its first character (longest first, as above): the
# stripping loop runs on every register name of a block, so it must not try ~190 prefixes each.
_PREFIXES_BY_FIRST = {}
for _p in _REGION_PREFIXES:
    _PREFIXES_BY_FIRST.setdefault(_p[0], []).append(_p)
_LEGAL_FORMS = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"))
_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")",
                           "〔": "(", "〕": ")"})


@lru_cache(maxsize=2_000_000)
def normalise_firm_name(name: str | None) -> str | None:
    """Comparison key of a firm name: NFKC, t2s, brackets unified, region prefixes and
    parenthesised regions removed, 有限责任公司 → 有限公司. None if empty."""
    if name is None:
        return None
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(name)).translate(_BRACKETS))
    if not text:
        return None
    text = _t2s(text)
    for long, short in _LEGAL_FORMS:
        text = text.replace(long, short)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES_BY_FIRST.get(text[:1], ()):
            if text.startswith(prefix) and len(text) - len(prefix) >= 2:
                text = text[len(prefix):]
                changed = True
                break
        if text.startswith("(") and ")" in text:          # "(内蒙古)xx有限公司"
            inner = text[1:text.index(")")]
            if inner in _REGION_PREFIXES:
                text = text[text.index(")") + 1:]
                changed = True
    # "xx有限公司(呼和浩特)" / "xx(内蒙古)有限公司": drop parenthesised region names anywhere
    text = re.sub(r"\(([^()]*)\)", lambda m: "" if m.group(1) in _REGION_PREFIXES else m.group(0), text)
    return text or None


def compare_firm_names(a: str | None, b: str | None) -> str:
    """Level label of the `firm_name` comparison: null / exact / fuzzy_high / fuzzy / else."""
    ka, kb = normalise_firm_name(a), normalise_firm_name(b)
    if ka is None or kb is None:
        return "null"
    if ka == kb:
        return "exact"
    score = fuzz.ratio(ka, kb)
    if score >= levels.FIRM_FUZZY_HIGH:
        return "fuzzy_high"
    if score >= levels.FIRM_FUZZY_MIN:
        return "fuzzy"
    return "else"


def firm_block_key_sql(column: str) -> str:
    """SQL twin of the start of normalise_firm_name for blocking: region prefixes stripped (no t2s).
    The first two characters of the result are the `name_league` blocking key."""
    alternation = "|".join(_REGION_PREFIXES)
    return f"regexp_replace(regexp_replace({column}, '\\s+', '', 'g'), '^(({alternation}))+', '')"
