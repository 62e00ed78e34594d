"""``focusqa tag``, ``autocode`` and ``evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import FocusqaError


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser("tag", help="suggest codes for transcript files (no database)",
                       description="Tag transcripts with the codebook's codes, without a database. "
                                   "Each suggestion has a score and its evidence (matched words, the "
                                   "guide question asked last, the model's probability).")
    p.add_argument("paths", nargs="+", metavar="PATH", help="transcript files (.docx, .txt, .md)")
    p.add_argument("--codebook", metavar="FILE", help="codebook YAML (default: the bundled interview guide)")
    p.add_argument("--examples", metavar="FILE",
                   help='JSONL lines {"text": ..., "code": id-or-number} added to training for this run')
    p.add_argument("--format", choices=["jsonl", "table"], default="jsonl")
    p.add_argument("--threshold", type=float, metavar="X",
                   help="one score threshold for every code (default: learned per code)")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("autocode", help="write code suggestions for every imported segment",
                       description="Suggest codes for every imported segment (status 'suggested', origin "
                                   "'auto'), trained on the shipped reference and the codings accepted "
                                   "in the database. Human codings are never changed.")
    add_db_option(p)
    p.set_defaults(func=cmd_autocode)

    p = sub.add_parser("evaluate", help="score the tagger against a reference coding on held-out documents",
                       description="Per-code precision, recall and F1, macro-F1, Cohen's kappa and "
                                   "Krippendorff's alpha on the top code, and a confusion table. Each fold "
                                   "trains a new tagger on its training documents only; a model is never "
                                   "scored on data it was trained on.")
    p.add_argument("--reference", metavar="FILE",
                   help="reference JSONL next to its transcripts (default: the demo corpus's coder_a.jsonl)")
    p.add_argument("--protocol", choices=["cross-round", "leave-one-document-out"], default="cross-round")
    p.add_argument("--codebook", metavar="FILE")
    p.add_argument("--content-only", action="store_true",
                   help="only the content figures: every moderator turn removed from the test input")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--learning-curve", action="store_true",
                   help="simulate an evaluator confirming k turns per code in the order the app offers "
                        "them, and score held-out turns at each k (the demo corpus's 2017 round and "
                        "the project's dev sets in devsets/)")
    p.add_argument("--devset", action="append", metavar="DIR",
                   help="with --learning-curve: a dev-set folder (repeatable; 'demo' for the demo corpus)")
    p.add_argument("--seeds", type=int, default=3, metavar="N", help="with --learning-curve: seeds (default 3)")
    p.add_argument("--as-examples", action="store_true",
                   help="with --learning-curve: the evaluator hands k random paragraphs per code as "
                        "--examples instead of confirming turns in the app's order")
    p.add_argument("--without-shipped", action="store_true",
                   help="with --learning-curve: start from the codebook alone, without the shipped demo "
                        "coding (as a project with a codebook of its own does)")
    p.add_argument("--ks", default="0,2,5,10,20", metavar="K,K,...",
                   help="with --learning-curve: confirmations per code (default 0,2,5,10,20)")
    p.set_defaults(func=cmd_evaluate)


def _record(document: str, seg, suggestions) -> dict:
    from .ingest_cmds import segment_record

    record = segment_record(document, seg)
    record["codes"] = [{"id": s.code_id, "number": s.number, "label": s.label, "score": s.score,
                        "evidence": s.evidence} for s in suggestions]
    return record


def cmd_tag(args: argparse.Namespace) -> int:
    from ..codebook import load_codebook
    from ..ingest import read_transcript
    from ..tagging import build_tagger

    codebook = load_codebook(args.codebook)
    tagger = build_tagger(codebook, examples_path=args.examples, threshold=args.threshold)
    failed = 0
    for raw in args.paths:
        try:
            parsed = read_transcript(raw)
        except FocusqaError as exc:
            failed += 1
            print(f"focusqa: {exc}", file=sys.stderr)
            continue
        suggestions = tagger.suggest(parsed.segments)
        if args.format == "jsonl":
            for seg, items in zip(parsed.segments, suggestions):
                sys.stdout.write(json.dumps(_record(parsed.name, seg, items), ensure_ascii=False) + "\n")
        else:
            _print_table(parsed, suggestions)
        sys.stdout.flush()
    return 2 if failed else 0


def _print_table(parsed, suggestions) -> None:
    from .ingest_cmds import _table

    rows = []
    for seg, items in zip(parsed.segments, suggestions):
        codes = ", ".join(f"{s.number or s.code_id} {s.score:.2f}" for s in items)
        words = "; ".join(w for s in items for w in s.evidence.get("terms", [])[:3])
        rows.append([seg.index, seg.speaker, seg.role, codes or "-", words or "-",
                     seg.text[:60].replace("\n", " ")])
    print(f"== {parsed.name}")
    print(_table(rows, ["#", "speaker", "role", "codes", "words", "text"]))


def cmd_autocode(args: argparse.Namespace) -> int:
    from ..store import Store
    from ..tagging import autocode

    store = Store(args.db)
    if not store.segments():
        print("No documents yet. Import some with: focusqa import FOLDER")
        return 0
    written = autocode(store)
    print(f"{written} suggestions written for {len(store.segments())} segments "
          f"(human codings unchanged)")
    return 0


def cmd_learning_curve(args: argparse.Namespace) -> int:
    from ..tagging import shipped_documents
    from ..tagging.devsets import demo_devset, devset_folders, load_devset
    from ..tagging.learning import examples_curve, learning_curve

    try:
        ks = sorted({int(k) for k in args.ks.split(",") if k.strip()})
    except ValueError:
        raise FocusqaError(f"--ks must be whole numbers separated by commas, not '{args.ks}'") from None
    if not ks or min(ks) < 0 or args.seeds < 1:
        raise FocusqaError("--ks needs numbers of 0 or more and --seeds at least 1")
    wanted = args.devset or ["demo", *map(str, devset_folders())]
    results, missing = [], []
    for name in wanted:
        if name == "demo":
            devset, base = demo_devset()
            base = [] if args.without_shipped else base
        else:
            try:
                devset = load_devset(name)
            except FocusqaError as exc:
                if args.devset:
                    raise
                missing.append(str(exc))
                continue
            base = [] if args.without_shipped else shipped_documents(devset.codebook)
        simulate = examples_curve if args.as_examples else learning_curve
        curve = simulate(devset, base=base, ks=ks, seeds=range(args.seeds))
        results.append((devset, curve))
    if args.format == "json":
        print(json.dumps([{"devset": d.name, "kind": d.kind, "codebook": d.codebook.name, "items": len(d.items),
                           "summary": c.summary(), "points": [vars(p) for p in c.points]}
                          for d, c in results], ensure_ascii=False, indent=2))
    else:
        _print_curves(results)
    for line in missing:
        print(f"not run: {line}", file=sys.stderr)
    return 0


def _print_curves(results) -> None:
    from .ingest_cmds import _table

    for devset, curve in results:
        rows = [[r["k"], f"{r['kappa']:.3f}", f"{r['min']:.3f}–{r['max']:.3f}", f"{r['kappa_other']:.3f}",
                 f"{r['ceiling']:.3f}", f"{r['confirmed']:.0f}", f"{r['tested']:.0f}"] for r in curve.summary()]
        print(f"== {devset.name} ({devset.kind}, {len(devset.items)} coded turns, codebook "
              f"'{devset.codebook.name}'), {rows and curve.summary()[0]['seeds']} seed(s)")
        print(_table(rows, ["k", "kappa", "spread", "kappa vs reader b", "readers' kappa", "confirmed", "scored"]))
        print()


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.learning_curve:
        return cmd_learning_curve(args)
    from ..codebook import load_codebook
    from ..tagging.evaluation import evaluate

    codebook = load_codebook(args.codebook)
    variants = [True] if args.content_only else [False, True]
    reports = [evaluate(args.reference, protocol=args.protocol, codebook=codebook, content_only=v)
               for v in variants]
    if args.format == "json":
        print(json.dumps([_report_dict(r) for r in reports], ensure_ascii=False, indent=2))
        return 0
    for report in reports:
        _print_report(report, codebook)
    return 0


def _scores_dict(scores) -> dict:
    return {"macro_f1": scores.macro_f1, "kappa": scores.kappa, "alpha": scores.alpha,
            "segments": scores.segments, "per_code": scores.per_code, "confusion": scores.confusion}


def _report_dict(report) -> dict:
    return {"protocol": report.protocol, "content_only": report.content_only,
            "overall": _scores_dict(report.overall),
            "folds": [{"name": f["name"], "train": f["train"], "test": f["test"],
                       **_scores_dict(f["scores"])} for f in report.folds]}


def _print_report(report, codebook) -> None:
    from .ingest_cmds import _table

    title = "content only (moderator turns removed)" if report.content_only else "full transcripts"
    s = report.overall
    print(f"== {report.protocol}, {title}: {len(report.folds)} fold(s), {s.segments} segments")
    if report.protocol == "cross-round":
        for fold in report.folds:
            print(f"   fold {fold['name']}: train {len(fold['train'])} documents, "
                  f"test {len(fold['test'])} documents")
    print(f"macro-F1 {s.macro_f1:.3f}   Cohen's kappa (top code) {s.kappa:.3f}   "
          f"Krippendorff's alpha {s.alpha:.3f}")
    rows = [[code.number, code.id, f"{s.per_code[code.id]['precision']:.2f}",
             f"{s.per_code[code.id]['recall']:.2f}", f"{s.per_code[code.id]['f1']:.2f}",
             s.per_code[code.id]["support"]] for code in codebook.codes]
    print(_table(rows, ["#", "code", "precision", "recall", "F1", "support"]))
    labels = [c.id for c in codebook.codes] + ["(none)"]
    short = {c.id: str(c.number or c.id) for c in codebook.codes} | {"(none)": "-"}
    matrix = [[short[r]] + [s.confusion.get(r, {}).get(p, 0) for p in labels] for r in labels]
    print("confusion of the top code (rows: reference, columns: tagger)")
    print(_table(matrix, ["ref\\tag"] + [short[p] for p in labels]))
    print()
