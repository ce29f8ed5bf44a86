-- 联合核查 / 不定期核查: firms ranked by what they were paid over the last 12 months up to the
-- as-of date (grants applied for by a firm, pay_date in the window):
--   amount  = total paid;  persons = distinct beneficiaries;
--   months  = distinct person × subsidy month (recurring subsidies; one-off grants add none).
-- A firm is in the top 5% on a measure when the firms with a value at least as high (itself and
-- its ties included) number no more than ceil(5% of the firms ranked), and the value is > 0: a
-- tie that straddles the cut-off is left out rather than letting the list grow (if every firm
-- has one person, none stands out). A firm in the top 5% on any of the three is listed for
-- joint verification; of the others, 20 are drawn for unannounced checks in an order
-- fixed by md5(uscc | run month): reproducible, different every month.
WITH paid_firm_grants AS (
    SELECT * FROM ver_cases
    WHERE NOT is_rejected
      AND applicant_type = '单位'
      AND applicant_id IS NOT NULL
      AND pay_date BETWEEN $window_start AND $as_of
),

subsidised_person_months AS (
    SELECT DISTINCT applicant_id, beneficiary_id_number, subsidy_month
    FROM paid_firm_grants
    WHERE beneficiary_id_number IS NOT NULL AND subsidy_month IS NOT NULL
),

firm_totals AS (
    SELECT
        applicant_id AS employer_uscc,
        sum(amount)::DECIMAL(12, 2) AS amount,
        count(DISTINCT beneficiary_id_number)::INTEGER AS persons,
        min(region_code) AS ledger_region_code
    FROM paid_firm_grants
    GROUP BY applicant_id
),

firm_months AS (
    SELECT applicant_id AS employer_uscc, count(*)::INTEGER AS months
    FROM subsidised_person_months
    GROUP BY applicant_id
),

ranked_firms AS (
    SELECT
        t.*,
        coalesce(m.months, 0) AS months,
        rank() OVER (ORDER BY t.amount DESC)::INTEGER AS amount_rank,
        rank() OVER (ORDER BY t.persons DESC)::INTEGER AS persons_rank,
        rank() OVER (ORDER BY coalesce(m.months, 0) DESC)::INTEGER AS months_rank,
        -- default window frame: every firm up to this one's value, its ties included
        count(*) OVER (ORDER BY t.amount DESC) AS firms_at_or_above_amount,
        count(*) OVER (ORDER BY t.persons DESC) AS firms_at_or_above_persons,
        count(*) OVER (ORDER BY coalesce(m.months, 0) DESC) AS firms_at_or_above_months,
        count(*) OVER ()::INTEGER AS firms_ranked,
        ceil(count(*) OVER () * $top_share::DECIMAL(9, 4))::INTEGER AS top_n  -- exact, no float
    FROM firm_totals AS t
    LEFT JOIN firm_months AS m USING (employer_uscc)
),

ranking_reasons AS (
    SELECT
        *,
        concat_ws('；',
            CASE WHEN firms_at_or_above_amount <= top_n AND amount > 0 THEN '补贴金额居前' || $top_percent || '%（第' || amount_rank || '名）' END,
            CASE WHEN firms_at_or_above_persons <= top_n AND persons > 0 THEN '受益人数居前' || $top_percent || '%（第' || persons_rank || '名）' END,
            CASE WHEN firms_at_or_above_months <= top_n AND months > 0 THEN '补贴人月数居前' || $top_percent || '%（第' || months_rank || '名）' END
        ) AS ranking_reason
    FROM ranked_firms
),

random_draw AS (
    SELECT
        employer_uscc,
        row_number() OVER (ORDER BY md5(employer_uscc || '|' || $run_month), employer_uscc) AS draw_no
    FROM ranking_reasons
    WHERE ranking_reason = ''
),

selected_firms AS (
    SELECT
        r.*,
        d.draw_no,
        CASE WHEN r.ranking_reason <> '' THEN 'ranking' ELSE 'random' END AS selection,
        CASE WHEN r.ranking_reason <> '' THEN '联合核查：' || r.ranking_reason
             ELSE '不定期核查：随机抽取（第' || d.draw_no || '号）' END AS reason
    FROM ranking_reasons AS r
    LEFT JOIN random_draw AS d USING (employer_uscc)
    WHERE r.ranking_reason <> '' OR d.draw_no <= $random_sample_size
),

firm_registrations AS (
    SELECT uscc, min(name) AS employer_name, min(region_code) AS region_code
    FROM lnk_business_registration
    GROUP BY uscc
)

SELECT
    s.employer_uscc,
    reg.employer_name,
    coalesce(reg.region_code, s.ledger_region_code) AS region_code,
    left(coalesce(reg.region_code, s.ledger_region_code), 4) || '00' AS league_code,
    s.selection,
    s.reason,
    s.amount,
    s.persons,
    s.months,
    s.amount_rank,
    s.persons_rank,
    s.months_rank,
    s.firms_ranked,
    s.draw_no::INTEGER AS draw_no
FROM selected_firms AS s
LEFT JOIN firm_registrations AS reg ON reg.uscc = s.employer_uscc
