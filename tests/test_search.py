"""Search: Danish-aware matching, query syntax, filters, KWIC rows, coding the hits, undo, saved searches."""

from __future__ import annotations

import json

import pytest

from focusqa.analysis.search import (QueryError, SearchFilters, code_hits, parse_query, search,
                                     seed_terms)
from focusqa.cli import main
from focusqa.config import MACHINE_CODER
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import DocumentMetadata, turn_number

TRANSCRIPTS = {
    ("2016", "Nord", "familiegruppe"): """
Interviewer: Hvornår laver I en underretning?

Anne: Skoleunderretningerne kommer tit for sent, og sagsbehandleren ringer ikke tilbage.

Bo: Vi har åben rådgivning hver tirsdag, hvor lærerne kan komme med deres sager.

Anne: Underretninger om vold tager vi med det samme.
""",
    ("2017", "Nord", "familiegruppe"): """
Interviewer: Er der kommet færre underretninger?

Anne: Ja, der er færre underretninger, og skoleudtalelserne er blevet bedre.

Bo: De åbne rådgivninger bliver brugt mere end før, også af pædagogerne.
""",
    ("2017", "Øst", "projektgruppe"): """
Interviewer: Hvad betyder ventetiden?

Carla: Ventetiden på en samtale er lang, men underretningen bliver læst samme dag.

Dan: Vi taler om ventetid på hvert møde i projektgruppen.
""",
}


def _import(store: Store) -> dict[tuple[str, str], int]:
    ids = {}
    for (round_, district, group), body in TRANSCRIPTS.items():
        parsed = parse_text(body, f"{district}_{round_}.txt",
                            DocumentMetadata(round=round_, district=district, group=group))
        _status, ids[(round_, district)] = store.import_document(parsed, actor="test")
    return ids


@pytest.fixture
def project(store: Store) -> Store:
    _import(store)
    return store


def _matches(result) -> list[str]:
    return [h.match for h in result.hits]


# ------------------------------------------------------------------ matching
def test_search_finds_inflections_and_compounds_but_not_longer_words_of_a_short_stem(project):
    assert _matches(search(project, "underretning")) == [
        "Skoleunderretningerne", "Underretninger", "underretninger", "underretningen"]
    sag = _matches(search(project, "sag"))
    assert sag == ["sager"]  # not "sagsbehandleren"


def test_search_in_danish_letters_and_a_compound_head(project):
    assert _matches(search(project, "skoleudtalelse")) == ["skoleudtalelserne"]
    assert _matches(search(project, "ventetid")) == ["Ventetiden", "ventetid"]


def test_quoted_phrase_is_exact_and_a_bare_phrase_is_not_needed(project):
    assert _matches(search(project, '"åben rådgivning"')) == ["åben rådgivning"]
    assert _matches(search(project, '"underretninger"')) == ["Underretninger", "underretninger"]
    assert search(project, '"åbne rådgivning"').hits == []


def test_words_side_by_side_must_all_be_in_the_turn(project):
    result = search(project, "underretning vold")
    assert {h.match for h in result.hits} == {"Underretninger", "vold"}
    assert len(result.segment_ids) == 1


def test_or_and_not(project):
    assert set(_matches(search(project, "ventetid OR skoleudtalelse"))) == {
        "Ventetiden", "ventetid", "skoleudtalelserne"}
    assert _matches(search(project, "underretning NOT vold")) == [
        "Skoleunderretningerne", "underretninger", "underretningen"]
    assert _matches(search(project, "underretning -vold -skoleudtalelse")) == [
        "Skoleunderretningerne", "underretningen"]
    # the first turn has "sagsbehandleren", so its compound hit goes; Bo's "sager" stays
    assert set(_matches(search(project, "underretning ELLER sag IKKE sagsbehandler"))) == {
        "sager", "Underretninger", "underretninger", "underretningen"}


@pytest.mark.parametrize("query, problem", [
    ('"åben rådgivning', "not closed"), ("OR ventetid", "both sides"), ("ventetid OR", "ends with"),
    ("NOT ventetid", "no word"), ("   ", "no word"),
])
def test_bad_queries_are_explained(project, query, problem):
    with pytest.raises(QueryError, match=problem):
        search(project, query)


# ------------------------------------------------------------------ filters
def test_moderators_are_left_out_unless_asked_for(project):
    assert all(h.role == "participant" for h in search(project, "underretning").hits)
    moderator = search(project, "underretning", SearchFilters(role="moderator"))
    assert _matches(moderator) == ["underretning", "underretninger"]
    assert len(search(project, "underretning", SearchFilters(role="all")).hits) == 6


def test_filters_by_round_district_and_group(project):
    assert {h.district for h in search(project, "underretning", SearchFilters(districts=("Øst",))).hits} == {"Øst"}
    assert _matches(search(project, "underretning", SearchFilters(rounds=("2017",)))) == [
        "underretninger", "underretningen"]
    assert _matches(search(project, "ventetid", SearchFilters(groups=("familiegruppe",)))) == []


def test_filters_by_code_and_coding_state(project):
    hits = search(project, "underretning").hits
    project.set_coding(hits[0].segment_id, "tidlig-indsats", "anna")
    project.set_coding(hits[1].segment_id, "tidlig-indsats", "anna", "rejected")
    coded = search(project, "underretning", SearchFilters(codes=("tidlig-indsats",)))
    assert coded.segment_ids == [hits[0].segment_id]
    assert search(project, "underretning", SearchFilters(states=("rejected",))).segment_ids == [hits[1].segment_id]
    uncoded = search(project, "underretning", SearchFilters(states=("uncoded",)))
    assert uncoded.segment_ids == [hits[2].segment_id, hits[3].segment_id]


# ------------------------------------------------------------------ rows and counts
def test_kwic_rows_carry_context_place_and_the_app_turn_number(project):
    hit = search(project, "vold").hits[0]
    segment = project.segments(ids=[hit.segment_id])[0]
    assert (hit.before, hit.match, hit.after) == ("Underretninger om", "vold", "tager vi med det samme.")
    assert (hit.left, hit.right) == ("Underretninger om ", " tager vi med det samme.")
    comma = search(project, "underretning").hits[2]      # "færre underretninger, og ..."
    assert comma.left + comma.match + comma.right == "Ja, der er færre underretninger, og skoleudtalelserne er blevet bedre."
    assert hit.turn == turn_number(segment.turn) == segment.turn + 1
    assert project.document_text(hit.document_id)[hit.start:hit.end] == "vold"
    assert (hit.document, hit.speaker, hit.round, hit.district, hit.group) == (
        "Nord_2016.txt", "Anne", "2016", "Nord", "familiegruppe")


def test_sort_by_the_word_after_the_hit(project):
    hits = search(project, "underretning", sort="next").hits
    assert [h.next_word for h in hits] == sorted(h.next_word for h in hits)
    assert hits[0].next_word == "bliver"


def test_counts_per_district_and_round(project):
    counts = search(project, "underretning OR ventetid").counts()
    assert list(counts.columns) == ["2016", "2017"]
    assert list(counts.index) == ["Nord", "Projektgruppe"]
    assert counts.loc["Nord", "2016"] == 2 and counts.loc["Nord", "2017"] == 1
    assert counts.loc["Projektgruppe", "2017"] == 3
    assert search(project, "underretning OR ventetid").counts("turns").loc["Projektgruppe", "2017"] == 2


def test_counts_keep_an_interview_without_a_round_in_one_last_column(project):
    parsed = parse_text("Interviewer: Og nu?\n\nEva: Ventetiden er blevet kortere.\n", "Vest.txt",
                        DocumentMetadata(district="Vest"))
    project.import_document(parsed, actor="test")
    counts = search(project, "ventetid").counts()
    assert list(counts.columns) == ["2017", "–"]
    assert counts.loc["Vest", "–"] == 1


# ------------------------------------------------------------------ the index keeps in step
def test_the_index_follows_imports_deletions_and_metadata_edits(project):
    first = search(project, "ventetid")
    parsed = parse_text("Interviewer: Og nu?\n\nEva: Ventetiderne er blevet kortere.\n", "Vest_2017.txt",
                        DocumentMetadata(round="2017", district="Vest"))
    _status, new_id = project.import_document(parsed, actor="test")
    assert "Ventetiderne" in _matches(search(project, "ventetid"))
    project.update_document_metadata(new_id, DocumentMetadata(round="2018", district="Syd"), "test")
    assert "Syd" in {h.district for h in search(project, "ventetid").hits}
    project.delete_document(new_id, "test")
    assert _matches(search(project, "ventetid")) == _matches(first)


# ------------------------------------------------------------------ coding the hits
def test_coding_all_hits_as_accepted_and_undo(project):
    result = search(project, "underretning")
    written, skipped = code_hits(project, result, "tidlig-indsats", "anna")
    assert (written, skipped) == (4, 0)
    mine = project.codings(coder="anna", code_id="tidlig-indsats")
    assert sorted(c.segment_id for c in mine) == sorted(result.segment_ids)
    assert all(c.status == "accepted" and c.origin == "human" for c in mine)
    assert mine[0].evidence["search"] == "underretning" and mine[0].evidence["terms"]
    assert code_hits(project, result, "tidlig-indsats", "anna") == (0, 4)  # already coded
    undone = project.undo_last("anna")
    assert undone is not None and undone.action == "code-hits"
    assert project.codings(coder="anna") == []


def test_coding_ticked_hits_as_suggestions_for_review(project):
    result = search(project, "underretning")
    chosen = result.segment_ids[:2]
    project.set_coding(chosen[0], "tidlig-indsats", "anna", "rejected")
    assert code_hits(project, result, "tidlig-indsats", "anna", segment_ids=chosen, as_suggestions=True) == (2, 0)
    suggested = project.codings(coder=MACHINE_CODER, code_id="tidlig-indsats")
    assert [(c.segment_id, c.status, c.origin) for c in suggested] == [
        (chosen[0], "suggested", "search"), (chosen[1], "suggested", "search")]
    # a refit of the auto-coder replaces its own open suggestions, not these
    project.replace_suggestions({chosen[1]: []})
    assert len(project.codings(coder=MACHINE_CODER, code_id="tidlig-indsats")) == 2
    # the coder's rejection from before is untouched, and the review works as for any suggestion
    assert project.codings(coder="anna")[0].status == "rejected"
    project.review(chosen[1], "tidlig-indsats", "anna", "accepted")
    project.undo_last("anna")  # the review
    project.undo_last("anna")  # the search step
    assert project.codings(coder=MACHINE_CODER) == []
    assert [c.status for c in project.codings(coder="anna")] == ["rejected"]


def test_coding_hits_needs_a_coder_and_a_known_code(project):
    from focusqa.errors import FocusqaError

    result = search(project, "underretning")
    with pytest.raises(FocusqaError, match="coder"):
        code_hits(project, result, "tidlig-indsats", " ")
    with pytest.raises(FocusqaError, match="not a code"):
        code_hits(project, result, "no-such-code", "anna")
    assert project.codings() == []


# ------------------------------------------------------------------ saved searches
def test_saved_search_reruns_and_becomes_seed_terms(project):
    filters = SearchFilters(rounds=("2017",), role="all")
    project.save_search("ventetid", 'ventetid OR "åben rådgivning" -projektgruppen', filters.as_dict(), "anna")
    saved = project.saved_search("ventetid")
    again = search(project, saved.query, SearchFilters.from_dict(saved.filters))
    assert again.filters == filters
    assert _matches(again) == ["ventetiden", "Ventetiden"]
    assert seed_terms(saved.query) == ["ventetid", "åben rådgivning"]
    before = project.codebook()
    version = project.add_seed_terms("organisering", seed_terms(saved.query), "anna")
    assert version == before.version + 1
    terms = project.codebook().get("organisering").terms
    assert terms[-2:] == ["ventetid", "åben rådgivning"]
    assert project.add_seed_terms("organisering", ["ventetid"], "anna") == version  # nothing new
    project.delete_saved_search("ventetid", "anna")
    assert project.saved_searches() == []


def test_parse_query_keeps_the_structure():
    query = parse_query('skole "åben rådgivning" OR sparring NOT telefon')
    assert [[str(t) for t in clause] for clause in query.clauses] == [["skole"], ['"åben rådgivning"', "sparring"]]
    assert [str(t) for t in query.excluded] == ["telefon"]


# ------------------------------------------------------------------ the command line
def test_cli_gives_the_same_hits_as_the_search(project, capsys):
    result = search(project, "underretning", SearchFilters(districts=("Nord",)))
    assert main(["search", "underretning", "--district", "Nord", "--format", "jsonl", "--db", project.url]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["segment_id"], r["match"], r["turn"]) for r in rows] == [
        (h.segment_id, h.match, h.turn) for h in result.hits]
    assert main(["search", "underretning", "--counts", "--format", "csv", "--save", "u", "--db", project.url]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["Nord,2,1", "Projektgruppe,0,1"]
    assert main(["search", "--saved", "u", "--db", project.url]) == 0
    assert "4 hits in 4 turns" in capsys.readouterr().out


def test_cli_reports_a_bad_query(project, capsys):
    assert main(["search", '"åben', "--db", project.url]) == 2
    assert "quotation mark is not closed" in capsys.readouterr().err
