"""Reconciling disagreements: the final coding is its own, audited decision."""

from __future__ import annotations

import pytest

from focusqa.analysis.agreement import agreement, disagreements
from focusqa.errors import FocusqaError
from focusqa.ingest import parse_text
from focusqa.store.reconcile import decisions, reconcile, visible_codings

EARLY, COORD = "tidlig-indsats", "tvaerfaglig-koordinering"
TEXT = """Moderator: Hvordan går det?

Rådgiver 1: Vi taler med forældrene før der er en sag.

Rådgiver 2: Jeg koordinerer med PPR.
"""


@pytest.fixture
def two_coders(store):
    _status, doc_id = store.import_document(parse_text(TEXT, "g.txt"))
    seg = [s.id for s in store.segments(doc_id)]
    store.set_coding(seg[1], EARLY, "Anna")
    store.set_coding(seg[2], COORD, "Anna")
    store.set_coding(seg[1], EARLY, "Bo")
    store.set_finished(doc_id, "Anna")
    store.set_finished(doc_id, "Bo")
    store.add_coder("Lise", role="reviewer")
    store.add_coder("Mads", role="reviewer")
    return store, seg


def test_reconcile_records_final_coding_and_who_decided(two_coders):
    store, seg = two_coders
    (d,) = disagreements(store, "Anna", "Bo")
    reconcile(store, d.segment_id, d.code_id, present=True, decided_by="Lise")
    final = store.codings(coder="final")
    assert [(c.segment_id, c.code_id, c.status, c.origin) for c in final] == [(seg[2], COORD, "accepted", "human")]
    entry = store.audit_log(limit=1)[0]
    assert (entry.action, entry.actor, entry.after["decided_by"]) == ("reconcile", "Lise", "Lise")
    # the coders' own codings are untouched, so agreement is unchanged and ignores "final"
    assert agreement(store, bootstrap=0).coders == ["Anna", "Bo"]
    assert len(store.codings(coder="Anna")) == 2 and len(store.codings(coder="Bo")) == 1


def test_deciding_against_a_code_is_recorded_and_can_be_changed(two_coders):
    store, seg = two_coders
    reconcile(store, seg[2], COORD, present=False, decided_by="Lise")
    assert decisions(store) == {(seg[2], COORD): False}
    assert not store.excerpts(coders=["final"])        # a "no" is never an excerpt
    reconcile(store, seg[2], COORD, present=True, decided_by="Mads")
    assert decisions(store, [seg[2]]) == {(seg[2], COORD): True}
    log = [e for e in store.audit_log() if e.action == "reconcile"]
    assert [e.actor for e in log] == ["Mads", "Lise"]
    assert log[0].before["status"] == "rejected" and log[0].after["status"] == "accepted"


def test_reconcile_refuses_bad_input_without_writing(two_coders):
    store, seg = two_coders
    with pytest.raises(FocusqaError, match="not a code"):
        reconcile(store, seg[1], "no-such-code", present=True, decided_by="Lise")
    with pytest.raises(FocusqaError, match="who decided"):
        reconcile(store, seg[1], EARLY, present=True, decided_by=" ")
    with pytest.raises(FocusqaError, match="no segment"):
        reconcile(store, 999_999, EARLY, present=True, decided_by="Lise")
    assert store.codings(coder="final") == []
    assert not [e for e in store.audit_log() if e.action == "reconcile"]


def test_only_a_reviewer_reconciles(two_coders):
    store, seg = two_coders
    with pytest.raises(FocusqaError, match="only a reviewer can reconcile"):
        reconcile(store, seg[2], COORD, present=True, decided_by="Anna")
    assert store.codings(coder="final") == []
    assert not [e for e in store.audit_log() if e.action == "reconcile"]


def test_blind_mode_shows_only_own_codings(two_coders):
    store, seg = two_coders
    open_view = visible_codings(store, seg, "Bo", blind=False)
    blind_view = visible_codings(store, seg, "Bo", blind=True)
    assert {c.coder for c in open_view} == {"Anna", "Bo"}
    assert {c.coder for c in blind_view} == {"Bo"}
