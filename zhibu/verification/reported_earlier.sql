-- Findings are reported once, by the first run (in month order) that finds them, except the
-- cases still waiting at a stage: those are re-stated by every run while they wait.
-- "Earlier" means a run of a month before M, so re-running an old month reproduces its result.
DELETE FROM ver_new_findings AS new
WHERE new.check_code NOT IN ('overdue_accept', 'overdue_review', 'overdue_payment')
  AND EXISTS (
      SELECT 1
      FROM verification_findings AS earlier
      WHERE earlier.run_month < $run_month
        AND earlier.check_code = new.check_code
        AND earlier.application_id = new.application_id
  )
