"""Inner Mongolia county-level divisions (GB/T 2260, 103 旗县市区) and their 盟市.

The league (盟市) code of a county is its first four digits + ``00``.
"""
from __future__ import annotations

LEAGUES: dict[str, str] = {
    "150100": "呼和浩特市", "150200": "包头市", "150300": "乌海市", "150400": "赤峰市",
    "150500": "通辽市", "150600": "鄂尔多斯市", "150700": "呼伦贝尔市", "150800": "巴彦淖尔市",
    "150900": "乌兰察布市", "152200": "兴安盟", "152500": "锡林郭勒盟", "152900": "阿拉善盟",
}

_COUNTIES = """
150102 新城区|150103 回民区|150104 玉泉区|150105 赛罕区|150121 土默特左旗|150122 托克托县|150123 和林格尔县|150124 清水河县|150125 武川县
150202 东河区|150203 昆都仑区|150204 青山区|150205 石拐区|150206 白云鄂博矿区|150207 九原区|150221 土默特右旗|150222 固阳县|150223 达尔罕茂明安联合旗
150302 海勃湾区|150303 海南区|150304 乌达区
150402 红山区|150403 元宝山区|150404 松山区|150421 阿鲁科尔沁旗|150422 巴林左旗|150423 巴林右旗|150424 林西县|150425 克什克腾旗|150426 翁牛特旗|150428 喀喇沁旗|150429 宁城县|150430 敖汉旗
150502 科尔沁区|150521 科尔沁左翼中旗|150522 科尔沁左翼后旗|150523 开鲁县|150524 库伦旗|150525 奈曼旗|150526 扎鲁特旗|150581 霍林郭勒市
150602 东胜区|150603 康巴什区|150621 达拉特旗|150622 准格尔旗|150623 鄂托克前旗|150624 鄂托克旗|150625 杭锦旗|150626 乌审旗|150627 伊金霍洛旗
150702 海拉尔区|150703 扎赉诺尔区|150721 阿荣旗|150722 莫力达瓦达斡尔族自治旗|150723 鄂伦春自治旗|150724 鄂温克族自治旗|150725 陈巴尔虎旗|150726 新巴尔虎左旗|150727 新巴尔虎右旗|150781 满洲里市|150782 牙克石市|150783 扎兰屯市|150784 额尔古纳市|150785 根河市
150802 临河区|150821 五原县|150822 磴口县|150823 乌拉特前旗|150824 乌拉特中旗|150825 乌拉特后旗|150826 杭锦后旗
150902 集宁区|150921 卓资县|150922 化德县|150923 商都县|150924 兴和县|150925 凉城县|150926 察哈尔右翼前旗|150927 察哈尔右翼中旗|150928 察哈尔右翼后旗|150929 四子王旗|150981 丰镇市
152201 乌兰浩特市|152202 阿尔山市|152221 科尔沁右翼前旗|152222 科尔沁右翼中旗|152223 扎赉特旗|152224 突泉县
152501 二连浩特市|152502 锡林浩特市|152522 阿巴嘎旗|152523 苏尼特左旗|152524 苏尼特右旗|152525 东乌珠穆沁旗|152526 西乌珠穆沁旗|152527 太仆寺旗|152528 镶黄旗|152529 正镶白旗|152530 正蓝旗|152531 多伦县
152921 阿拉善左旗|152922 阿拉善右旗|152923 额济纳旗
"""

COUNTIES: dict[str, str] = {}
for _line in _COUNTIES.strip().splitlines():
    for _item in _line.split("|"):
        _code, _name = _item.split(" ", 1)
        COUNTIES[_code] = _name

COUNTY_CODES: list[str] = sorted(COUNTIES)
assert len(COUNTY_CODES) == 103, len(COUNTY_CODES)

# Rough population weights per league (millions, 2020 census order of magnitude).
LEAGUE_WEIGHT: dict[str, float] = {
    "150100": 3.4, "150200": 2.7, "150300": 0.56, "150400": 4.0, "150500": 2.9, "150600": 2.2,
    "150700": 2.2, "150800": 1.5, "150900": 1.7, "152200": 1.4, "152500": 1.1, "152900": 0.26,
}


def league_of(code: str) -> str:
    return code[:4] + "00"


def city_name(code: str) -> str:
    """Name used as a firm-name prefix (盟市 name, e.g. 呼和浩特市)."""
    return LEAGUES[league_of(code)]


def county_weights() -> list[float]:
    """A weight per county (league weight spread evenly over its counties)."""
    per_league: dict[str, int] = {}
    for c in COUNTY_CODES:
        per_league[league_of(c)] = per_league.get(league_of(c), 0) + 1
    return [LEAGUE_WEIGHT[league_of(c)] / per_league[league_of(c)] for c in COUNTY_CODES]


def cumulative_county_table() -> list[tuple[int, str, float]]:
    """(index, code, cumulative weight in 0..1] rows, for set-based sampling by a uniform."""
    w = county_weights()
    tot = sum(w)
    acc = 0.0
    out = []
    for i, (c, x) in enumerate(zip(COUNTY_CODES, w)):
        acc += x / tot
        out.append((i, c, acc))
    out[-1] = (out[-1][0], out[-1][1], 1.0)
    return out
