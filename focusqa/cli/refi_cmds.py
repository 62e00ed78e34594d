"""``focusqa agreement``, ``focusqa reconcile`` and ``focusqa export qdc|qdpx``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import FocusqaError


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser(
        "agreement", help="intercoder agreement (percent, Cohen's kappa, Krippendorff's alpha)",
        description="Agreement between coders, measured on segments (speaker turns), per code and "
                    "overall, over the documents at least two of the coders have coded (only segments "
                    "some coder applied a code to, unless --all-segments). Intervals are "
                    "95%% bootstrap intervals (segments resampled). --machine adds the machine's "
                    "suggestions as a coder.")
    p.add_argument("--coders", nargs="+", metavar="NAME",
                   help="coders to compare (default: every human coder except 'final')")
    p.add_argument("--documents", nargs="+", metavar="DOC", help="document names or ids (default: all)")
    p.add_argument("--codes", nargs="+", metavar="CODE", help="code ids, numbers or labels (default: all)")
    p.add_argument("--machine", action="store_true", help="include the machine's suggestions as a coder")
    p.add_argument("--machine-threshold", type=float, metavar="SCORE",
                   help="count only suggestions with at least this score")
    p.add_argument("--all-segments", action="store_true",
                   help="also count segments nobody coded (moderator turns, small talk) as agreement")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (0: none)")
    p.add_argument("--disagreements", action="store_true",
                   help="also list each segment and code the first two coders disagree on")
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_db_option(p)
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser(
        "reconcile", help="record the final (agreed) coding of a segment",
        description="Settle a disagreement: the decision is stored as the coding of the coder 'final' "
                    "(the coders' own codings stay as they were) and logged with who decided.")
    p.add_argument("document", help="document name or id")
    p.add_argument("segment", type=int, help="segment number in the document (as in the disagreement list)")
    p.add_argument("code", help="code id, number or label")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--yes", dest="present", action="store_true", help="the code applies")
    decision.add_argument("--no", dest="present", action="store_false", help="the code does not apply")
    p.add_argument("--by", required=True, metavar="NAME", help="who decided (for the audit log)")
    p.add_argument("--final-coder", default="final", metavar="NAME")
    add_db_option(p)
    p.set_defaults(func=cmd_reconcile)

    if "export" not in sub.choices:   # the general export command adds these itself when present
        export = sub.add_parser("export", help="export the codebook or the project")
        register_export(export.add_subparsers(dest="export_kind", metavar="FORMAT", required=True))


def register_export(export_sub) -> None:
    """``focusqa export qdc OUT.qdc`` and ``focusqa export qdpx OUT.qdpx``."""
    from . import add_db_option

    p = export_sub.add_parser("qdc", help="the codebook as REFI-QDA .qdc (NVivo, ATLAS.ti, MAXQDA, QualCoder)")
    p.add_argument("out", metavar="OUT.qdc")
    add_db_option(p)
    p.set_defaults(func=cmd_export_qdc)
    p = export_sub.add_parser("taguette", help="the codebook as the CSV Taguette imports (tag,description)")
    p.add_argument("out", metavar="OUT.csv")
    add_db_option(p)
    p.set_defaults(func=cmd_export_taguette)
    p = export_sub.add_parser(
        "qdpx", help="the whole project as REFI-QDA .qdpx (texts, codes, codings, memos), masked by default",
        description="The file leaves the team by default, so names, CPR numbers, phone numbers and e-mails "
                    "are masked in the texts, memos and variables, and speakers shown by role, as in the Word "
                    "export. --no-masking is for an exchange within the team (e.g. coding in QualCoder and "
                    "importing the codings back): a masked file imported again becomes new documents.")
    p.add_argument("out", metavar="OUT.qdpx")
    p.add_argument("--name", help="project name shown in the other program (default: the file name)")
    p.add_argument("--no-masking", "--no-mask", dest="masking", action="store_false",
                   help="do not mask: the full transcripts, for the evaluation team only")
    p.add_argument("--names", metavar="FILE",
                   help="name list to mask, one name per line (default: navne.txt in the focusqa data folder)")
    add_db_option(p)
    p.set_defaults(func=cmd_export_qdpx)


def _code_ids(store, codes: list[str] | None) -> list[str] | None:
    if not codes:
        return None
    cb = store.codebook()
    out = []
    for key in codes:
        try:
            out.append(cb.get(key).id)
        except KeyError:
            raise FocusqaError(f"'{key}' is not a code in the codebook") from None
    return out


def cmd_agreement(args: argparse.Namespace) -> int:
    from ..analysis.agreement import agreement, disagreements
    from ..store import Store

    store = Store(args.db)
    codes = _code_ids(store, args.codes)
    report = agreement(store, args.coders, documents=args.documents, codes=codes,
                       include_machine=args.machine, bootstrap=args.bootstrap,
                       machine_threshold=args.machine_threshold, units="all" if args.all_segments else "coded")
    listed = []
    if args.disagreements:
        listed = disagreements(store, report.coders[0], report.coders[1], args.documents, codes=codes,
                               machine_threshold=args.machine_threshold)
    if args.format == "json":
        out = report.as_dict()
        if args.disagreements:
            out["disagreements"] = [d.__dict__ for d in listed]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(report.to_table())
    if args.disagreements:
        a, b = report.coders[:2]
        print(f"\n{len(listed)} disagreements between {a} and {b} (document, segment, code: who applied it)")
        for d in listed:
            who = a if d.a else b
            print(f"{d.document}  #{d.segment_index} (tur {d.turn_number})  {d.code_id}: {who}  |  "
                  f"{d.text[:70].replace(chr(10), ' ')}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from ..store import Store
    from ..store.reconcile import reconcile

    store = Store(args.db)
    docs = store.documents()
    doc = next((d for d in docs if d.name == args.document or str(d.id) == args.document), None)
    if doc is None:
        raise FocusqaError(f"no document '{args.document}'")
    seg = next((s for s in store.segments(doc.id) if s.index == args.segment), None)
    if seg is None:
        raise FocusqaError(f"{doc.name} has no segment {args.segment}")
    (code_id,) = _code_ids(store, [args.code])
    reconcile(store, seg.id, code_id, present=args.present, decided_by=args.by, final_coder=args.final_coder)
    print(f"{doc.name} #{seg.index} {code_id}: {'applies' if args.present else 'does not apply'} "
          f"(decided by {args.by}, stored as coder '{args.final_coder}')")
    return 0


def cmd_export_taguette(args: argparse.Namespace) -> int:
    from ..export.codebook_files import write_taguette_csv
    from ..store import Store

    codebook = Store(args.db).codebook()
    out = write_taguette_csv(codebook, Path(args.out))
    print(f"wrote {out}: {len(codebook.codes)} codes (Taguette codebook CSV)")
    return 0


def cmd_export_qdc(args: argparse.Namespace) -> int:
    from ..export.refi import write_qdc
    from ..store import Store

    store = Store(args.db)
    codebook = store.codebook()
    out = write_qdc(codebook, Path(args.out), guids=store.code_guids())
    print(f"wrote {out}: {len(codebook.codes)} codes (REFI-QDA codebook)")
    return 0


def cmd_export_qdpx(args: argparse.Namespace) -> int:
    from ..export.refi import export_qdpx
    from ..store import Store

    from ..privacy import load_names

    names = load_names(args.names) if args.names else None
    summary = export_qdpx(Store(args.db), Path(args.out), name=args.name, masking=args.masking, names=names)
    print(f"wrote {args.out}: {summary}")
    return 0
