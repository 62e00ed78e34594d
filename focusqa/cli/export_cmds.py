"""``focusqa export docx|xlsx|csv OUT`` (and qdc/qdpx when the REFI-QDA module is present)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import FocusqaError


def _split(values: list[str] | None) -> list[str] | None:
    """Repeatable options that also accept comma-separated lists: --round 2016,2017."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _add_filters(p: argparse.ArgumentParser) -> None:
    from . import add_db_option

    p.add_argument("--round", action="append", metavar="R", help="only this round (repeatable, or 2016,2017)")
    p.add_argument("--district", action="append", metavar="D", help="only this district (repeatable)")
    p.add_argument("--group", action="append", metavar="G",
                   help="only this respondent group, e.g. familiegruppe or projektgruppe (repeatable)")
    p.add_argument("--code", action="append", metavar="CODE", help="only this code: id, number or label (repeatable)")
    p.add_argument("--coder", action="append", metavar="NAME", help="only this coder's codings (repeatable)")
    p.add_argument("--status", choices=["accepted", "all"], default="accepted",
                   help="accepted: confirmed codings only (default); all: also the machine's open "
                        "suggestions, marked as suggestions")
    p.add_argument("--min-score", type=float, metavar="X",
                   help="leave out suggestions scoring below X (codings made by hand are kept)")
    p.add_argument("--no-masking", dest="masking", action="store_false",
                   help="do not mask names, CPR numbers, phone numbers and e-mails (internal use only)")
    p.add_argument("--names", metavar="FILE",
                   help="name list to mask, one name per line (default: navne.txt in the focusqa data folder)")
    p.add_argument("--language", choices=["da", "en"], default="da", help="language of headings and labels")
    add_db_option(p)


def register(sub) -> None:
    export = sub.add_parser("export", help="export coded excerpts (Word, xlsx, csv) or the project",
                            description="Export coded excerpts. Masking of personal data is on by default.")
    export_sub = export.add_subparsers(dest="export_kind", metavar="FORMAT", required=True)

    p = export_sub.add_parser("docx", help="Word: the excerpts laid out as a draft evaluation memo",
                              description="Word file: title page, contents, the main results (the first "
                                          "sentence of each synthesis), an overview table (codes × districts "
                                          "per round), then per respondent group and guide point the "
                                          "synthesis and the quotes marked 'til notatet' (else the "
                                          "representative ones), and the memos.")
    p.add_argument("out", metavar="OUT.docx")
    p.add_argument("--layout", choices=["memo", "code-district", "district-code", "rounds"], default="memo",
                   help="memo: the memo draft (default); code-district: every excerpt by guide point, then group "
                        "and district; district-code: the "
                        "other way round; rounds: each code × district as a table with one column per round")
    p.add_argument("--appendix", action="store_true", help="memo: add every excerpt as an appendix")
    p.add_argument("--title", dest="evaluation_name", metavar="TEXT", help="the evaluation's name for the title page")
    _add_filters(p)
    p.set_defaults(func=cmd_export, export_format="docx")

    p = export_sub.add_parser("xlsx", help="Excel: one row per excerpt × code, and the code × district matrix")
    p.add_argument("out", metavar="OUT.xlsx")
    _add_filters(p)
    p.set_defaults(func=cmd_export, export_format="xlsx")

    p = export_sub.add_parser("csv", help="csv: one row per excerpt × code (UTF-8 with BOM)")
    p.add_argument("out", metavar="OUT.csv")
    _add_filters(p)
    p.set_defaults(func=cmd_export, export_format="csv")

    try:
        from .refi_cmds import register_export
    except ModuleNotFoundError as exc:
        if exc.name != "focusqa.cli.refi_cmds":
            raise
    else:
        register_export(export_sub)


def cmd_export(args: argparse.Namespace) -> int:
    from ..privacy import load_names
    from ..store import Store

    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise FocusqaError("is a folder; give a file name", path=out)
    filters = dict(rounds=_split(args.round), districts=_split(args.district), groups=_split(args.group),
                   codes=_split(args.code), coders=_split(args.coder), statuses=args.status,
                   min_score=args.min_score, masking=args.masking,
                   names=load_names(args.names) if args.names else None)
    store = Store(args.db)
    masked = "masked" if args.masking else "NOT masked (internal use only)"
    if args.export_format == "docx":
        from ..export.docx import export_docx

        report = export_docx(store, out, layout=args.layout, evaluation_name=args.evaluation_name,
                             appendix=args.appendix,
                             language=args.language, **filters)
        print(f"wrote {out}: {report}")
        return 0
    from ..export.tables import export_csv, export_xlsx

    writer = export_xlsx if args.export_format == "xlsx" else export_csv
    rows = writer(store, out, language=args.language, **filters)
    print(f"wrote {out}: {rows} excerpt rows, {masked}")
    return 0
