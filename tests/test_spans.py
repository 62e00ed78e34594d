"""Words selected in a turn become a coding: offsets, word boundaries, the store and REFI-QDA.

The Kodning page sends (turn, start, end, code) from the browser (code-point offsets
into the turn's text); ``focusqa.spans.code_selection`` turns that into a stored coding.
Real store on SQLite, real transcript parsing, the real REFI-QDA export.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import pytest

from focusqa.errors import ConflictError, FocusqaError
from focusqa.export.refi import NS_PROJECT, export_qdpx
from focusqa.ingest import parse_text
from focusqa.spans import code_selection, document_span, runs, turn_spans, word_span
from focusqa.store import Store
from focusqa.types import DocumentMetadata

TRANSCRIPT = """Moderator: Hvordan går det med den tidlige indsats? 😀
Rådgiver 1: 🚸 Vi taler med forældrene, før der er en sag. Det er café-agtigt og uformelt.
Rådgiver 2: Jeg koordinerer med PPR og sundhedsplejen.
"""


@pytest.fixture
def project(db_url):
    store = Store(db_url)
    parsed = parse_text(TRANSCRIPT, "nord.txt", DocumentMetadata(round="2016", district="Nord", group="lærere"))
    _, doc_id = store.import_document(parsed)
    yield store, doc_id, store.segments(doc_id)
    store.dispose()


def test_a_drag_inside_words_codes_the_whole_words():
    text = "Vi taler med forældrene, før der er en sag."
    start, end = word_span(text, text.index("aler"), text.index("forældrene") + 3)
    assert text[start:end] == "taler med forældrene"


def test_spaces_and_punctuation_around_the_words_are_left_out():
    text = "Det er café-agtigt og uformelt."
    start, end = word_span(text, text.index(" café"), len(text))
    assert text[start:end] == "café-agtigt og uformelt"


@pytest.mark.parametrize("start, end, message", [(5, 5, "outside"), (-1, 3, "outside"), (0, 99, "outside"),
                                                 (2, 3, "no words")])
def test_an_empty_or_outside_selection_is_refused(start, end, message):
    with pytest.raises(FocusqaError, match=message):
        word_span("Ja. ... Nej", start, end)


def test_a_selection_is_stored_with_document_offsets_and_shown_as_part(project):
    store, doc_id, segs = project
    turn = segs[1]
    start = turn.text.index("taler")
    coding = code_selection(store, turn, "tidlig-indsats", "Anne", start, start + len("taler med forældrene"))
    (stored,) = store.codings(coder="Anne")
    assert (stored.id, stored.code_id, stored.status) == (coding.id, "tidlig-indsats", "accepted")
    assert store.document_text(doc_id)[stored.start:stored.end] == "taler med forældrene"
    assert [text for a, b, c in turn_spans(turn, [stored]) for text in [turn.text[a:b]]] == ["taler med forældrene"]


def test_offsets_count_code_points_so_an_emoji_before_the_words_counts_one(project):
    store, doc_id, segs = project
    turn = segs[1]
    assert turn.text.startswith("🚸")
    start = turn.text.index("Vi")   # 2 in code points (the emoji is 2 in UTF-16)
    assert start == 2
    code_selection(store, turn, "tidlig-indsats", "Anne", start, start + 2)
    (stored,) = store.codings(coder="Anne")
    assert store.document_text(doc_id)[stored.start:stored.end] == "Vi"


def test_selecting_all_the_words_of_a_turn_is_a_whole_turn_coding(project):
    store, _, segs = project
    turn = segs[2]
    assert document_span(turn, 0, len(turn.text)) == (None, None)
    code_selection(store, turn, "tvaerfaglig-koordinering", "Anne", 1, len(turn.text) - 1)
    (stored,) = store.codings(coder="Anne")
    assert (stored.start, stored.end) == (None, None)


def test_a_new_selection_with_the_same_code_moves_the_coding_and_is_undoable(project):
    store, doc_id, segs = project
    turn = segs[2]
    first = code_selection(store, turn, "tvaerfaglig-koordinering", "Anne", turn.text.index("PPR"),
                           turn.text.index("PPR") + 3, expected_version=0)
    code_selection(store, turn, "tvaerfaglig-koordinering", "Anne", turn.text.index("sundhed"),
                   len(turn.text), expected_version=first.version)
    (stored,) = store.codings(coder="Anne")
    assert store.document_text(doc_id)[stored.start:stored.end] == "sundhedsplejen"
    store.undo_last("Anne")
    (stored,) = store.codings(coder="Anne")
    assert store.document_text(doc_id)[stored.start:stored.end] == "PPR"


def test_a_stale_version_is_a_conflict_and_changes_nothing(project):
    store, _, segs = project
    turn = segs[2]
    code_selection(store, turn, "organisering", "Anne", 0, 3)
    before = store.codings(coder="Anne")
    with pytest.raises(ConflictError):
        code_selection(store, turn, "organisering", "Anne", 4, 15, expected_version=0)
    assert store.codings(coder="Anne") == before


def test_a_refused_selection_writes_nothing(project):
    store, _, segs = project
    with pytest.raises(FocusqaError):
        code_selection(store, segs[1], "organisering", "Anne", 0, len(segs[1].text) + 5)
    with pytest.raises(FocusqaError):
        code_selection(store, segs[1], "no-such-code", "Anne", 3, 8)
    assert store.codings(coder="Anne") == []
    assert [e for e in store.audit_log() if e.actor == "Anne"] == []


def test_the_selection_goes_to_refi_qda_as_a_plain_text_selection(project, tmp_path):
    store, _, segs = project
    turn = segs[2]
    code_selection(store, turn, "tvaerfaglig-koordinering", "Anne", turn.text.index("PPR"),
                   turn.text.index("sundhedsplejen") + 4)
    export_qdpx(store, tmp_path / "p.qdpx")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as zf:
        root = ET.fromstring(zf.read("project.qde"))
        (source,) = root.iter(f"{{{NS_PROJECT}}}TextSource")
        text = zf.read(source.get("plainTextPath").replace("internal://", "sources/")).decode("utf-8")
    sliced = [text[int(s.get("startPosition")):int(s.get("endPosition"))]
              for s in source.iter(f"{{{NS_PROJECT}}}PlainTextSelection")]
    assert sliced == ["PPR og sundhedsplejen"]


def test_runs_cut_the_text_where_spans_start_and_end():
    cut = runs(10, [(2, 6, "a"), (4, 8, "b"), (9, 20, "c"), (5, 5, "empty")])
    assert [(r.start, r.end, r.keys) for r in cut] == [
        (0, 2, ()), (2, 4, ("a",)), (4, 6, ("a", "b")), (6, 8, ("b",)), (8, 9, ()), (9, 10, ("c",))]
    assert runs(3, []) == [type(cut[0])(0, 3, ())]
