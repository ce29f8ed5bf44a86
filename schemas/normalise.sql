-- Normalisers for the noise of extracts.md, as DuckDB macros so that every source is typed in
-- one set-based pass (a regional social-insurance month is ~20 million rows).
-- python-stdnum (cn.ric, cn.uscc) is the reference these are tested against.

-- Full-width digits/letters and full-width punctuation → ASCII. translate() costs ~0.5 µs a row,
-- so it only runs on the rare values that contain a non-ASCII character.
CREATE OR REPLACE MACRO zb_ascii(s) AS
    CASE WHEN regexp_matches(s, '[^\x00-\x7F]')
         THEN translate(s,
              '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－／．，＋',
              '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-/.,+')
         ELSE s END;

-- Strip what spreadsheets and typists add around a code: whitespace (incl. U+3000, NBSP),
-- the Excel text-marker apostrophe, then upper-case.
CREATE OR REPLACE MACRO zb_code_text(s) AS
    nullif(upper(regexp_replace(zb_ascii(s), '[\s\x{3000}\x{00A0}''’‘`"]', '', 'g')), '');

-- GB 11643 MOD 11-2 check character of the first 17 digits.
CREATE OR REPLACE MACRO zb_id_check(s17) AS
    substr('10X98765432',
        ((  (ascii(s17[1]) - 48) * 7  + (ascii(s17[2]) - 48) * 9  + (ascii(s17[3]) - 48) * 10
          + (ascii(s17[4]) - 48) * 5  + (ascii(s17[5]) - 48) * 8  + (ascii(s17[6]) - 48) * 4
          + (ascii(s17[7]) - 48) * 2  + (ascii(s17[8]) - 48) * 1  + (ascii(s17[9]) - 48) * 6
          + (ascii(s17[10]) - 48) * 3 + (ascii(s17[11]) - 48) * 7 + (ascii(s17[12]) - 48) * 9
          + (ascii(s17[13]) - 48) * 10 + (ascii(s17[14]) - 48) * 5 + (ascii(s17[15]) - 48) * 8
          + (ascii(s17[16]) - 48) * 4 + (ascii(s17[17]) - 48) * 2) % 11) + 1, 1);

-- A citizen ID as written → 18-char form (15-digit legacy IDs converted: '19' inserted before
-- the 2-digit year and the check digit computed), or NULL when it has no ID shape at all.
-- zb_id_t takes text already cleaned by zb_code_text (so staging cleans once per value).
CREATE OR REPLACE MACRO zb_id_t(v) AS
    CASE WHEN regexp_full_match(v, '[0-9]{17}[0-9X]') THEN v
         WHEN regexp_full_match(v, '[0-9]{15}')
             THEN substr(v, 1, 6) || '19' || substr(v, 7, 9)
                  || zb_id_check(substr(v, 1, 6) || '19' || substr(v, 7, 9))
         ELSE NULL END;
CREATE OR REPLACE MACRO zb_id(s) AS zb_id_t(zb_code_text(s));

-- Why an ID could not be read (NULL when it could).
CREATE OR REPLACE MACRO zb_id_problem_t(v) AS
    CASE WHEN v IS NULL THEN NULL
         WHEN regexp_full_match(v, '[0-9]+(\.[0-9]*)?E\+?[0-9]+') THEN 'id_scientific_notation'
         WHEN zb_id_t(v) IS NULL THEN 'id_malformed'
         ELSE NULL END;
CREATE OR REPLACE MACRO zb_id_problem(s) AS zb_id_problem_t(zb_code_text(s));

-- The same check digit by integer arithmetic on the 17-digit body: ~2× cheaper than 17
-- substr/ascii calls, and it runs on every ID of every row.
CREATE OR REPLACE MACRO zb_id_check_n(n) AS
    substr('10X98765432', CAST((
          (n // 10000000000000000) % 10 * 7 + (n // 1000000000000000) % 10 * 9
        + (n // 100000000000000) % 10 * 10 + (n // 10000000000000) % 10 * 5
        + (n // 1000000000000) % 10 * 8 + (n // 100000000000) % 10 * 4
        + (n // 10000000000) % 10 * 2 + (n // 1000000000) % 10 * 1
        + (n // 100000000) % 10 * 6 + (n // 10000000) % 10 * 3
        + (n // 1000000) % 10 * 7 + (n // 100000) % 10 * 9
        + (n // 10000) % 10 * 10 + (n // 1000) % 10 * 5
        + (n // 100) % 10 * 8 + (n // 10) % 10 * 4 + n % 10 * 2) % 11 AS INTEGER) + 1, 1);

CREATE OR REPLACE MACRO zb_id_valid(id18) AS
    coalesce(zb_id_check_n(TRY_CAST(substr(id18, 1, 17) AS BIGINT)) = substr(id18, 18, 1), FALSE);

-- GB 32100-2015 unified social credit code.
CREATE OR REPLACE MACRO zb_uscc_v(c) AS instr('0123456789ABCDEFGHJKLMNPQRTUWXY', c) - 1;
CREATE OR REPLACE MACRO zb_uscc_check(s17) AS
    substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
        ((31 - ((  zb_uscc_v(s17[1]) * 1   + zb_uscc_v(s17[2]) * 3   + zb_uscc_v(s17[3]) * 9
                 + zb_uscc_v(s17[4]) * 27  + zb_uscc_v(s17[5]) * 19  + zb_uscc_v(s17[6]) * 26
                 + zb_uscc_v(s17[7]) * 16  + zb_uscc_v(s17[8]) * 17  + zb_uscc_v(s17[9]) * 20
                 + zb_uscc_v(s17[10]) * 29 + zb_uscc_v(s17[11]) * 25 + zb_uscc_v(s17[12]) * 13
                 + zb_uscc_v(s17[13]) * 8  + zb_uscc_v(s17[14]) * 24 + zb_uscc_v(s17[15]) * 10
                 + zb_uscc_v(s17[16]) * 30 + zb_uscc_v(s17[17]) * 28) % 31)) % 31) + 1, 1);

CREATE OR REPLACE MACRO zb_uscc_t(v) AS CASE WHEN regexp_full_match(v, '[0-9A-Z]{18}') THEN v END;
CREATE OR REPLACE MACRO zb_uscc(s) AS zb_uscc_t(zb_code_text(s));

CREATE OR REPLACE MACRO zb_uscc_valid(u) AS
    u IS NOT NULL
    AND regexp_full_match(u, '[0-9A-HJ-NPQRTUWXY]{18}')
    AND zb_uscc_check(substr(u, 1, 17)) = substr(u, 18, 1);

-- Names: stray whitespace removed, the many separator dots of transliterated (e.g. Mongolian)
-- names unified to '·'. Traditional→simplified happens in matchers.names (OpenCC) on the
-- residue, because a per-row translate() over 20M rows is far too slow.
CREATE OR REPLACE MACRO zb_name(s) AS
    nullif(regexp_replace(regexp_replace(s, '[\s\x{3000}\x{00A0}]', '', 'g'),
                          '[•・．.\x{00B7}\x{2027}\x{2022}\x{30FB}\x{FF65}\x{02D9}]+', '·', 'g'), '');

CREATE OR REPLACE MACRO zb_text(s) AS nullif(trim(regexp_replace(s, '[\x{3000}\x{00A0}]', ' ', 'g')), '');

-- Dates: 2026-10-15, 2026/10/15, 2026/1/5, 20261015, 2026年10月15日, an ISO timestamp, or an
-- Excel serial day number (xlsx cells stored as numbers).
CREATE OR REPLACE MACRO zb_date_t(v) AS
    CASE WHEN v IS NULL OR v = '' THEN NULL
         WHEN regexp_full_match(v, '[1-9][0-9]{4}(\.0+)?')
             THEN CAST(DATE '1899-12-30' + CAST(CAST(v AS DOUBLE) AS INTEGER) AS DATE)
         ELSE CAST(try_strptime(v, ['%Y-%m-%d', '%Y/%m/%d', '%Y%m%d', '%Y年%m月%d日',
                                    '%Y-%m-%d %H:%M:%S', '%Y/%m/%d %H:%M:%S', '%Y.%m.%d',
                                    '%Y-%m-%dT%H:%M:%S']) AS DATE)
         END;
CREATE OR REPLACE MACRO zb_date(s) AS zb_date_t(trim(zb_ascii(s)));
CREATE OR REPLACE MACRO zb_date_fast(v) AS
    coalesce(CASE WHEN length(v) = 10 AND v[5] = '-' THEN TRY_CAST(v AS DATE) END, zb_date_t(v));

CREATE OR REPLACE MACRO zb_date_ok(d) AS d IS NULL OR d BETWEEN DATE '1900-01-01' AND DATE '2100-12-31';

-- Months (费款所属期, 补贴所属期): 202610, 2026-10, 2026/10, 2026年10月 → the 1st of the month.
CREATE OR REPLACE MACRO zb_month_t(v) AS
    CASE WHEN v IS NULL OR v = '' THEN NULL
         ELSE CAST(date_trunc('month', try_strptime(v, ['%Y%m', '%Y-%m', '%Y/%m', '%Y年%m月',
                   '%Y-%m-%d', '%Y/%m/%d', '%Y%m%d'])) AS DATE)
         END;
CREATE OR REPLACE MACRO zb_month(s) AS zb_month_t(trim(zb_ascii(s)));
-- Fast path for the two forms nearly every row uses (202610, 2026-10).
CREATE OR REPLACE MACRO zb_month_fast(v) AS
    coalesce(TRY_CAST(v || '-01' AS DATE),
             CASE WHEN length(v) = 6 THEN TRY_CAST(substr(v, 1, 4) || '-' || substr(v, 5, 2) || '-01' AS DATE) END,
             zb_month_t(v));

-- Money → exact DECIMAL(12,2), never a float. Thousands separators only as Chinese systems
-- write them (1,234.50: groups of three before the point). Anything else with a comma ("288,61",
-- "1.234,50") or with more than two decimals cannot be read unambiguously: NULL, so the row is
-- quarantined as bad_amount rather than paid 100x too much.
CREATE OR REPLACE MACRO zb_money_t(v) AS
    CASE WHEN regexp_full_match(v, '[+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]{0,2})?')
         THEN TRY_CAST(replace(v, ',', '') AS DECIMAL(12, 2)) END;
CREATE OR REPLACE MACRO zb_money(s) AS zb_money_t(regexp_replace(zb_ascii(s), '[\s¥￥元]', '', 'g'));
CREATE OR REPLACE MACRO zb_money_fast(s) AS zb_money(s);

CREATE OR REPLACE MACRO zb_bool(s) AS
    CASE WHEN trim(s) IN ('是', 'Y', 'y', 'TRUE', 'true', 'True', '1') THEN TRUE
         WHEN trim(s) IN ('否', 'N', 'n', 'FALSE', 'false', 'False', '0') THEN FALSE
         ELSE NULL END;

-- Mobile phones: +86, spaces and dashes removed; anything else that is not a mobile → NULL.
CREATE OR REPLACE MACRO zb_phone_t(d) AS
    CASE WHEN regexp_full_match(d, '1[3-9][0-9]{9}') THEN d
         WHEN regexp_full_match(d, '(0086|86)1[3-9][0-9]{9}') THEN right(d, 11)
         ELSE NULL END;
CREATE OR REPLACE MACRO zb_phone(s) AS zb_phone_t(regexp_replace(zb_ascii(s), '[^0-9]', '', 'g'));

CREATE OR REPLACE MACRO zb_region(s) AS
    CASE WHEN regexp_full_match(zb_code_text(s), '[0-9]{6}') THEN zb_code_text(s) END;

CREATE OR REPLACE MACRO zb_league(region) AS substr(region, 1, 4) || '00';

-- ';'-separated lists (also tolerating ；，, 、).
CREATE OR REPLACE MACRO zb_list(s) AS
    list_filter(list_transform(string_split(regexp_replace(coalesce(s, ''), '[；，,、|]', ';', 'g'), ';'),
                               lambda x: trim(x)), lambda x: x <> '');

-- Bank and card account numbers (银行账号, 社会保障卡金融账户): full-width folded, spaces, dashes and
-- the Excel apostrophe removed. Valid = digits only, a length in [lo, hi], and for a card's
-- 金融账户 the Luhn (mod 10) check digit. Never logged, masked in every output but the payment batch.
CREATE OR REPLACE MACRO zb_account_text(s) AS
    nullif(regexp_replace(zb_ascii(s), '[\s\x{3000}\x{00A0}''’‘`"\-‐‑–—－_]', '', 'g'), '');
CREATE OR REPLACE MACRO zb_luhn(d) AS
    list_sum(list_transform(range(length(d)), lambda i:
        CASE WHEN i % 2 = 1
             THEN ((ascii(d[length(d) - i]) - 48) * 2) // 10 + ((ascii(d[length(d) - i]) - 48) * 2) % 10
             ELSE ascii(d[length(d) - i]) - 48 END)) % 10 = 0;
CREATE OR REPLACE MACRO zb_account_valid(a, lo, hi, luhn) AS
    coalesce(regexp_full_match(a, '[0-9]+') AND length(a) BETWEEN lo AND hi
             AND (NOT luhn OR zb_luhn(a)), FALSE);
