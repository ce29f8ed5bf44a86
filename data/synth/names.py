"""Name pools: Han surnames and given-name characters, common full names (decoys such as 张伟),
Mongolian transliterated names, plus the simplified→traditional and homophone character maps
used by the name noise (built with OpenCC and pypinyin)."""
from __future__ import annotations

from functools import lru_cache

# Surnames repeated roughly by frequency (王/李/张 ~7% each nationally).
SURNAMES = (
    "王" * 7 + "李" * 7 + "张" * 7 + "刘" * 5 + "陈" * 4 + "杨" * 3 + "赵" * 3 + "黄" * 2 + "周" * 2
    + "吴" * 2 + "徐" * 2 + "孙" * 2 + "胡" * 2 + "朱" * 2 + "高" * 2 + "林马郭何罗郑梁宋谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
    "包云乌那"
)

GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红玲辉鹏建国文斌宇浩凯慧婷雪琳晶晓东"
    "海波志坤峰俊飞鑫欣怡佳雨子轩梓涵一诺浩然博文思远嘉欣晨阳振宏亮春梅冬梅金凤彩霞丹丹瑞庆龙燕翠萍"
    "永利成新荣立红云飞宏伟海燕美玲国强志强建华秀珍淑华凤英玉兰桂芝"
)

COMMON_FULL_NAMES = [
    "张伟", "王伟", "王芳", "李伟", "李娜", "张敏", "李静", "王静", "刘伟", "王秀英",
    "张丽", "李强", "王磊", "张静", "李敏", "王丽", "王强", "刘洋", "张勇", "王艳",
]

MONGOLIAN_NAMES = [
    "巴特尔", "朝鲁", "其其格", "乌云", "苏和", "额尔敦", "宝音", "那日苏", "斯琴", "图雅",
    "阿拉坦", "孟和", "布和", "吉日格勒", "乌兰", "萨仁", "哈斯", "敖敦", "格日勒", "娜仁",
    "满都拉", "包力高", "特木尔", "巴雅尔", "朝格图", "呼和", "阿古拉", "达来", "其木格", "额日和木",
]

DOT = "·"
DOT_VARIANTS = ["•", "・", ".", "．", ""]  # besides the canonical middle dot

# Characters that pinyin input offers in place of each other (extra candidates for homophones).
_HOMOPHONE_POOL = (
    "晓小孝笑校肖效伟维为卫薇纬玮芳方放仿娜纳那静敬婧境镜丽立力莉利历强蔷墙磊蕾垒雷军君均钧俊骏峻"
    "洋阳扬杨旸勇永涌泳艳燕彦雁岩妍颜杰洁捷婕娟鹃涓隽涛韬滔焘明鸣铭茗超潮朝巢兰岚澜蓝霞侠峡平萍苹"
    "屏评刚钢纲岗华桦骅玉钰宇雨语羽红宏鸿虹弘玲铃琳林霖麟辉晖徽慧惠蕙鹏朋彭建剑健鉴国果文雯闻斌彬"
    "滨浩皓昊好凯恺锴婷庭亭霆雪学晶京菁精东冬栋海波博柏志智致峰锋丰枫风俊飞菲非鑫欣馨新心怡宜仪"
    "佳家嘉子梓紫涵寒含思斯晨辰臣振震宏亮靓春纯梅玫美金津瑞睿庆清轻龙隆珑成诚程承荣蓉容融立丽珍真"
    "贞淑舒书凤奉芝枝尔耳乌吾云芸运苏素和合禾敦顿宝保音英尼仁任琴勤秦图途雅亚娅坦拉腊孟梦达格日"
)


@lru_cache(maxsize=1)
def traditional_map() -> dict[str, str]:
    """Single simplified char → traditional char, where OpenCC s2t changes it."""
    import opencc

    conv = opencc.OpenCC("s2t")
    back = opencc.OpenCC("t2s")
    chars = set(SURNAMES + GIVEN_CHARS + "".join(COMMON_FULL_NAMES) + "".join(MONGOLIAN_NAMES)
                + _HOMOPHONE_POOL)
    out = {}
    for c in sorted(chars):
        t = conv.convert(c)
        if len(t) == 1 and t != c and back.convert(t) == c:   # round trip (not 于 -> 於)
            out[c] = t
    return out


@lru_cache(maxsize=1)
def homophone_map() -> dict[str, str]:
    """Char → a different char with the same toneless pinyin (pypinyin), deterministic."""
    from pypinyin import Style, lazy_pinyin

    pool = sorted(set(_HOMOPHONE_POOL + GIVEN_CHARS))
    by_py: dict[str, list[str]] = {}
    for c in pool:
        by_py.setdefault(lazy_pinyin(c, style=Style.NORMAL)[0], []).append(c)
    out = {}
    for c in sorted(set(GIVEN_CHARS + "".join(COMMON_FULL_NAMES) + "".join(MONGOLIAN_NAMES) + _HOMOPHONE_POOL)):
        py = lazy_pinyin(c, style=Style.NORMAL)[0]
        cands = [x for x in by_py.get(py, []) if x != c]
        if cands:
            out[c] = cands[0]
    return out


def to_traditional(name: str) -> str:
    m = traditional_map()
    return "".join(m.get(c, c) for c in name)


def homophone(name: str) -> str:
    """Replace the last character that has a homophone (never the surname)."""
    m = homophone_map()
    chars = list(name)
    for i in range(len(chars) - 1, 0, -1):
        if chars[i] in m:
            chars[i] = m[chars[i]]
            return "".join(chars)
    return name
