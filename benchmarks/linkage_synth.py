"""A small self-contained corrupted data set for the linkage benchmarks (own generator, SQL only).

Used when the project generator (data/synth) output is not given, and for the scale test.
Builds asof_<source> tables straight into a DuckDB connection (as the loader would leave them:
IDs normalised, *_valid computed), plus `bench_truth(source, source_file, source_line, column,
kind, written, truth, id_noise, name_noise)`.

Persons: 5,000,000 × scale, valid IDs (region + birth date + sequence + MOD 11-2), Han names
from weighted surname / given-name pools, ~6 % Mongolian names (half with a separator dot).
Rows: social_insurance 4 per person, graduates 5 %, hiring_filing 10 % (with firm names),
subsidy_ledger 1 % (no names), business_registration one per firm (persons / 20).
Noise per ID cell: 1 % one wrong digit (positions 1-17), 0.5 % adjacent transposition
(positions 1-16) — the generator's kinds; per name cell: 2 % traditional, 1 % homophone of the
last character, 0.5 % space, 30 % of dotted names another dot (or no dot); per USCC cell:
0.5 % one wrong character (positions 3-17).

Planted on top (issue 17), so that each kind has enough rows to measure:
  ID typo + name variant   a row gets one wrong digit in its ID *and* one name variant: 0.6 % of
                           Han-name rows (homophone of the last character, or traditional
                           characters where the name has one), 12 % of rows of a dotted
                           Mongolian name (dot dropped, or written with ・ — the loader makes that
                           '·'); 30 % of those rows also carry another county (the person moved).
                           Graduates rows (no employer) get them at 8 % / 50 %.
  decoys                   one row each, in social_insurance with the person's own employer
                           (persons born 2005-2007, disjoint from the 1965-2004 population):
    decoy_namesake_one_digit  the bad ID is one edit from the true ID *and* from a namesake's
                              valid ID (its check-digit repair): two plausible owners
    decoy_check_digit_repair  the true owner is never seen with a valid ID; recomputing the check
                              digit lands on a real different person with another name
    decoy_common_name         the true owner is never seen; the check-digit repair lands on a real
                              person with the same common name in the same county
  bench_truth.id_noise holds the decoy kind; any link of a decoy row to someone else is wrong.
"""
from __future__ import annotations

import duckdb

ID_W = "[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]"
USCC_A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = "[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]"

SURNAMES = ("王" * 72 + "李" * 72 + "张" * 70 + "刘" * 55 + "陈" * 45 + "杨" * 32 + "赵" * 20 + "黄" * 19
            + "周" * 19 + "吴" * 18 + "徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
            "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武"
            "乔贺赖龚文")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕鹏辉宇浩凯健俊帆帅旭宁龙林"
         "欣婷雪琳晨阳佳怡思雨博文斌波飞鑫海东亮志国建峰春梅金凤晓小丹瑞荣新利")
MONGOL = ("巴特尔 朝鲁 乌云 其木格 斯琴 图雅 额尔敦 苏和 那日苏 宝音 格日勒 孟和 阿拉坦 布和 达来 "
          "萨仁 高娃 敖敦 吉雅 乌力吉 哈斯 呼和 巴雅尔 满都拉 特木尔 额日和木 娜仁 托娅").split()
# simplified → traditional (names noise) and last-character homophones (pinyin input errors)
TRAD = dict(zip("张伟刘陈杨赵黄吴孙马罗郑谢韩冯邓许苏卢蒋华丽红军国兰凤东龙宝鲁尔乌图达萧汤钟叶阎钱龚贺赖",
                "張偉劉陳楊趙黃吳孫馬羅鄭謝韓馮鄧許蘇盧蔣華麗紅軍國蘭鳳東龍寶魯爾烏圖達蕭湯鍾葉閻錢龔賀賴"))
HOMO = dict(zip("明伟丽华军芳静敏燕霞杰涛平辉刚勇峰磊超秀英玲鹏宇浩晨欣婷娜琳波斌鑫飞凯龙海东亮志国建春梅金凤晓雪",
                "鸣玮莉桦君方晶民艳侠洁滔萍晖钢涌锋蕾潮绣莹铃朋雨昊辰鑫庭纳林博彬馨菲楷隆还冬靓智帼健椿媚锦峯筱血"))
REGIONS = [f"15{lg}{ct}" for lg in ("01", "02", "03", "04", "05", "06", "07", "08", "09", "22", "25", "29")
           for ct in ("02", "03", "04", "05", "21", "22")]
LEAGUE_NAMES = {"01": "呼和浩特市", "02": "包头市", "03": "乌海市", "04": "赤峰市", "05": "通辽市", "06": "鄂尔多斯市",
                "07": "呼伦贝尔市", "08": "巴彦淖尔市", "09": "乌兰察布市", "22": "兴安盟", "25": "锡林郭勒盟",
                "29": "阿拉善盟"}
FIRM_CORE = "华强 宏达 鑫源 草原 蒙辉 金川 北疆 瑞丰 恒通 天骄 龙腾 万通 兴盛 福源 昌盛 绿野 塞北 长城 永泰 广汇".split()
FIRM_TRADE = "商贸 建材 牧业 物流 科技 餐饮 煤炭 乳业 电子 农业 机械 能源 酒店 广告 运输".split()


COMBO_HAN = 0.006        # share of Han-name rows with an ID typo + a name variant
COMBO_MONGOL = 0.12      # share of dotted-Mongolian-name rows with an ID typo + a dot variant
COMBO_MOVED = 0.30       # of those, share whose row carries another county
# graduates rows carry no employer (a phone on 60 %): the case without the strongest evidence,
# planted more often so that it can be measured on its own (by_corruption_source)
COMBO_GRAD_HAN, COMBO_GRAD_MONGOL = 0.08, 0.5
DECOY_SHARE = 0.005      # decoy rows per kind, per person (at least 200 each)
COMMON_NAMES = "王伟 王芳 李娜 张伟 刘洋 张敏 李静 王静 张丽 刘伟 王秀英 李强".split()
DECOY_KINDS = ("decoy_namesake_one_digit", "decoy_check_digit_repair", "decoy_common_name")


def _lit(items) -> str:
    return "[" + ",".join("'" + x + "'" for x in items) + "]"


def _id_check(expr17: str) -> str:
    return (f"substr('10X98765432', (list_sum(list_transform(range(1, 18), lambda i: "
            f"(ascii(substr({expr17}, i::INT, 1)) - 48) * ({ID_W})[i])) % 11)::INT + 1, 1)")


def _id_valid(expr: str) -> str:
    return (f"(regexp_full_match({expr}, '[0-9]{{17}}[0-9X]') AND {_id_check(f'substr({expr}, 1, 17)')} "
            f"= substr({expr}, 18, 1))")


def _uscc_check(expr17: str) -> str:
    return (f"substr('{USCC_A}', ((31 - list_sum(list_transform(range(1, 18), lambda i: "
            f"(instr('{USCC_A}', substr({expr17}, i::INT, 1)) - 1) * ({USCC_W})[i])) % 31) % 31)::INT + 1, 1)")


def _uscc_valid(expr: str) -> str:
    return (f"(regexp_full_match({expr}, '[0-9A-HJ-NPQRTUWXY]{{18}}') AND "
            f"{_uscc_check(f'substr({expr}, 1, 17)')} = substr({expr}, 18, 1))")


def _u(key: str, salt: str, seed: int) -> str:
    return f"((hash({key}, '{salt}', {seed}) % 1000003)::DOUBLE / 1000003)"


def _id_noise(col: str, key: str, seed: int, force: str | None = None) -> tuple[str, str]:
    """(kind expr, written expr) for an ID cell; `force` (SQL, not NULL) plants a one-digit typo."""
    u = _u(key, col + "k", seed)
    forced = f"WHEN {force} IS NOT NULL THEN 'id_typo_digit' " if force else ""
    kind = f"CASE {forced}WHEN {u} < 0.01 THEN 'id_typo_digit' WHEN {u} < 0.015 THEN 'id_transposed' END"
    p = f"(1 + hash({key}, '{col}p', {seed}) % 17)::INT"
    p16 = f"(1 + hash({key}, '{col}p', {seed}) % 16)::INT"
    d = f"((ascii(substr({col}, {p}, 1)) - 48 + 1 + hash({key}, '{col}d', {seed}) % 9) % 10)::VARCHAR"
    written = f"""CASE {kind}
        WHEN 'id_typo_digit' THEN left({col}, {p} - 1) || {d} || substr({col}, {p} + 1)
        WHEN 'id_transposed' THEN left({col}, {p16} - 1) || substr({col}, {p16} + 1, 1) || substr({col}, {p16}, 1)
                                  || substr({col}, {p16} + 2)
        ELSE {col} END"""
    return kind, written


def _combo(col: str, key: str, seed: int, han: float = COMBO_HAN, mongol: float = COMBO_MONGOL) -> str:
    """SQL: the name variant planted together with an ID typo on this row (NULL = none)."""
    u = _u(key, col + "c", seed)
    pick = f"hash({key}, '{col}cp', {seed}) % 2"
    return (f"CASE WHEN contains({col}, '·') AND {u} < {mongol!r} "
            f"THEN CASE WHEN {pick} = 0 THEN 'name_mongol_no_dot' ELSE 'name_mongol_other_dot' END "
            f"WHEN NOT contains({col}, '·') AND {u} < {han!r} THEN CASE "
            f"WHEN {pick} = 0 AND contains('{''.join(HOMO)}', right({col}, 1)) THEN 'name_homophone' "
            f"WHEN {pick} = 1 AND regexp_matches({col}, '[{''.join(TRAD)}]') THEN 'name_traditional' END END")


def _name_noise(col: str, key: str, seed: int, force: str | None = None) -> tuple[str, str]:
    """(kind expr, loaded expr) for a name cell; `force` (SQL) plants that variant when not NULL."""
    u = _u(key, col + "k", seed)
    kind = (f"CASE {f'WHEN {force} IS NOT NULL THEN {force} ' if force else ''}WHEN contains({col}, '·') AND {u} < 0.3 THEN 'name_dot_variant' "
            f"WHEN {u} >= 0.3 AND {u} < 0.32 THEN 'name_traditional' "
            f"WHEN {u} >= 0.32 AND {u} < 0.33 AND contains('{''.join(HOMO)}', right({col}, 1)) THEN 'name_homophone' "
            f"WHEN {u} >= 0.33 AND {u} < 0.335 THEN 'name_space' END")
    dots = ["•", "・", ".", "．", ""]
    dv = "CASE " + " ".join(f"WHEN hash({key}, '{col}v', {seed}) % 5 = {i} THEN replace({col}, '·', '{v}')"
                            for i, v in enumerate(dots)) + " END"
    written = f"""CASE {kind}
        WHEN 'name_traditional' THEN translate({col}, '{''.join(TRAD)}', '{''.join(TRAD.values())}')
        WHEN 'name_homophone' THEN left({col}, length({col}) - 1)
                                   || translate(right({col}, 1), '{''.join(HOMO)}', '{''.join(HOMO.values())}')
        WHEN 'name_space' THEN left({col}, 1) || ' ' || substr({col}, 2)
        WHEN 'name_dot_variant' THEN {dv}
        WHEN 'name_mongol_no_dot' THEN replace({col}, '·', '')
        WHEN 'name_mongol_other_dot' THEN replace({col}, '·', '・')
        ELSE {col} END"""
    # the loader removes spaces and unifies dots to '·' (but keeps "no dot")
    loaded = f"regexp_replace(regexp_replace({written}, '\\s+', '', 'g'), '[•・.．]', '·', 'g')"
    return kind, loaded


def _uscc_noise(col: str, key: str, seed: int) -> tuple[str, str]:
    u = _u(key, col + "k", seed)
    kind = f"CASE WHEN {u} < 0.005 THEN 'uscc_typo' END"
    p = f"(3 + hash({key}, '{col}p', {seed}) % 15)::INT"
    newc = (f"substr('{USCC_A}', ((instr('{USCC_A}', substr({col}, {p}, 1)) - 1 + 1 "
            f"+ hash({key}, '{col}d', {seed}) % 30) % 31)::INT + 1, 1)")
    written = f"CASE {kind} WHEN 'uscc_typo' THEN left({col}, {p} - 1) || {newc} || substr({col}, {p} + 1) ELSE {col} END"
    return kind, written


def build(con: duckdb.DuckDBPyConnection, scale: float = 0.01, seed: int = 7, si_rows_per_person: int = 4,
          noise_seed: int | None = None) -> dict:
    """Create asof_<source> tables and bench_truth in `con`. Returns row counts.
    `seed` draws the persons, firms, decoys and who appears in which source; `noise_seed`
    (default `seed`) draws the noise of each row: another noise_seed is another month of the
    same population."""
    ns = seed if noise_seed is None else noise_seed
    n_persons = max(200, int(5_000_000 * scale))
    n_firms = max(20, n_persons // 20)
    regions = _lit(REGIONS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_persons AS
        WITH base AS (
            SELECT i AS pidx,
                   ({regions})[(1 + hash(i, 'r', {seed}) % {len(REGIONS)})::BIGINT] AS birth_region,
                   strftime(DATE '1965-01-01' + (hash(i, 'b', {seed}) % 14600)::INT, '%Y%m%d') AS birth,
                   lpad((hash(i, 's', {seed}) % 1000)::VARCHAR, 3, '0') AS seq,
                   {_u('i', 'm', seed)} AS um, (hash(i, 'n', {seed}) >> 2)::BIGINT AS hn
            FROM range({n_persons}) t(i)
        ), ided AS (
            SELECT *, birth_region || birth || seq AS id17 FROM base
        ), named AS (
            SELECT pidx, id17 || {_id_check('id17')} AS id,
                   CASE WHEN {_u('pidx', 'rr', seed)} < 0.8 THEN birth_region
                        ELSE ({regions})[(1 + hash(pidx, 'rr2', {seed}) % {len(REGIONS)})::BIGINT] END AS region_code,
                   CASE WHEN um < 0.03 THEN ({_lit(MONGOL)})[1 + hn % {len(MONGOL)}] || '·'
                                            || ({_lit(MONGOL)})[1 + (hn // 97) % {len(MONGOL)}]
                        WHEN um < 0.06 THEN ({_lit(MONGOL)})[1 + hn % {len(MONGOL)}]
                        ELSE substr('{SURNAMES}', (1 + hn % {len(SURNAMES)})::INT, 1)
                             || substr('{GIVEN}', (1 + (hn // 1000) % {len(GIVEN)})::INT, 1)
                             || CASE WHEN (hn // 1000000) % 3 > 0
                                     THEN substr('{GIVEN}', (1 + (hn // 10000000) % {len(GIVEN)})::INT, 1) ELSE '' END
                   END AS name,
                   CASE WHEN {_u('pidx', 'ph', seed)} < 0.6
                        THEN '1' || (3 + hash(pidx, 'p1', {seed}) % 7)::VARCHAR
                             || lpad((hash(pidx, 'p2', {seed}) % 1000000000)::VARCHAR, 9, '0') END AS phone,
                   (1 + hash(pidx, 'f', {seed}) % {n_firms})::BIGINT AS fidx
            FROM ided
        )
        SELECT DISTINCT ON (id) * FROM named ORDER BY id, pidx
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_firms AS
        WITH base AS (
            SELECT i AS fidx, ({regions})[(1 + hash(i, 'fr', {seed}) % {len(REGIONS)})::BIGINT] AS region_code,
                   (hash(i, 'fc', {seed}) >> 2)::BIGINT AS h
            FROM range(1, {n_firms + 1}) t(i)
        ), coded AS (
            SELECT *, '91' || region_code || list_reduce(list_transform(range(9), lambda k:
                       substr('{USCC_A}', (1 + hash(fidx, 'u', k, {seed}) % 31)::INT, 1)), lambda a, b: a || b) AS u17
            FROM base
        )
        SELECT DISTINCT ON (uscc) fidx, u17 || {_uscc_check('u17')} AS uscc, region_code,
               CASE WHEN h % 3 = 0 THEN '内蒙古' ELSE map_extract({_league_map()}, substr(region_code, 3, 2))[1] END
               || ({_lit(FIRM_CORE)})[1 + h % {len(FIRM_CORE)}]
               || ({_lit(FIRM_CORE)})[1 + (h // 100) % {len(FIRM_CORE)}]
               || ({_lit(FIRM_TRADE)})[1 + (h // 10000) % {len(FIRM_TRADE)}]
               || CASE WHEN (h // 1000000) % 2 = 0 THEN '有限公司' ELSE '有限责任公司' END AS name
        FROM coded ORDER BY uscc, fidx
    """)
    # ---------------- sources ----------------
    _plant_decoys(con, n_persons, n_firms, seed)
    idk, idw = _id_noise("p.id", "k", ns)              # subsidy ledger (no names)
    cidk, cidw = _id_noise("p.id", "k", ns, force="p.combo")
    nk, nw = _name_noise("p.name", "k", ns, force="p.combo")
    uk, uw = _uscc_noise("f.uscc", "k", ns)
    moved = (f"CASE WHEN p.combo IS NOT NULL AND {_u('k', 'mv', ns)} < {COMBO_MOVED!r} "
             f"THEN ({regions})[(1 + hash(k, 'mv2', {ns}) % {len(REGIONS)})::BIGINT] ELSE p.region_code END")

    def with_combo(rows_sql: str, **rates) -> str:
        return f"(SELECT q.*, {_combo('q.name', 'q.k', ns, **rates)} AS combo FROM ({rows_sql}) q)"

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_si AS
        SELECT k, p.pidx, p.id AS true_id, p.name AS true_name, f.uscc AS true_uscc,
               {cidk} AS id_noise, {cidw} AS id_number, {nk} AS name_noise, {nw} AS name,
               {uk} AS uscc_noise, {uw} AS employer_uscc, {moved} AS region_code
        FROM {with_combo(f"SELECT row_number() OVER () AS k, p.* FROM bench_persons p, range({si_rows_per_person}) r(j)")} p
        JOIN bench_firms f ON f.fidx = p.fidx
    """)
    # decoy rows: the bad ID in a social-insurance row of the person's own employer
    con.execute("""
        INSERT INTO bench_si
        SELECT 50000000000 + row_number() OVER (ORDER BY kind, i) AS k, NULL, d.p_id, d.p_name, f.uscc,
               d.kind, d.bad_id, 'none', d.p_name, NULL, f.uscc, d.p_region
        FROM bench_decoys d JOIN bench_firms f ON f.fidx = d.p_fidx
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE asof_social_insurance AS
        SELECT id_number, {_id_valid('id_number')} AS id_number_valid, name, employer_uscc,
               {_uscc_valid('employer_uscc')} AS employer_uscc_valid, '单位职工' AS insured_type,
               region_code, DATE '2026-10-01' AS extract_month, 'social_insurance.csv' AS source_file,
               k + 1 AS source_line
        FROM bench_si
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_grad AS
        SELECT k, p.id AS true_id, p.name AS true_name, {cidk} AS id_noise, {cidw} AS id_number,
               {nk} AS name_noise, {nw} AS name, {moved} AS region_code, p.phone
        FROM {with_combo(f"SELECT row_number() OVER () + 10000000000 AS k, * FROM bench_persons "
                         f"WHERE {_u('pidx', 'g', seed)} < 0.05", han=COMBO_GRAD_HAN, mongol=COMBO_GRAD_MONGOL)} p
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE asof_graduates AS
        SELECT id_number, {_id_valid('id_number')} AS id_number_valid, name, region_code, phone,
               DATE '2026-10-01' AS extract_month, 'graduates.csv' AS source_file, k AS source_line FROM bench_grad
    """)
    fk, fw = _firm_name_noise("f.name", "k", ns)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_hf AS
        SELECT k, p.id AS true_id, p.name AS true_name, f.uscc AS true_uscc, {cidk} AS id_noise, {cidw} AS id_number,
               {nk} AS name_noise, {nw} AS name, {uk} AS uscc_noise, {uw} AS employer_uscc,
               {fk} AS firm_name_noise, {fw} AS employer_name, f.region_code
        FROM {with_combo(f"SELECT row_number() OVER () + 20000000000 AS k, * FROM bench_persons "
                         f"WHERE {_u('pidx', 'h', seed)} < 0.10")} p JOIN bench_firms f ON f.fidx = p.fidx
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE asof_hiring_filing AS
        SELECT employer_uscc, {_uscc_valid('employer_uscc')} AS employer_uscc_valid, employer_name,
               id_number, {_id_valid('id_number')} AS id_number_valid, name, '招用' AS filing_type, region_code,
               DATE '2026-10-01' AS extract_month, 'hiring_filing.csv' AS source_file, k AS source_line FROM bench_hf
    """)
    con.execute("""
        CREATE OR REPLACE TABLE asof_business_registration AS
        SELECT uscc, true AS uscc_valid, name, '企业' AS entity_type, NULL::VARCHAR AS legal_rep_id_number,
               NULL::BOOLEAN AS legal_rep_id_number_valid, NULL::VARCHAR AS legal_rep_name, NULL::VARCHAR AS phone,
               region_code, DATE '2026-10-01' AS extract_month, 'business_registration.csv' AS source_file,
               fidx + 1 AS source_line
        FROM bench_firms
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_ledger AS
        SELECT k, p.id AS true_id, {idk} AS id_noise, {idw} AS beneficiary_id_number, p.region_code
        FROM (SELECT row_number() OVER () + 30000000000 AS k, * FROM bench_persons
              WHERE {_u('pidx', 'l', seed)} < 0.01) p
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE asof_subsidy_ledger AS
        SELECT 'A' || k AS application_id, '个人' AS applicant_type, beneficiary_id_number AS applicant_id,
               {_id_valid('beneficiary_id_number')} AS applicant_id_valid, beneficiary_id_number,
               {_id_valid('beneficiary_id_number')} AS beneficiary_id_number_valid,
               NULL::VARCHAR AS handler_id_number, NULL::BOOLEAN AS handler_id_number_valid, region_code,
               DATE '2026-10-01' AS extract_month, 'subsidy_ledger.csv' AS source_file, k AS source_line
        FROM bench_ledger
    """)
    con.execute("""
        CREATE OR REPLACE TABLE bench_truth AS
        SELECT 'social_insurance' AS source, k + 1 AS source_line, 'id_number' AS col, 'person' AS kind,
               id_number AS written, true_id AS truth, coalesce(id_noise, 'none') AS id_noise,
               coalesce(name_noise, 'none') AS name_noise FROM bench_si
        UNION ALL SELECT 'social_insurance', k + 1, 'employer_uscc', 'firm', employer_uscc, true_uscc,
               coalesce(uscc_noise, 'none'), 'none' FROM bench_si
        UNION ALL SELECT 'graduates', k, 'id_number', 'person', id_number, true_id, coalesce(id_noise, 'none'),
               coalesce(name_noise, 'none') FROM bench_grad
        UNION ALL SELECT 'hiring_filing', k, 'id_number', 'person', id_number, true_id, coalesce(id_noise, 'none'),
               coalesce(name_noise, 'none') FROM bench_hf
        UNION ALL SELECT 'hiring_filing', k, 'employer_uscc', 'firm', employer_uscc, true_uscc,
               coalesce(uscc_noise, 'none'), coalesce(firm_name_noise, 'none') FROM bench_hf
        UNION ALL SELECT 'subsidy_ledger', k, 'beneficiary_id_number', 'person', beneficiary_id_number, true_id,
               coalesce(id_noise, 'none'), 'no_name' FROM bench_ledger
    """)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in
              ("bench_persons", "bench_firms", "bench_decoys", "asof_social_insurance", "asof_graduates", "asof_hiring_filing",
               "asof_subsidy_ledger", "bench_truth")}
    return counts


def _given_name(h: str, seed: int) -> str:
    """SQL: a Han name from the weighted pools for hash expression `h` (as bench_persons)."""
    return (f"substr('{SURNAMES}', (1 + {h} % {len(SURNAMES)})::INT, 1) "
            f"|| substr('{GIVEN}', (1 + ({h} // 1000) % {len(GIVEN)})::INT, 1) "
            f"|| CASE WHEN ({h} // 1000000) % 3 > 0 "
            f"THEN substr('{GIVEN}', (1 + ({h} // 10000000) % {len(GIVEN)})::INT, 1) ELSE '' END")


def _plant_decoys(con: duckdb.DuckDBPyConnection, n_persons: int, n_firms: int, seed: int) -> None:
    """bench_decoys(kind, i, p_id, bad_id, q_id, p_name, q_name, p_region, q_region, p_fidx, q_fidx)
    and the persons they need in bench_persons (see the module docstring). The bad ID has one wrong
    digit at positions 9-17; q_id is its check-digit repair (one edit away, another person)."""
    n = max(200, int(n_persons * DECOY_SHARE))
    regions = _lit(REGIONS)
    kinds = ", ".join(f"('{k}')" for k in DECOY_KINDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_decoys AS
        WITH d AS (
            SELECT v.kind, t.i, (hash(t.i, v.kind, 'dn', {seed}) >> 2)::BIGINT AS h,
                   ({regions})[(1 + hash(t.i, v.kind, 'dr', {seed}) % {len(REGIONS)})::BIGINT] AS p_region,
                   strftime(DATE '2005-01-01' + (hash(t.i, v.kind, 'db', {seed}) % 1000)::INT, '%Y%m%d') AS birth,
                   lpad((hash(t.i, v.kind, 'ds', {seed}) % 1000)::VARCHAR, 3, '0') AS seq,
                   (9 + hash(t.i, v.kind, 'dp', {seed}) % 9)::INT AS pos
            FROM (VALUES {kinds}) v(kind), range({n}) t(i)
        ), p AS (
            SELECT *, p17 || {_id_check('p17')} AS p_id
            FROM (SELECT *, p_region || birth || seq AS p17 FROM d)
        ), b AS (
            SELECT *, left(p_id, pos - 1)
                      || ((ascii(substr(p_id, pos, 1)) - 48 + 1 + hash(i, kind, 'dd', {seed}) % 9) % 10)::VARCHAR
                      || substr(p_id, pos + 1) AS bad_id
            FROM p
        ), named AS (
            SELECT *, CASE kind WHEN 'decoy_common_name'
                                THEN ({_lit(COMMON_NAMES)})[1 + h % {len(COMMON_NAMES)}]
                                ELSE {_given_name('h', seed)} END AS p_name,
                   {_given_name(f"(hash(i, kind, 'dq', {seed}) >> 2)::BIGINT", seed)} AS other_name
            FROM b
        )
        SELECT kind, i, p_id, bad_id, left(bad_id, 17) || {_id_check('left(bad_id, 17)')} AS q_id, p_name,
               CASE kind WHEN 'decoy_check_digit_repair'
                         THEN CASE WHEN other_name = p_name THEN other_name || '德' ELSE other_name END
                         ELSE p_name END AS q_name,
               p_region,
               CASE kind WHEN 'decoy_common_name' THEN p_region
                         ELSE ({regions})[(1 + hash(i, kind, 'dqr', {seed}) % {len(REGIONS)})::BIGINT] END AS q_region,
               (1 + hash(i, kind, 'df', {seed}) % {n_firms})::BIGINT AS p_fidx,
               (1 + hash(i, kind, 'dqf', {seed}) % {n_firms})::BIGINT AS q_fidx,
               CASE WHEN {_u('i', 'dph', seed)} < 0.6 THEN '1' || (3 + hash(i, kind, 'dp1', {seed}) % 7)::VARCHAR
                    || lpad((hash(i, kind, 'dp2', {seed}) % 1000000000)::VARCHAR, 9, '0') END AS p_phone,
               CASE WHEN {_u('i', 'dqph', seed)} < 0.6 THEN '1' || (3 + hash(i, kind, 'dq1', {seed}) % 7)::VARCHAR
                    || lpad((hash(i, kind, 'dq2', {seed}) % 1000000000)::VARCHAR, 9, '0') END AS q_phone
        FROM named
    """)
    # the other person (every kind) and, for the namesake kind, the true owner too: seen valid
    con.execute(f"""
        INSERT INTO bench_persons (pidx, id, region_code, name, phone, fidx)
        SELECT {n_persons} + 1000000 + row_number() OVER (ORDER BY kind, i), q_id, q_region, q_name, q_phone, q_fidx
        FROM bench_decoys
        UNION ALL
        SELECT {n_persons} + 2000000 + row_number() OVER (ORDER BY kind, i), p_id, p_region, p_name, p_phone, p_fidx
        FROM bench_decoys WHERE kind = 'decoy_namesake_one_digit'
    """)


def _league_map() -> str:
    return "MAP {" + ", ".join(f"'{k}': '{v}'" for k, v in LEAGUE_NAMES.items()) + "}"


def _firm_name_noise(col: str, key: str, seed: int) -> tuple[str, str]:
    u = _u(key, col + "k", seed)
    kind = (f"CASE WHEN {u} < 0.03 THEN 'firm_suffix_variant' WHEN {u} < 0.06 THEN 'firm_no_region_prefix' END")
    leagues = "|".join(["内蒙古"] + list(LEAGUE_NAMES.values()))
    written = f"""CASE {kind}
        WHEN 'firm_suffix_variant' THEN CASE WHEN {col} LIKE '%有限责任公司' THEN regexp_replace({col}, '有限责任公司$', '有限公司')
                                             ELSE regexp_replace({col}, '有限公司$', '有限责任公司') END
        WHEN 'firm_no_region_prefix' THEN regexp_replace({col}, '^({leagues})', '')
        ELSE {col} END"""
    return kind, written
