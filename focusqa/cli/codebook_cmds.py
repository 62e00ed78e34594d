"""``focusqa codebook show|validate|import``."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser("codebook", help="show, check or import a codebook")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = csub.add_parser("show", help="print a codebook file (default: the bundled interview guide)")
    show.add_argument("file", nargs="?")
    show.set_defaults(func=cmd_show)
    validate = csub.add_parser("validate", help="check a codebook file and report problems with line numbers")
    validate.add_argument("file", nargs="?")
    validate.set_defaults(func=cmd_validate)
    load = csub.add_parser(
        "import", help="merge a .yaml, REFI-QDA .qdc or Taguette .csv codebook into the database's (preview first)",
        description="Shows what the file would add and change; writes only with --yes. Codes are matched by "
                    "GUID, then id, then label; an empty field in the file never blanks one of yours, no code "
                    "is removed and no label is added twice.")
    load.add_argument("file")
    load.add_argument("--yes", action="store_true", help="write the previewed changes")
    load.add_argument("--leave-out", action="append", default=[], metavar="LABEL",
                      help="a code in the file not to take (repeatable), e.g. Taguette's 'interesting'")
    load.add_argument("--as", dest="actor", default="import", metavar="NAME")
    add_db_option(load)
    load.set_defaults(func=cmd_import)


def cmd_show(args: argparse.Namespace) -> int:
    from ..codebook import load_codebook

    cb = load_codebook(args.file)
    print(f"{cb.name} (version {cb.version}, {len(cb.codes)} codes)\n")
    for code in cb.codes:
        print(f"{code.number or '-'}  {code.id:28} {code.label_da} / {code.label_en}")
        if code.definition:
            print(f"    {code.definition}")
        if code.terms:
            print(f"    terms: {', '.join(code.terms)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ..codebook import load_codebook
    from ..config import DEFAULT_CODEBOOK

    cb = load_codebook(args.file)
    print(f"{args.file or DEFAULT_CODEBOOK}: OK ({len(cb.codes)} codes)")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..export.codebook_files import preview_codebook_import
    from ..store import Store

    store = Store(args.db)
    merge = preview_codebook_import(store, args.file, leave_out=frozenset(args.leave_out))
    print("\n".join(merge.lines()))
    if not merge.writes:
        print("nothing to write: the codebook already has everything the file holds")
    elif args.yes:
        version = store.apply_codebook_merge(merge, actor=args.actor)
        print(f"written as codebook version {version}")
    else:
        print("nothing written yet: run again with --yes to apply")
    return 0
