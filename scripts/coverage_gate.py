"""Fail unless line and branch coverage each reach their own threshold.

coverage.py's ``fail_under`` judges one combined figure; the project promises two
(lines and branches), so this reads coverage's JSON report and checks both.
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", help="coverage JSON report (coverage json -o FILE)")
    parser.add_argument("--lines", type=float, required=True, help="minimum line coverage, %%")
    parser.add_argument("--branches", type=float, required=True, help="minimum branch coverage, %%")
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as fh:
        totals = json.load(fh)["totals"]
    lines = 100.0 * totals["covered_lines"] / max(totals["num_statements"], 1)
    branches = 100.0 * totals["covered_branches"] / max(totals["num_branches"], 1)
    ok = lines >= args.lines and branches >= args.branches
    print(
        f"coverage: lines {lines:.1f}% (need {args.lines:.0f}%), "
        f"branches {branches:.1f}% (need {args.branches:.0f}%): {'ok' if ok else 'TOO LOW'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
