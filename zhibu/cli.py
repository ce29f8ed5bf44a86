"""`zhibu` command line: thin entry points to the flow and the analyst tools."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from zhibu.warehouse import DEFAULT_WAREHOUSE, ROOT, parse_month

SAMPLE = ROOT / "data" / "sample"


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("ZHIBU_PROGRESS", "1")
    if "PREFECT_HOME" not in os.environ:
        os.environ["PREFECT_HOME"] = str(ROOT / ".venv" / "prefect-home") if (ROOT / ".venv").exists() \
            else str(Path.home() / ".prefect")


def months_between(first: str, last: str) -> list[str]:
    y, m = map(int, parse_month(first).split("-"))
    ly, lm = map(int, parse_month(last).split("-"))
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _run_months(months: list[tuple[str, Path]], args) -> str:
    _quiet_prefect()
    from flows.monthly import monthly_run
    folder = ""
    for i, (month, input_dir) in enumerate(months, start=1):
        print(f"[{i}/{len(months)}] {month}: running load → validate → link → decide → verify → publish",
              file=sys.stderr, flush=True)
        folder = monthly_run(month=month, input_dir=str(input_dir), warehouse=str(args.warehouse),
                             output=str(args.output), without=args.without,
                             wait_for_lock=getattr(args, "wait", False),
                             partitions=args.partitions, dask_address=args.dask_address)
        print(f"[{i}/{len(months)}] {month}: published {folder}", file=sys.stderr, flush=True)
    return folder


def cmd_run(args) -> int:
    if not Path(args.input).is_dir():
        raise SystemExit(f"zhibu: input folder {args.input} does not exist")
    folder = _run_months([(parse_month(args.month), Path(args.input))], args)
    print(Path(folder) / "report.html")
    return 0


def cmd_backfill(args) -> int:
    root = Path(args.incoming)
    months = [(m, root / m) for m in months_between(args.from_month, args.to_month)]
    missing = [str(p) for _, p in months if not p.is_dir()]
    if missing:
        raise SystemExit(f"zhibu: missing input folder(s): {', '.join(missing)}")
    folder = _run_months(months, args)
    print(Path(folder) / "report.html")
    return 0


def cmd_demo(args) -> int:
    """The committed sample, every month in order: what `make run` does."""
    incoming = SAMPLE / "incoming"
    if not incoming.is_dir():
        raise SystemExit(f"zhibu: the committed sample is missing ({incoming})")
    months = sorted(p.name for p in incoming.iterdir() if p.is_dir())
    folder = _run_months([(m, incoming / m) for m in months], args)
    report = Path(folder).resolve() / "report.html"
    print(f"报告 / report: {report}")
    return 0


def cmd_explain(args) -> int:
    from matchers.link import link_month
    from policies.explain import explain, render_explanation
    from zhibu.warehouse import connect, create_asof_views
    con = connect(args.warehouse, read_only=False)
    month = parse_month(args.month)
    create_asof_views(con, month)
    # Linking writes this month's link tables; explain must see what the run saw.
    link_month(con, month, None)
    print(render_explanation(explain(con, month, args.id)))
    return 0


def cmd_policies(args) -> int:
    from policies.catalogue import render_catalogue
    for p in render_catalogue(Path(args.out)):
        print(p)
    return 0


def cmd_synth(args) -> int:
    from data.synth.cli import run
    return run(args) or 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zhibu", description="直补快办: proactive employment-subsidy matching")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
        sp.add_argument("--output", type=Path, default=Path("reports"))
        sp.add_argument("--without", action="append", default=[], metavar="SOURCE",
                        help="run with an optional/required source switched off (repeatable)")
        sp.add_argument("--wait", action="store_true", help="wait for another run on the warehouse to finish")
        sp.add_argument("--partitions", type=int, default=0,
                        help="run the decide stage as N person-hash partitions on Dask")
        sp.add_argument("--dask-address", default=None,
                        help="scheduler of an existing Dask cluster (default: a LocalCluster; env ZHIBU_DASK_ADDRESS)")

    sp = sub.add_parser("run", help="run one month")
    sp.add_argument("--month", required=True)
    sp.add_argument("--input", required=True)
    common(sp)
    sp.set_defaults(fn=cmd_run)

    sp = sub.add_parser("backfill", help="run months in order")
    sp.add_argument("--from", dest="from_month", required=True)
    sp.add_argument("--to", dest="to_month", required=True)
    sp.add_argument("--incoming", required=True, help="folder holding one sub-folder per month (YYYY-MM)")
    common(sp)
    sp.set_defaults(fn=cmd_backfill)

    sp = sub.add_parser("demo", help="run the committed sample months (what `make run` does)")
    common(sp)
    sp.set_defaults(fn=cmd_demo)

    sp = sub.add_parser("explain", help="why is (or isn't) this person/firm eligible?")
    sp.add_argument("--month", required=True)
    sp.add_argument("--id", required=True, help="citizen ID or USCC")
    sp.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    sp.set_defaults(fn=cmd_explain)

    sp = sub.add_parser("policies", help="render the 政策清单 and 政策一卡通")
    sp.add_argument("--out", default="reports/policies")
    sp.set_defaults(fn=cmd_policies)

    # ---- review (issue 19): the review queue to Excel and the analysts' decisions back
    def cmd_review(args) -> int:
        from matchers.review_xlsx import ReviewImportError, export_review, import_review, month_of, queue_path
        decisions = Path(args.warehouse).with_name("review_decisions.csv")
        if args.review_cmd == "export":
            month = parse_month(args.month)
            queue = queue_path(args.output, month)
            if not queue.is_file():
                raise SystemExit(f"zhibu: {queue} not found: run month {month} first")
            print(export_review(queue, args.out or Path(args.output) / month / f"review_{month}.xlsx", month))
            return 0
        month = parse_month(args.month) if args.month else month_of(args.file)
        if not month:
            raise SystemExit("zhibu: cannot tell the workbook's month: pass --month YYYY-MM")
        try:
            n = import_review(args.file, decisions, queue_path(args.output, month))
        except ReviewImportError as e:
            print("\n".join(f"zhibu: {m}" for m in e.errors), file=sys.stderr)
            raise SystemExit(f"zhibu: {len(e.errors)} row(s) rejected, {e.imported} imported into {decisions}")
        print(f"{n} decision(s) imported into {decisions}; the next run applies them")
        return 0

    sp = sub.add_parser("review", help="review grey-zone matches in Excel (export / import)")
    rsub = sp.add_subparsers(dest="review_cmd", required=True)
    for name, hlp in (("export", "write the month's review queue to an xlsx (确认/否决 dropdown)"),
                      ("import", "read a filled review xlsx into review_decisions.csv (validated)")):
        rp = rsub.add_parser(name, help=hlp)
        if name == "export":
            rp.add_argument("--month", required=True, help="month YYYY-MM whose review queue to export")
            rp.add_argument("--out", type=Path, default=None,
                            help="xlsx to write (default: <output>/<month>/review_<month>.xlsx)")
        else:
            rp.add_argument("file", type=Path, help="the filled review xlsx")
            rp.add_argument("--month", default=None, help="month YYYY-MM (default: read from the workbook)")
        rp.add_argument("--output", type=Path, default=Path("reports"),
                        help="folder holding <month>/review_queue.parquet (default: %(default)s)")
        rp.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE,
                        help="warehouse; decisions go to review_decisions.csv beside it (default: %(default)s)")
        rp.set_defaults(fn=cmd_review)
    # ---- end review

    sp = sub.add_parser("synth", help="generate synthetic extracts with ground truth")
    try:
        from data.synth.cli import add_arguments
        add_arguments(sp)
    except ImportError:
        pass
    sp.set_defaults(fn=cmd_synth)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        return args.fn(args)
    except SystemExit:
        raise
    except Exception as e:  # one-line reason, non-zero exit (outputs.md)
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"zhibu: {type(e).__name__}: {msg}", file=sys.stderr)
        if args.verbose:
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
