-- ver_cases: one row per application in the subsidy ledger as the run sees it (lnk_subsidy_ledger),
-- with the stage it has reached and, if it is still in process, the stage it is waiting for.
--
-- A stage counts as done when its own date is filled, when a later stage's date is filled, or when
-- the status says so (a status of 已审核 with an empty 受理日期 has evidently been accepted).
-- Rejected cases (不予受理 / 审核不通过) are closed: they wait for nothing. An empty status is
-- not a rejection.
CREATE OR REPLACE TEMP TABLE ver_cases AS
WITH ledger AS (
    SELECT * FROM lnk_subsidy_ledger
),

stages_reached AS (
    SELECT
        ledger.*,
        coalesce(status, '') IN ('不予受理', '审核不通过') AS is_rejected,
        (accept_date IS NOT NULL OR review_date IS NOT NULL OR pay_date IS NOT NULL
            OR coalesce(status, '') IN ('已受理', '已审核', '已拨付')) AS is_accepted,
        (review_date IS NOT NULL OR pay_date IS NOT NULL
            OR coalesce(status, '') IN ('已审核', '已拨付')) AS is_reviewed,
        (pay_date IS NOT NULL OR coalesce(status, '') = '已拨付') AS is_paid
    FROM ledger
),

waiting AS (
    SELECT
        stages_reached.*,
        CASE
            WHEN is_rejected THEN NULL
            WHEN NOT is_accepted AND apply_date IS NOT NULL THEN 'acceptance'
            WHEN is_accepted AND NOT is_reviewed AND accept_date IS NOT NULL THEN 'review'
            WHEN is_reviewed AND NOT is_paid AND review_date IS NOT NULL THEN 'payment'
        END AS waiting_for
    FROM stages_reached
)

SELECT
    waiting.*,
    CASE waiting_for
        WHEN 'acceptance' THEN apply_date
        WHEN 'review' THEN accept_date
        WHEN 'payment' THEN review_date
    END AS waiting_since,
    coalesce(policy.policy_name, waiting.policy_code, '政策不详') AS policy_name,
    coalesce(policy.is_one_off, false) AS is_one_off,
    left(waiting.region_code, 4) || '00' AS league_code
FROM waiting
LEFT JOIN ver_policies AS policy USING (policy_code)
