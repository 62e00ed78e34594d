"""On the demo corpus, the matrix and the round comparison surface what its README says an
evaluator should find ("What an evaluator should find", coder A's reference coding)."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from focusqa.analysis.rounds import compare_rounds
from focusqa.analysis.themes import cell_summary, theme_matrix
from focusqa.cli import main
from focusqa.export.docx import export_docx
from focusqa.store import Store
from test_export_docx import quote_counts
from test_themes_data import count

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "socialraadgivere"
CODER_A = ["evaluator_a"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    assert main(["import", str(DEMO), "--with-reference", "--db", url]) == 0
    store = Store(url)
    yield store
    store.dispose()


def _most_coded(matrix, row):
    return matrix.counts.loc[row].idxmax()


def test_demo_rows_are_the_four_districts_and_the_project_group(demo):
    m = theme_matrix(demo, round="2016", coders=CODER_A)
    assert m.rows == ["Centrum", "Nord", "Vest", "Øst", "Projektgruppe"]
    # README table, 2016 Nord: 55 participant segments, tidlig-indsats 13 (24 %)
    assert m.totals["Nord"] == 55 and m.counts.at["Nord", "tidlig-indsats"] == 13
    assert m.totals["Projektgruppe"] == 51


def test_demo_most_coded_theme_per_district_and_round(demo):
    m16 = theme_matrix(demo, round="2016", coders=CODER_A)
    m17 = theme_matrix(demo, round="2017", coders=CODER_A)
    # "Nord 2016: tidlig-indsats is the most-coded theme"; "Nord 2017: organisering"
    assert _most_coded(m16, "Nord") == "tidlig-indsats"
    assert _most_coded(m17, "Nord") == "organisering"
    # "Øst 2017: samarbejde-familiegruppe is the most-coded theme (49 %)"
    assert _most_coded(m17, "Øst") == "samarbejde-familiegruppe"
    assert m17.shares.at["Øst", "samarbejde-familiegruppe"] == pytest.approx(24 / 49)
    # "Centrum 2016 and 2017: tvaerfaglig-koordinering is the most-coded theme in both rounds"
    assert _most_coded(m16, "Centrum") == _most_coded(m17, "Centrum") == "tvaerfaglig-koordinering"
    # "Vest 2016: organisering"; "Vest 2017: ressourcepersoner-netvaerk (40 %)"
    assert _most_coded(m16, "Vest") == "organisering"
    assert _most_coded(m17, "Vest") == "ressourcepersoner-netvaerk"
    # "Project group 2016: tidlig-indsats"; "2017: organisering (36 %)"
    assert _most_coded(m16, "Projektgruppe") == "tidlig-indsats"
    assert _most_coded(m17, "Projektgruppe") == "organisering"


def test_demo_round_comparison_flags_the_changes_the_story_is_about(demo):
    frame = compare_rounds(demo, "2016", "2017", coders=CODER_A)
    flagged = {(r.row, r.code_id, "up" if r.change > 0 else "down") for r in frame[frame.flagged].itertuples()}
    assert {("Nord", "organisering", "up"), ("Nord", "tidlig-indsats", "down"),
            ("Øst", "samarbejde-familiegruppe", "up"), ("Vest", "ressourcepersoner-netvaerk", "up"),
            ("Projektgruppe", "organisering", "up"), ("Projektgruppe", "supplerende", "up")} <= flagged
    # Centrum's coordination rises (28 % -> 38 %) but not beyond its interval: no flag
    centrum = frame[(frame.row == "Centrum") & (frame.code_id == "tvaerfaglig-koordinering")].iloc[0]
    assert centrum.change > 0 and not centrum.flagged


def test_demo_cell_summary_of_vest_network_meetings(demo):
    m = theme_matrix(demo, round="2017", coders=CODER_A)
    summary = cell_summary(m, "Vest", "ressourcepersoner-netvaerk")
    assert len(summary.representative) == 3
    assert all(e.segment.district == "Vest" and e.segment.round == "2017" for e in summary.representative)
    # grandparents, neighbours and a football coach as resource persons; the network
    assert {"netværk", "fodboldtræner"} <= set(summary.distinctive_terms)


def test_demo_word_export_holds_every_excerpt(demo):
    """The layout by guide point and district (the memo draft's appendix uses it) holds them all."""
    buffer = io.BytesIO()
    report = export_docx(demo, buffer, coders=CODER_A, layout="code-district")
    document = docx.Document(buffer)
    assert sum(quote_counts(document).values()) == report.excerpts == count(demo, coders=CODER_A) == 505
