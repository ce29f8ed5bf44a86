-- ver_ledger_contributions: the social-insurance rows of the people the ledger pays, and nobody
-- else's. The contribution checks only ever ask about a grant's beneficiary, so one semi-join
-- scan of the month's contributions (≈20M rows a month regionally) replaces a DISTINCT over all
-- of them per check.
CREATE OR REPLACE TEMP TABLE ver_ledger_contributions AS
WITH ledger_beneficiaries AS (
    SELECT DISTINCT beneficiary_id_number AS id_number
    FROM ver_cases
    WHERE beneficiary_id_number IS NOT NULL
)

SELECT si.employer_uscc, si.id_number, si.contribution_month, si.insured_type, si.insurance_type,
       si.employer_amount, si.individual_amount
FROM lnk_social_insurance AS si
SEMI JOIN ledger_beneficiaries USING (id_number)
