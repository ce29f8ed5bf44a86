"""Background business entities (企业 / 个体工商户 / 农民专业合作社) with valid USCCs, plausible
names, scales, statuses and histories, and the employer list (active 企业, large first)."""
from __future__ import annotations

import datetime as dt

from .ids import USCC_ALPHABET
from .population import PHONE_PREFIXES, sql_list
from .regions import LEAGUES

WORDS = ["鑫源", "华泰", "恒通", "金泰", "宏达", "瑞丰", "博远", "中盛", "天成", "草原", "蒙兴", "北疆",
         "塞北", "祥和", "长城", "巨力", "绿源", "昊天", "亿联", "众诚", "广厦", "德润", "汇丰", "兴旺",
         "蓝天", "正元", "嘉禾", "远航", "聚鑫", "安泰", "明珠", "富民", "腾达", "锦华", "阳光", "伊泰"]
INDUSTRIES = ["科技", "商贸", "建筑工程", "农牧业", "餐饮管理", "物流", "矿业", "乳业", "能源", "信息技术",
              "文化传媒", "装饰工程", "机械设备", "化工", "物业服务", "旅游开发", "医药", "汽车销售"]
SHOPS = ["商店", "便利店", "餐馆", "超市", "修理部", "美发店", "五金店", "牛肉面馆", "烧烤店", "奶茶店"]
SCHOOL_UNITS = ["人民政府办公室", "第一中学", "第二小学", "人民医院", "财政局", "教育局", "公安局",
                "人力资源和社会保障局", "市场监督管理局", "卫生健康委员会", "农牧局", "税务局"]

FIRM_PHONE_OFFSET = 60_000_000


def build_entities(con, seed: int, n: int, ref: dt.date, months: list[dt.date], legal_start: int) -> None:
    """entities(eidx, uscc, name, entity_type, enterprise_scale, legal_rep_pidx, established_date,
    final_status, status_date, serious_dishonest, region_code, phone, first_month)."""
    H = lambda salt: f"hash(i, '{salt}', {seed})"  # noqa: E731
    a = USCC_ALPHABET
    org = " || ".join(f"substr('{a}', 1 + ((v // {31 ** k}) % 31)::INT, 1)" for k in range(6, -1, -1))
    leagues = sql_list(list(LEAGUES.values()))
    league_codes = sql_list(list(LEAGUES.keys()))
    w0, wlast = months[0], months[-1]
    span = (dt.date(wlast.year + (wlast.month == 12), wlast.month % 12 + 1, 1) - w0).days
    con.execute(f"""
    CREATE OR REPLACE TABLE entities_raw AS
    SELECT i AS eidx, region_pick({H('reg')}) AS region_code,
      CASE WHEN {H('t')} % 100 < 70 THEN '个体工商户' WHEN {H('t')} % 100 < 97 THEN '企业' ELSE '农民专业合作社' END AS entity_type,
      {H('s')} % 1000 AS sr, {H('st')} % 1000 AS stt,
      (i * 7919 + 1234567) % {31 ** 7} AS v, {H('nm')} AS hn,
      -- established: mostly years ago; ~1.5% in the generated window
      CASE WHEN {H('e')} % 1000 < 15
           THEN DATE '{w0}' + ({H('ed')} % {span})::INT
           ELSE DATE '{w0}' - (30 + {H('ed')} % 7300)::INT END AS established_date
    FROM range({n}) t(i)
    """)
    con.execute(f"""
    CREATE OR REPLACE TABLE entities AS
    SELECT eidx,
      CASE entity_type WHEN '企业' THEN '91' WHEN '个体工商户' THEN '92' ELSE '93' END || region_code || 'MA' || {org} AS body,
      entity_type,
      CASE WHEN entity_type = '企业' THEN CASE WHEN sr < 700 THEN '微型' WHEN sr < 920 THEN '小型' WHEN sr < 980 THEN '中型' ELSE '大型' END END AS enterprise_scale,
      {legal_start} + eidx AS legal_rep_pidx,
      established_date,
      CASE WHEN stt < 850 THEN '存续' WHEN stt < 900 THEN '在业' WHEN stt < 940 THEN '吊销' WHEN stt < 990 THEN '注销' ELSE '迁出' END AS final_status,
      hash(eidx, 'dh', {seed}) % 100 = 0 AS serious_dishonest,
      region_code,
      ({leagues})[list_position({league_codes}, left(region_code, 4) || '00')] AS city,
      hn
    FROM entities_raw
    """)
    con.execute(f"""
    CREATE OR REPLACE TABLE entities AS
    SELECT eidx, body || uscc_check_sql(body) AS uscc, entity_type, enterprise_scale, legal_rep_pidx,
      established_date, final_status,
      CASE WHEN final_status IN ('吊销', '注销', '迁出') THEN
        CASE WHEN hash(eidx, 'sdw', {seed}) % 10 < 4
             THEN DATE '{w0}' + (hash(eidx, 'sdd', {seed}) % {span})::INT
             ELSE greatest(established_date + 60, DATE '{w0}' - 1 - (hash(eidx, 'sdd', {seed}) % 1500)::INT) END
      END AS status_date,
      serious_dishonest, region_code,
      CASE
        WHEN entity_type = '企业' AND enterprise_scale = '大型' THEN '内蒙古' || {sql_list(WORDS)}[1 + (hn % {len(WORDS)})::INT] || {sql_list(INDUSTRIES)}[1 + ((hn // 100) % {len(INDUSTRIES)})::INT] || '集团有限公司'
        WHEN entity_type = '企业' AND hn % 10 = 0 THEN {sql_list(WORDS)}[1 + ((hn // 10) % {len(WORDS)})::INT] || '（内蒙古）' || {sql_list(INDUSTRIES)}[1 + ((hn // 100) % {len(INDUSTRIES)})::INT] || '有限公司'
        WHEN entity_type = '企业' THEN city || {sql_list(WORDS)}[1 + ((hn // 10) % {len(WORDS)})::INT] || {sql_list(INDUSTRIES)}[1 + ((hn // 100) % {len(INDUSTRIES)})::INT]
             || CASE WHEN hn % 3 = 0 THEN '有限责任公司' ELSE '有限公司' END
        WHEN entity_type = '个体工商户' THEN city || {sql_list(WORDS)}[1 + ((hn // 10) % {len(WORDS)})::INT] || {sql_list(SHOPS)}[1 + ((hn // 100) % {len(SHOPS)})::INT]
        ELSE city || {sql_list(WORDS)}[1 + ((hn // 10) % {len(WORDS)})::INT] || '农牧业专业合作社'
      END || CASE WHEN entity_type = '个体工商户' AND hn % 7 = 0 THEN '（' || (eidx % 97)::VARCHAR || '号店）' ELSE '' END AS name,
      {sql_list(PHONE_PREFIXES)}[1 + (hash(eidx, 'fp', {seed}) % {len(PHONE_PREFIXES)})::INT]
        || lpad((((eidx + {FIRM_PHONE_OFFSET}) * 7919 + 104729) % 100000000)::VARCHAR, 8, '0') AS phone
    FROM entities
    """)
    # employers: enterprises active throughout, large first
    con.execute(f"""
    CREATE OR REPLACE TABLE employers AS
    SELECT row_number() OVER (ORDER BY CASE enterprise_scale WHEN '大型' THEN 0 WHEN '中型' THEN 1 WHEN '小型' THEN 2 ELSE 3 END,
                                       hash(eidx, 'eo', {seed})) - 1 AS k, eidx, uscc, name, region_code
    FROM entities
    WHERE entity_type = '企业' AND final_status IN ('存续', '在业') AND NOT serious_dishonest
      AND established_date < DATE '{w0}' - 400
    """)
