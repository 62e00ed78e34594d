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
    load = csub.add_parser("import", help="replace the database's codebook with a .yaml or REFI-QDA .qdc file")
    load.add_argument("file")
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
    from ..codebook import load_codebook
    from ..store import Store

    if args.file.lower().endswith(".qdc"):
        from ..export.refi import read_qdc

        codebook = read_qdc(args.file)
    else:
        codebook = load_codebook(args.file)
    version = Store(args.db).sync_codebook(codebook, actor=args.actor)
    print(f"codebook imported: {len(codebook.codes)} codes, version {version}")
    return 0
