"""A bureau's workbook printed by real LibreOffice (headless) to PDF: A4 landscape, one page
wide, ≤ 2 pages per 20 rows of a policy sheet (the issue: a 5-row workbook printed 38 pages)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from reports.exports import export_rows, write_xlsx
from test_reports_data import MONTH, cid

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None and not os.environ.get("ZHIBU_REQUIRE_CLIENTS"), reason="LibreOffice missing: apt-get install -y libreoffice-calc")

EVIDENCE = ("毕业2025-06 本科 内蒙古大学; 用工备案2026-08-03 合同12个月 呼和浩特市青城科技有限公司; "
            "失业保险已缴3个月(2026-08..10) 单位缴费基数4,200.00元; 登记失业2026-05-12 就业困难人员")


def _rows(n: int) -> list[dict]:
    import pyarrow as pa
    from reports.parquet_out import ELIGIBILITY_SCHEMA
    recs = []
    for i in range(n):
        p = cid(f"150102199{i % 10}0101{i:03d}")
        recs.append(dict(run_month=MONTH, policy_code="hiring_social_insurance", beneficiary_type="firm",
                         beneficiary_id="91150102MA0N000001", beneficiary_name="呼和浩特市青城科技有限公司",
                         person_id_number=p, person_name="巴特尔·朝鲁" if i % 2 else "张三伟",
                         amount=Decimal("2345.67"), period_start="2026-08", period_end="2026-10",
                         region_code="150102", league_code="150100", match_method="exact",
                         match_score=1.0, evidence=EVIDENCE, phone="13812345678"))
    return export_rows(pa.Table.from_pylist(recs, schema=ELIGIBILITY_SCHEMA))


def _pdf_pages(xlsx, outdir) -> list[tuple[float, float]]:
    """Pages of the PDF LibreOffice prints from `xlsx`, as (width, height) in points."""
    env = dict(os.environ, HOME=str(outdir))          # a fresh LibreOffice profile
    subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{outdir}/lo",
                    "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx)],
                   check=True, capture_output=True, timeout=240, env=env)
    pdf = outdir / (xlsx.stem + ".pdf")
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    n = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        n = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = (float(boxes[0][2]) - float(boxes[0][0]), float(boxes[0][3]) - float(boxes[0][1]))
    return [(w, h)] * n


def test_libreoffice_prints_at_most_two_pages_per_20_rows(tmp_path):
    empty = write_xlsx([], tmp_path / "empty.xlsx", MONTH, "150100", exclusions=[])
    base = len(_pdf_pages(empty, tmp_path))           # 汇总 + one header-only page per sheet
    assert base <= 8
    for n in (20, 40):
        full = write_xlsx(_rows(n), tmp_path / f"rows{n}.xlsx", MONTH, "150100", exclusions=[])
        pages = _pdf_pages(full, tmp_path)
        w, h = pages[0]
        assert w > h and abs(w - 842) < 3 and abs(h - 595) < 3      # A4 landscape
        sheet_pages = len(pages) - base + 1            # the policy sheet's own pages
        print(f"LibreOffice: {n} rows -> {sheet_pages} page(s) for the sheet, "
              f"{len(pages)} for the workbook ({base} when empty)")
        assert sheet_pages <= 2 * -(-n // 20), f"{sheet_pages} pages for {n} rows"
