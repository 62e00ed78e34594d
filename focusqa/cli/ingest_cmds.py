"""``focusqa import``, ``documents`` and ``segments``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import FocusqaError
from ..types import DocumentMetadata


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser("import", help="import transcripts (files or folders) into the database",
                       description="Import transcripts (.docx, .txt, .md) or a REFI-QDA project (.qdpx). "
                                   "A folder's manifest.csv gives each file its round, district and group. "
                                   "Each file is imported whole or not at all; a file already imported "
                                   "is reported as 'already present' and not duplicated.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--manifest", metavar="FILE", help="manifest.csv with file,round,district,group,date columns")
    p.add_argument("--round", help="round for every file, e.g. 2017 (wins over the manifest)")
    p.add_argument("--district", help="district for every file, e.g. Nord")
    p.add_argument("--group", help="respondent group for every file, e.g. familiegruppe")
    p.add_argument("--moderator", action="append", default=[], metavar="LABEL",
                   help="speaker label of the moderator, if not a common one (repeatable)")
    p.add_argument("--with-reference", action="store_true",
                   help="also load the folder's reference/*.jsonl codings as accepted human codings")
    p.add_argument("--allow-relative", action="store_true",
                   help="a .qdpx may also read relative:// text files from its own folder "
                        "(never absolute:// paths or anything outside that folder)")
    p.add_argument("--as", dest="actor", default="import", metavar="NAME", help="who imports (for the log)")
    add_db_option(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("documents", help="list imported documents with metadata and counts; edit or delete one",
                       description="List the imported interviews. 'documents edit' corrects an interview's "
                                   "round, district, group or date after import; 'documents delete' removes "
                                   "an interview with its codings and memos.")
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_db_option(p)
    p.set_defaults(func=cmd_documents)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    edit = actions.add_parser("edit", help="correct an interview's round, district, group or date",
                              description="Give only what changes; an empty value (--round '') unsets it.")
    edit.add_argument("document", metavar="ID_OR_NAME", help="the id or file name 'focusqa documents' lists")
    for field, example in (("round", "2017"), ("district", "Nord"), ("group", "familiegruppe"),
                           ("date", "2017-03-14")):
        edit.add_argument(f"--{field}", help=f"e.g. {example}")
    edit.add_argument("--as", dest="actor", default="cli", metavar="NAME", help="who edits (for the log)")
    _add_nested_db_option(edit)
    edit.set_defaults(func=cmd_documents_edit)
    remove = actions.add_parser("delete", help="delete an interview with its codings and memos",
                                description="Without --yes it only says what would be deleted.")
    remove.add_argument("document", metavar="ID_OR_NAME", help="the id or file name 'focusqa documents' lists")
    remove.add_argument("--yes", action="store_true", help="really delete (it cannot be undone; "
                                                         "'focusqa backup' first keeps a copy)")
    remove.add_argument("--as", dest="actor", default="cli", metavar="NAME", help="who deletes (for the log)")
    _add_nested_db_option(remove)
    remove.set_defaults(func=cmd_documents_delete)

    p = sub.add_parser("segments", help="parse one file (no database) and print its segments",
                       description="Parse a transcript without touching any database and print its "
                                   "segments: the way to check the reader on your own files.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", choices=["jsonl", "table"], default="jsonl")
    p.add_argument("--moderator", action="append", default=[], metavar="LABEL")
    p.set_defaults(func=cmd_segments)


def cmd_import(args: argparse.Namespace) -> int:
    from ..ingest import discover, read_transcript
    from ..store import Store

    overrides = DocumentMetadata(round=args.round, district=args.district, group=args.group,
                                 moderators=list(args.moderator))
    store = Store(args.db)
    failed = 0
    qdpx = [Path(p) for p in args.paths if str(p).lower().endswith(".qdpx")]
    transcripts = [p for p in args.paths if not str(p).lower().endswith(".qdpx")]
    for path in qdpx:
        try:
            from ..export.refi import import_qdpx

            report = import_qdpx(store, path, actor=args.actor, allow_relative=args.allow_relative)
            print(f"imported   {path.name}: {report}")
        except FocusqaError as exc:
            failed += 1
            print(f"failed     {exc}")
    try:
        items = discover(transcripts, args.manifest, overrides) if transcripts else []
    except FocusqaError as exc:
        print(f"failed     {exc}")
        return 1
    for item in items:
        if item.error is not None:
            failed += 1
            print(f"failed     {item.error}")
            continue
        try:
            parsed = read_transcript(item.path, item.metadata)
            status, doc_id = store.import_document(parsed, actor=args.actor)
        except FocusqaError as exc:
            failed += 1
            print(f"failed     {exc}")
            continue
        label = "imported  " if status == "imported" else "already present"
        print(f"{label} {item.path.name} (document {doc_id}, {len(parsed.segments)} segments, "
              f"round {parsed.metadata.round or '-'}, district {parsed.metadata.district or '-'}, "
              f"group {parsed.metadata.group or '-'})")
    if args.with_reference:
        for raw in transcripts:
            folder = Path(raw)
            for ref in sorted((folder / "reference").glob("*.jsonl")) if folder.is_dir() else []:
                try:
                    added, skipped = store.import_reference(ref, actor=args.actor)
                    print(f"reference  {ref.name}: {added} codings added"
                          + (f", {skipped} lines for documents not imported" if skipped else ""))
                except FocusqaError as exc:
                    failed += 1
                    print(f"failed     {exc}")
    print(f"{len(items) + len(qdpx) - failed} ok, {failed} failed")
    return 1 if failed else 0


def _table(rows: list[list], headers: list[str]) -> str:
    cells = [[str(c) if c is not None else "-" for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def cmd_documents(args: argparse.Namespace) -> int:
    from ..store import Store

    docs = Store(args.db).documents()
    if args.format == "json":
        print(json.dumps([{"id": d.id, "name": d.name, "round": d.round, "district": d.district,
                           "group": d.group, "date": d.date, "segments": d.segments, "words": d.words,
                           "attributes": d.attributes} for d in docs], ensure_ascii=False, indent=2))
        return 0
    if not docs:
        print("No documents yet. Import some with: focusqa import FOLDER")
        return 0
    print(_table([[d.id, d.name, d.round, d.district, d.group, d.segments, d.words] for d in docs],
                 ["id", "name", "round", "district", "group", "segments", "words"]))
    return 0


def _add_nested_db_option(parser: argparse.ArgumentParser) -> None:
    """--db after the action too; unset there, it keeps the one given before the action."""
    parser.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help="database URL or SQLite file (as for 'focusqa documents')")


def _find_document(store, key: str):
    docs = store.documents()
    found = [d for d in docs if str(d.id) == key.strip()] or [d for d in docs if d.name == key]
    if not found:
        raise FocusqaError(f"no imported interview has the id or file name '{key}' "
                           "(see 'focusqa documents')")
    if len(found) > 1:
        raise FocusqaError(f"several interviews are named '{key}'; give the id instead "
                           f"({', '.join(str(d.id) for d in found)})")
    return found[0]


def cmd_documents_edit(args: argparse.Namespace) -> int:
    from ..ingest.metadata import edited_metadata
    from ..store import Store

    store = Store(args.db)
    doc = _find_document(store, args.document)
    given = {f: getattr(args, f) for f in ("round", "district", "group", "date") if getattr(args, f) is not None}
    if not given:
        raise FocusqaError("nothing to change: give --round, --district, --group or --date")
    after = edited_metadata(doc.metadata, given)
    if after is None:
        print(f"{doc.name}: unchanged")
        return 0
    store.update_document_metadata(doc.id, after, args.actor)
    print(f"{doc.name}: round {after.round or '-'}, district {after.district or '-'}, "
          f"group {after.group or '-'}, date {after.date or '-'}")
    return 0


def cmd_documents_delete(args: argparse.Namespace) -> int:
    from ..store import Store

    store = Store(args.db)
    doc = _find_document(store, args.document)
    work = store.document_work(doc.id)
    by = f" by {', '.join(sorted(work))}" if work else ""
    what = f"{doc.name} ({doc.segments} turns, {sum(work.values())} confirmed codings and memos{by})"
    if not args.yes:
        print(f"would delete {what}; add --yes to delete it (it cannot be undone)", file=sys.stderr)
        return 2
    store.delete_document(doc.id, args.actor)
    print(f"deleted {what}")
    return 0


def segment_record(document: str, seg) -> dict:
    return {"document": document, "segment": seg.index, "speaker": seg.speaker, "role": seg.role,
            "start": seg.start, "end": seg.end, "timestamp": seg.timestamp, "text": seg.text}


def cmd_segments(args: argparse.Namespace) -> int:
    from ..ingest import read_transcript

    parsed = read_transcript(args.path, DocumentMetadata(moderators=list(args.moderator)))
    if args.format == "jsonl":
        for seg in parsed.segments:
            sys.stdout.write(json.dumps(segment_record(parsed.name, seg), ensure_ascii=False) + "\n")
        return 0
    print(_table([[s.index, s.speaker, s.role, s.timestamp, s.text[:70].replace("\n", " ")]
                  for s in parsed.segments], ["#", "speaker", "role", "time", "text"]))
    return 0
