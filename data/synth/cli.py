"""``zhibu synth`` / ``python -m data.synth``: generate synthetic extracts with ground truth."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--months", required=True, help="YYYY-MM..YYYY-MM, or a comma-separated list")
    parser.add_argument("--scale", default="sample",
                        help="1 = one region's real volume; a float, or a named scale: sample, tiny")
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--formats", default="mixed", choices=["mixed", "csv", "xlsx", "parquet"],
                        help="mixed (default) varies format and encoding per source and month")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--payments", action="store_true",
                        help="also plant confirmations and social security cards (From list to money) with their truth")
    parser.add_argument("--json", action="store_true", help="print the full summary as JSON")


def run(args: argparse.Namespace) -> int:
    from .generate import generate

    s = generate(args.months, args.scale, args.seed, args.out, formats=args.formats, threads=args.threads,
                 payments=getattr(args, "payments", False))
    if args.json:
        print(json.dumps(s, ensure_ascii=False, indent=1, default=str))
    else:
        rows = sum(f["rows"] for f in s["files"])
        size = sum(f["bytes"] for f in s["files"])
        print(f"synth: {len(s['files'])} files, {rows:,} rows, {size / 1e6:.1f} MB in {s['timings']['total']}s "
              f"-> {args.out}")
        for pol, c in sorted(s["scenario_counts"]["decisions"].items()):
            print(f"  {pol}: {c['scenarios']} scenarios, {c['eligible_rows']} eligible rows, "
                  f"{c['near_miss_rows']} near-miss rows")
        print("  findings:", ", ".join(f"{k}={v}" for k, v in sorted(s["scenario_counts"]["findings"].items())))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m data.synth", description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
