"""The district × code matrix, its cells, summaries, co-occurrence and ``focusqa summary``."""

from __future__ import annotations

import json

import pytest

from focusqa.analysis import row_label, row_order
from focusqa.analysis.themes import cell_summary, cooccurrence, terms, theme_matrix
from focusqa.cli import main
from test_themes_data import F, N, O, T, build_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('themes') / 'p.db'}"
    store = build_project(url)
    yield url, store
    store.dispose()


def test_themes_rows_are_districts_with_the_project_group_as_its_own_row(project):
    _, store = project
    m = theme_matrix(store)
    assert m.rows == ["Nord", "Øst", "Projektgruppe"]
    assert m.codes == store.codebook().ids
    assert row_label(None, "projektgruppe") == "Projektgruppe"
    assert row_label("Nord", "projektgruppe") == "Projektgruppe"
    assert row_label(None, None) == "Uden distrikt"
    assert row_order(["Øst", "Vest", "Projektgruppe", "Centrum", "Nord"]) == [
        "Centrum", "Nord", "Vest", "Øst", "Projektgruppe"]


def test_themes_counts_are_distinct_participant_segments(project):
    _, store = project
    m16 = theme_matrix(store, round="2016")
    # Nord 2016: 2 early-intervention turns; Bo's second coding of one of them counts once.
    assert m16.counts.at["Nord", T] == 2
    assert m16.totals["Nord"] == 13  # 12 planned turns + the turn with personal data
    assert m16.shares.at["Nord", T] == pytest.approx(2 / 13)
    m17 = theme_matrix(store, round="2017")
    assert m17.counts.at["Nord", T] == 10
    assert m17.shares.at["Nord", T] == pytest.approx(10 / 12)
    assert m17.counts.at["Projektgruppe", O] == 2
    # the moderator's questions are never counted
    assert int(m17.totals.sum()) == len([s for s in store.segments(role="participant") if s.round == "2017"])


def test_themes_statuses_and_coders_filter_the_matrix(project):
    _, store = project
    accepted = theme_matrix(store, round="2017")
    with_suggestions = theme_matrix(store, round="2017", statuses=("accepted", "suggested"))
    assert with_suggestions.counts.at["Nord", O] == accepted.counts.at["Nord", O] + 1
    bo = theme_matrix(store, coders=["Bo"])
    assert int(bo.counts.to_numpy().sum()) == 1 and bo.counts.at["Nord", T] == 1


def test_themes_by_group(project):
    _, store = project
    m = theme_matrix(store, by="group")
    assert m.rows == ["Familiegruppe", "Projektgruppe"]
    assert m.counts.at["Familiegruppe", F] == 11


def test_themes_cell_excerpts_match_the_count_and_carry_their_metadata(project):
    _, store = project
    m = theme_matrix(store, round="2017")
    excerpts = m.excerpts("Nord", T)
    assert len(excerpts) == m.counts.at["Nord", T]
    assert {e.segment.district for e in excerpts} == {"Nord"}
    assert {e.segment.round for e in excerpts} == {"2017"}
    assert all(e.segment.role == "participant" and e.coding.code_id == T for e in excerpts)
    assert [e.segment.index for e in excerpts] == sorted(e.segment.index for e in excerpts)
    assert any("Tydelig forskel" in memo for e in excerpts for memo in e.memos)
    with pytest.raises(KeyError):
        m.excerpts("Vest", T)


def test_themes_partial_coding_shows_only_the_coded_part(project):
    _, store = project
    [excerpt] = [e for e in theme_matrix(store, round="2016").excerpts("Øst", N) if "naboen" in e.segment.text]
    assert excerpt.text == "Vi inviterer naboen og fodboldtræneren med som ressourcepersoner i netværket."
    assert excerpt.text != excerpt.segment.text


def test_themes_cell_summary_picks_cell_excerpts_and_distinctive_terms(project):
    _, store = project
    m = theme_matrix(store, round="2016")
    summary = cell_summary(m, "Øst", N, n=2)
    assert len(summary.representative) == 2
    cell_ids = {e.segment.id for e in m.excerpts("Øst", N)}
    assert {e.segment.id for e in summary.representative} <= cell_ids
    # The network theme's own words come out; stop words and fillers never do.
    assert "netværksmøde" in summary.distinctive_terms or "bedsteforældre" in summary.distinctive_terms
    assert not {"og", "har", "med", "for", "ja", "altså"} & set(summary.distinctive_terms)
    assert cell_summary(m, "Nord", N).representative == []


def test_themes_distinctive_terms_contrast_rows(project):
    _, store = project
    m = theme_matrix(store)
    nord = cell_summary(m, "Nord", F).distinctive_terms
    oest = cell_summary(m, "Øst", F).distinctive_terms
    assert nord != oest


def test_themes_terms_are_lemmas_without_stop_words():
    assert terms("Underretningerne til familiegruppen, og altså børnene") == ["underretning", "familiegruppe",
                                                                              "barn"]


def test_themes_cooccurrence_counts_segments_with_both_codes(project):
    _, store = project
    co = cooccurrence(store)
    assert co.at[N, F] == co.at[F, N] == 1   # the Øst 2016 turn about network and family group
    assert co.at[O, T] == 1                    # the project group's 2017 turn on both
    m = theme_matrix(store)
    for code in m.codes:
        assert co.at[code, code] == int(m.counts[code].sum())
    assert cooccurrence(store, row="Nord").at[N, F] == 0


def test_themes_empty_database_gives_an_empty_matrix(db_url):
    from focusqa.store import Store

    m = theme_matrix(Store(db_url))
    assert m.rows == [] and len(m.codes) == 7


def test_themes_summary_command_prints_the_same_matrix(project, capsys):
    url, store = project
    m = theme_matrix(store, round="2017")
    assert main(["summary", "--round", "2017", "--format", "json", "--db", url]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["row"]: r for r in data["rows"]}
    assert list(rows) == m.rows
    assert rows["Nord"]["counts"][T] == 10 and rows["Nord"]["segments"] == 12
    assert rows["Projektgruppe"]["shares"][O] == pytest.approx(0.5)

    assert main(["summary", "--format", "csv", "--db", url, "--by", "group"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "row,code_id,code,count,total,share"
    assert f"Familiegruppe,{F},Ad. 4: Samarbejdet i forhold til familiegruppe,11," in "\n".join(lines)

    assert main(["summary", "--db", url, "--status", "all", "--round", "2017"]) == 0
    table = capsys.readouterr().out
    assert "Projektgruppe" in table and "10 (83%)" in table
    nord = next(line for line in table.splitlines() if line.startswith("Nord"))
    assert "2 (17%)" in nord  # organisation in Nord 2017: the confirmed and the open suggestion


def test_themes_cached_matrix_reads_its_cells_after_attach(project):
    """The app caches the matrix pickled (without its store); attached again it gives the same cells."""
    import pickle

    _, store = project
    m = theme_matrix(store, round="2016", statuses=("accepted", "suggested"))
    copy = pickle.loads(pickle.dumps(m))
    with pytest.raises(RuntimeError, match="attach"):
        copy.excerpts("Øst", N)
    copy.attach(store)
    assert [(e.segment.id, e.coding.id) for e in copy.excerpts("Øst", N)] == \
        [(e.segment.id, e.coding.id) for e in m.excerpts("Øst", N)]
    assert len(copy.excerpts("Øst", N)) == copy.counts.at["Øst", N]
    assert cell_summary(copy, "Øst", N, n=2) == cell_summary(m, "Øst", N, n=2)
    # the numbers need no store
    assert copy.counts.equals(m.counts) and copy.words.equals(m.words)
