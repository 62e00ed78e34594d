"""``focusqa summary``: the district × code matrix of the Temaer page, on the command line."""

from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser(
        "summary", help="the district × code matrix: segments per code and share of participant talk",
        description="The same matrix as the app's Temaer page: for each district (or respondent group) "
                    "and code, the number of participant segments carrying the code and their share of "
                    "the row's participant segments. The project group is its own row. Moderator turns "
                    "are not counted.")
    p.add_argument("--round", metavar="R", help="one round, e.g. 2017 (default: all rounds together)")
    p.add_argument("--by", choices=["district", "group"], default="district")
    p.add_argument("--status", choices=["accepted", "all"], default="accepted",
                   help="accepted: confirmed codings (default); all: also open machine suggestions")
    p.add_argument("--coder", action="append", metavar="NAME", help="only this coder's codings (repeatable)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    add_db_option(p)
    p.set_defaults(func=cmd_summary)


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def cmd_summary(args: argparse.Namespace) -> int:
    from ..analysis.themes import theme_matrix
    from ..export import parse_statuses
    from ..store import Store

    store = Store(args.db)
    matrix = theme_matrix(store, round=args.round, by=args.by, statuses=parse_statuses(args.status),
                          coders=args.coder)
    if args.format == "csv":
        print(matrix.long().to_csv(index=False), end="")
        return 0
    if args.format == "json":
        doc = {"round": args.round, "by": args.by, "statuses": list(matrix.statuses),
               "unit": "participant segments",
               "codes": [{"id": c, "heading": matrix.codebook.get(c).heading()} for c in matrix.codes],
               "rows": [{"row": r, "segments": int(matrix.totals[r]), "words": int(matrix.words[r]),
                         "counts": {c: int(matrix.counts.at[r, c]) for c in matrix.codes},
                         "shares": {c: round(float(matrix.shares.at[r, c]), 4) for c in matrix.codes}}
                        for r in matrix.rows]}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    if not matrix.rows:
        print("No participant segments yet. Import transcripts with: focusqa import FOLDER")
        return 0
    numbers = [matrix.codebook.get(c).number for c in matrix.codes]
    headers = [args.by, "segments"] + [f"{n}" if n else c for n, c in zip(numbers, matrix.codes)]
    rows = []
    for r in matrix.rows:
        cells = [f"{matrix.counts.at[r, c]} ({_percent(matrix.shares.at[r, c])})" for c in matrix.codes]
        rows.append([r, str(matrix.totals[r])] + cells)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    print(f"Round: {args.round or 'all'} · codings: {', '.join(matrix.statuses)} · "
          "cells: participant segments with the code (share of the row's participant segments)")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print()
    for c, n in zip(matrix.codes, numbers):
        print(f"  {n if n else c}: {matrix.codebook.get(c).label()}")
    return 0
