"""``focusqa search``: the Søg page's keyword-in-context hits on the command line."""

from __future__ import annotations

import argparse
import csv
import json
import sys

COLUMNS = ("document", "turn", "speaker", "round", "district", "group", "before", "match", "after",
           "codes", "segment_id", "start", "end", "term")


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser(
        "search", help="find words in the transcripts (inflections and compounds too), in context",
        description="Search the imported transcripts the way codebook terms are matched: a word finds "
                    "its inflections and compounds (underretning finds skoleunderretningerne). "
                    "\"quoted words\" match exactly; words side by side must all be in the turn; "
                    "OR between alternatives; NOT word (or -word) leaves out turns with it. "
                    "Participants' turns only, unless --role says otherwise.")
    p.add_argument("query", nargs="?", help="the query (leave out with --saved)")
    p.add_argument("--round", action="append", metavar="R", help="only this round (repeatable)")
    p.add_argument("--district", action="append", metavar="D", help="only this district (repeatable)")
    p.add_argument("--group", action="append", metavar="G", help="only this respondent group (repeatable)")
    p.add_argument("--role", choices=["participant", "moderator", "all"], default="participant")
    p.add_argument("--code", action="append", metavar="CODE",
                   help="only turns carrying this code, accepted or suggested (repeatable)")
    p.add_argument("--status", action="append", choices=["accepted", "suggested", "rejected", "uncoded"],
                   help="only turns in this coding state (repeatable)")
    p.add_argument("--sort", choices=["document", "next"], default="document",
                   help="document order (default) or the word after the hit")
    p.add_argument("--counts", action="store_true", help="print the district × round counts instead of hits")
    p.add_argument("--save", metavar="NAME", help="save the query and filters under this name")
    p.add_argument("--saved", metavar="NAME", help="rerun a saved search (its query and filters)")
    p.add_argument("--format", choices=["table", "jsonl", "csv"], default="table")
    add_db_option(p)
    p.set_defaults(func=cmd_search)


def _filters(args: argparse.Namespace):
    from ..analysis.search import SearchFilters

    def values(items):
        return tuple(items) if items else None

    return SearchFilters(rounds=values(args.round), districts=values(args.district), groups=values(args.group),
                         role=args.role, codes=values(args.code), states=values(args.status))


def cmd_search(args: argparse.Namespace) -> int:
    from ..analysis.search import SearchFilters, hit_codes, search
    from ..errors import FocusqaError
    from ..store import Store

    store = Store(args.db)
    if args.saved:
        saved = store.saved_search(args.saved)
        query, filters = saved.query, SearchFilters.from_dict(saved.filters)
    elif args.query:
        query, filters = args.query, _filters(args)
    else:
        raise FocusqaError("give a query, or --saved NAME")
    result = search(store, query, filters, sort=args.sort)
    if args.save:
        store.save_search(args.save, result.query.text, filters.as_dict(), actor="cli")
        print(f"saved as '{args.save}'", file=sys.stderr)
    if args.counts:
        table = result.counts()
        if args.format == "csv":
            print(table.to_csv(), end="")
        elif args.format == "jsonl":
            for row, counts in table.iterrows():
                print(json.dumps({"row": row, **{k: int(v) for k, v in counts.items()}}, ensure_ascii=False))
        else:
            print(table.to_string() if len(table) else "no hits")
        return 0
    codes = hit_codes(store, result.segment_ids)
    rows = [{**hit.as_dict(), "codes": " ".join(codes.get(hit.segment_id, []))} for hit in result.hits]
    if args.format == "jsonl":
        for row in rows:
            print(json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_table(rows, len(result.segment_ids))
    return 0


def _print_table(rows: list[dict], turns: int) -> None:
    """Concordance lines: where, the words before (right-aligned), the hit, the words after."""
    if not rows:
        print("no hits")
        return
    places = [f"{r['document']} #{r['turn']}" for r in rows]
    width = max(len(p) for p in places)
    before = min(max(len(r["before"]) for r in rows), 50)
    for place, row in zip(places, rows):
        print(f"{place:<{width}}  {row['before'][-before:]:>{before}} [{row['match']}] {row['after']}")
    print(f"\n{len(rows)} hits in {turns} turns")
