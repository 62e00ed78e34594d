"""Participant-turn progress: the moderator's questions never count as uncoded work."""

from __future__ import annotations

from focusqa.ingest import parse_text
from focusqa.types import CodeSuggestion, DocumentMetadata

TEXT = """Interviewer: Hvad med den tidlige indsats?
Mette: Vi når familierne tidligt.
Lars: Vi sparrer med socialrådgiveren.
Interviewer: Og familiegruppen?
Mette: Samarbejdet er godt.
Sara: Det ved jeg ikke.
"""


def test_counts_each_participant_turn_once_by_its_most_advanced_state(store) -> None:
    _, doc = store.import_document(parse_text(TEXT, "p.txt", DocumentMetadata(round="2016")))
    segs = [s for s in store.segments(doc) if s.role == "participant"]
    assert len(segs) == 4
    store.replace_suggestions({segs[0].id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.8, {})],
                               segs[1].id: [CodeSuggestion("konsultativ-raadgivning", 3, "K", 0.7, {})],
                               segs[2].id: [CodeSuggestion("organisering", 6, "O", 0.6, {})]})
    store.review(segs[0].id, "tidlig-indsats", "Anne", "accepted")
    store.review(segs[2].id, "organisering", "Anne", "rejected")
    assert store.progress() == {doc: {"accepted": 1, "suggested": 1, "rejected": 1, "uncoded": 1}}


def test_a_waiting_suggestion_beside_an_accepted_code_still_counts_as_waiting(store) -> None:
    _, doc = store.import_document(parse_text(TEXT, "p.txt", DocumentMetadata(round="2016")))
    segs = [s for s in store.segments(doc) if s.role == "participant"]
    store.replace_suggestions({segs[0].id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.8, {})]})
    store.set_coding(segs[0].id, "organisering", "Anne")
    assert store.progress()[doc]["suggested"] == 1
    store.review(segs[0].id, "tidlig-indsats", "Anne", "rejected")
    assert store.progress()[doc] == {"accepted": 1, "suggested": 0, "rejected": 0, "uncoded": 3}


def test_coded_rounds_are_the_rounds_with_an_accepted_code_and_pages_open_on_the_newest(store) -> None:
    from focusqa.analysis import opening_round, round_order

    docs = {}
    for round_ in ("2016", "2017", "2018", None):
        name = f"p{round_}.txt"
        _, docs[round_] = store.import_document(parse_text(TEXT.replace("Mette", f"Mette {round_}"), name,
                                                           DocumentMetadata(round=round_)))
    first = {r: [s for s in store.segments(d) if s.role == "participant"][0].id for r, d in docs.items()}
    store.replace_suggestions({first["2018"]: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.8, {})],
                               first["2017"]: [CodeSuggestion("organisering", 6, "O", 0.6, {})]})
    store.review(first["2017"], "organisering", "Anne", "rejected")
    store.set_coding(first[None], "organisering", "Anne")
    assert store.coded_rounds() == set()        # a suggestion, a rejection, a document without a round
    rounds = round_order(store.document(d).round for d in docs.values())
    assert opening_round(rounds, store.coded_rounds()) == "2018"   # nothing coded: the newest
    store.set_coding(first["2016"], "tidlig-indsats", "Anne")
    assert store.coded_rounds() == {"2016"}
    assert opening_round(rounds, store.coded_rounds()) == "2016"
    store.review(first["2018"], "tidlig-indsats", "Anne", "accepted")
    assert store.coded_rounds() == {"2016", "2018"}
    assert opening_round(rounds, store.coded_rounds()) == "2018"
    assert opening_round([], set()) is None
