"""Loading benchmark: a regional social-insurance month (default 20M rows) through the loader
and the GX gate. Reports rows/s per phase and peak RSS. Not a test: run it on its own.

    .venv/bin/python -m benchmarks.load_social_insurance --rows 20000000
    .venv/bin/python -m benchmarks.load_social_insurance --csv DIR/2025-06/social_insurance.csv --month 2025-06

The second form loads a month the generator wrote (`zhibu synth --scale 1`), with its noise.
"""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from schemas.sources import SOURCES

HEADER = ["公民身份号码", "姓名", "单位统一社会信用代码", "参保身份", "险种类型", "费款所属期", "缴费基数",
          "单位缴费金额", "个人缴费金额", "到账日期", "行政区划代码"]


def make_csv(path: Path, rows: int) -> None:
    """A noisy month written set-based by DuckDB (valid IDs built with the SQL check digit)."""
    con = duckdb.connect()
    con.execute(Path("schemas/normalise.sql").read_text(encoding="utf-8"))
    persons = rows // 4
    con.execute(f"""
        COPY (
          WITH p AS (
            SELECT i, '150102' || strftime(DATE '1970-01-01' + CAST(hash(i) % 12000 AS INTEGER), '%Y%m%d')
                      || lpad(CAST(i % 1000 AS VARCHAR), 3, '0') AS body,
                   ['张伟', '王芳', '李娜', '巴特尔·朝鲁', '刘洋', '陈静'][1 + CAST(hash(i * 7) % 6 AS INTEGER)] AS name,
                   '91150100' || lpad(CAST(i % 99991 AS VARCHAR), 9, '0') AS uscc17
            FROM range({persons}) t(i)),
          r AS (
            SELECT p.*, ins FROM p, (VALUES ('110'), ('210'), ('310'), ('410')) v(ins))
          SELECT CASE WHEN hash(i, ins) % 100 = 0 THEN lower(body || zb_id_check(body)) || ' '
                      ELSE body || zb_id_check(body) END AS "公民身份号码",
                 name AS "姓名", uscc17 || zb_uscc_check(uscc17) AS "单位统一社会信用代码",
                 '单位职工' AS "参保身份", ins AS "险种类型",
                 CASE WHEN i % 2 = 0 THEN '202610' ELSE '2026-10' END AS "费款所属期",
                 '6,000.00' AS "缴费基数", '960.00' AS "单位缴费金额", '480.00' AS "个人缴费金额",
                 CASE WHEN i % 3 = 0 THEN '2026/10/20' ELSE '2026-10-20' END AS "到账日期",
                 '150102' AS "行政区划代码"
          FROM r
        ) TO '{path}' (HEADER, DELIMITER ',')""")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "zhibu-bench-load")
    ap.add_argument("--no-gate", action="store_true")
    ap.add_argument("--csv", type=Path, help="load this social_insurance.csv instead of generating one")
    ap.add_argument("--month", default="2026-10")
    args = ap.parse_args(argv)
    from schemas.gate import validate_month
    from schemas.loader import load_month
    from zhibu.warehouse import connect

    args.workdir.mkdir(parents=True, exist_ok=True)
    incoming = args.workdir / "incoming"
    incoming.mkdir(exist_ok=True)
    csv_path = incoming / "social_insurance.csv"
    if args.csv:
        csv_path.unlink(missing_ok=True)
        csv_path.symlink_to(args.csv.resolve())
        (args.workdir / "rows.json").unlink(missing_ok=True)
    elif not csv_path.exists() or not (args.workdir / "rows.json").exists() or int(json.loads((args.workdir / "rows.json").read_text())["rows"]) != args.rows:
        t = time.perf_counter()
        make_csv(csv_path, args.rows)
        (args.workdir / "rows.json").write_text(json.dumps({"rows": args.rows}))
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t:.1f}s")
    wh = args.workdir / "wh.duckdb"
    for p in (wh, Path(str(wh) + ".wal")):
        p.unlink(missing_ok=True)
    con = connect(wh)
    t0 = time.perf_counter()
    con.execute(f"SELECT count(*) FROM read_csv('{csv_path}', all_varchar = true)").fetchone()
    scan = time.perf_counter() - t0
    t0 = time.perf_counter()
    (fl,) = load_month(con, args.month, incoming, disabled=[s for s in SOURCES if s != "social_insurance"])
    load = time.perf_counter() - t0
    gate = 0.0
    if not args.no_gate:
        t0 = time.perf_counter()
        validate_month(con, args.month)
        gate = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    result = {"rows": fl.rows_read, "loaded": fl.rows_loaded, "quarantined": fl.rows_quarantined,
              "scan_floor_s": round(scan, 1), "load_s": round(load, 1), "gate_s": round(gate, 1),
              "total_s": round(load + gate, 1), "rows_per_s": int(fl.rows_read / (load + gate)),
              "peak_rss_gb": round(rss, 2)}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
