-- The years the working-day calendar must cover for this run: every date that a check compares
-- with a deadline, and the as-of date. (A deadline that falls after the last of these years is
-- later than every date compared with it.)
WITH dates_compared AS (
    -- start of the stage a case is still waiting for (only if it started by the as-of date)
    SELECT waiting_since AS day FROM ver_cases
    WHERE waiting_for IS NOT NULL AND waiting_since <= $as_of
    UNION ALL
    -- application and payment of the cases paid in this month's extract (超期办结)
    SELECT apply_date FROM ver_cases WHERE pay_date IS NOT NULL AND extract_month = $month_start
    UNION ALL
    SELECT pay_date FROM ver_cases WHERE pay_date IS NOT NULL AND extract_month = $month_start
    UNION ALL
    -- end of each earlier listing month (take-up)
    SELECT last_day(strptime(run_month || '-01', '%Y-%m-%d')::DATE) FROM eligibility
    WHERE run_month < $run_month
    UNION ALL
    SELECT $as_of::DATE
)

SELECT min(year(day)) AS first_year, max(year(day)) AS last_year
FROM dates_compared
WHERE day IS NOT NULL
