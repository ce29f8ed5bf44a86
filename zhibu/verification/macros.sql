-- Small formatting helpers for the Chinese `facts` text of the findings.
CREATE OR REPLACE TEMP MACRO fact_day(d) AS coalesce(strftime(d, '%Y-%m-%d'), '无');
CREATE OR REPLACE TEMP MACRO fact_month(m) AS coalesce(strftime(m, '%Y-%m'), '无');
-- 138****5678: phones are masked in facts (facts reach report.html).
CREATE OR REPLACE TEMP MACRO fact_phone(p) AS substr(p, 1, 3) || '****' || substr(p, 8, 4);
-- Where the money stands: paid on a day, or still in process with its status.
CREATE OR REPLACE TEMP MACRO fact_payment(pay_date, status) AS
    CASE WHEN pay_date IS NOT NULL THEN fact_day(pay_date) || '拨付'
         ELSE '尚未拨付（状态：' || coalesce(status, '无') || '）' END;
CREATE OR REPLACE TEMP MACRO fact_applicant(applicant_type, applicant_id) AS
    '申领主体：' || coalesce(applicant_type, '类型不详') || ' ' || coalesce(applicant_id, '证件号不详');
CREATE OR REPLACE TEMP MACRO fact_amount(amount) AS coalesce(amount::VARCHAR || '元', '金额不详');
