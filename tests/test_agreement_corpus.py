"""Agreement and REFI-QDA on the demo corpus (two coders on two transcripts)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from focusqa.analysis.agreement import agreement, disagreements
from focusqa.export.refi import export_qdpx, import_qdpx, validate_xml
from focusqa.ingest import discover, read_transcript
from focusqa.store import Store

DEMO = Path(__file__).resolve().parent.parent / "corpora" / "socialraadgivere"
A, B = "evaluator_a", "evaluator_b"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The demo corpus imported as `focusqa import corpora/socialraadgivere --with-reference` does."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}")
    for item in discover([DEMO]):
        store.import_document(read_transcript(item.path, item.metadata))
    for ref in sorted((DEMO / "reference").glob("*.jsonl")):
        store.import_reference(ref)
    yield store
    store.dispose()


def _double_coded() -> set[str]:
    import json

    lines = (DEMO / "reference" / "coder_b.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["document"] for line in lines if line.strip()}


def test_agreement_is_measured_on_the_double_coded_documents_only(corpus):
    report = agreement(corpus, bootstrap=200)
    assert report.coders == [A, B]
    assert set(report.documents) == _double_coded() and len(report.documents) == 2
    total = sum(1 for s in corpus.segments() if s.document in report.documents)
    # moderator turns and small talk nobody coded are left out of the units by default
    assert report.uncoded_segments > 0 and report.segments + report.uncoded_segments == total
    assert agreement(corpus, bootstrap=0, units="all").segments == total
    overall = report.overall
    # careful coders: high but imperfect agreement, with real uncertainty
    assert 0.9 < overall.percent < 1.0
    assert 0.6 < overall.kappa < 1.0 and 0.6 < overall.alpha < 1.0
    assert overall.kappa_ci.low < overall.kappa < overall.kappa_ci.high
    assert overall.disagreements > 0
    assert any(c.disagreements for c in report.per_code)


def test_disagreement_list_matches_the_reference_files(corpus):
    import json

    coded: dict[str, dict[tuple[str, int], set[str]]] = {}
    for name in ("coder_a.jsonl", "coder_b.jsonl"):
        for line in (DEMO / "reference" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                coded.setdefault(row["coder"], {})[(row["document"], row["segment"])] = set(row["codes"])
    expected = set()
    for key, codes_b in coded[B].items():
        for code in codes_b ^ coded[A].get(key, set()):
            expected.add((key[0], key[1], code))
    found = disagreements(corpus, A, B)
    assert {(d.document, d.segment_index, d.code_id) for d in found} == expected
    assert expected                       # the second coding pass does disagree somewhere


def test_whole_corpus_round_trips_through_qdpx(corpus, tmp_path):
    summary = export_qdpx(corpus, tmp_path / "korpus.qdpx", masking=False)    # a round trip within the team
    assert "10 documents" in summary and "differently" not in summary
    with zipfile.ZipFile(tmp_path / "korpus.qdpx") as zf:
        assert not validate_xml(zf.read("project.qde"), "project")
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    import_qdpx(fresh, tmp_path / "korpus.qdpx")

    def snapshot(store: Store):
        segs = {s.id: s for s in store.segments()}
        return (sorted((d.name, d.round, d.district, d.group, store.document_text(d.id)) for d in store.documents()),
                sorted((s.document, s.index, s.speaker, s.role, s.text, s.start, s.end) for s in segs.values()),
                sorted((segs[c.segment_id].document, segs[c.segment_id].index, c.code_id, c.coder, c.status)
                       for c in store.codings()))

    assert snapshot(fresh) == snapshot(corpus)
    assert agreement(fresh, bootstrap=0).overall.kappa == agreement(corpus, bootstrap=0).overall.kappa
    fresh.dispose()
