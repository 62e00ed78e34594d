"""2016 vs 2017: prevalence, change with a Newcombe interval, flags, new/gone themes, side by side."""

from __future__ import annotations

import math

import pytest

from focusqa.analysis.rounds import COLUMNS, compare_rounds, newcombe_interval, side_by_side, wilson_interval
from test_themes_data import F, N, O, T, build_project


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = build_project(f"sqlite:///{tmp_path_factory.mktemp('rounds') / 'p.db'}")
    yield s
    s.dispose()


def _cell(frame, row, code):
    return frame[(frame["row"] == row) & (frame["code_id"] == code)].iloc[0]


def test_rounds_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10.
    low, high = newcombe_interval(48, 80, 56, 70)
    assert low == pytest.approx(0.0524, abs=1e-4)
    assert high == pytest.approx(0.3339, abs=1e-4)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))


def test_rounds_compare_has_the_contract_columns_and_one_line_per_row_and_code(store):
    frame = compare_rounds(store, "2016", "2017")
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 3 * 7
    assert list(dict.fromkeys(frame["row"])) == ["Nord", "Øst", "Projektgruppe"]


def test_rounds_flags_the_change_that_clears_its_interval(store):
    frame = compare_rounds(store, "2016", "2017")
    nord = _cell(frame, "Nord", T)
    assert (nord.n_a, nord.total_a, nord.n_b, nord.total_b) == (2, 13, 10, 12)
    assert nord.prev_a == pytest.approx(2 / 13) and nord.prev_b == pytest.approx(10 / 12)
    assert nord.change == pytest.approx(10 / 12 - 2 / 13)
    assert nord.ci_low > 0 and nord.ci_high < 1 and nord.flagged
    # Øst's talk about the family group is unchanged (2 of 6 in both rounds): no flag.
    oest = _cell(frame, "Øst", F)
    assert oest.change == pytest.approx(0) and oest.ci_low < 0 < oest.ci_high and not oest.flagged
    # every flag means the interval excludes 0, and only then
    for _, line in frame.dropna(subset=["change"]).iterrows():
        assert line.flagged == (line.ci_low > 0 or line.ci_high < 0)
        assert line.ci_low <= line.change <= line.ci_high


def test_rounds_new_and_gone_themes(store):
    frame = compare_rounds(store, "2016", "2017")
    assert _cell(frame, "Øst", N).status == "gone"
    assert _cell(frame, "Projektgruppe", O).status == "new"
    assert _cell(frame, "Nord", T).status == ""
    assert set(frame["status"]) <= {"", "new", "gone"}
    nothing = _cell(frame, "Nord", "supplerende")
    assert (nothing.n_a, nothing.n_b, nothing.status) == (0, 0, "")


def test_rounds_a_row_missing_in_one_round_has_no_change(db_url):
    from focusqa.ingest import parse_text
    from focusqa.store import Store
    from focusqa.types import DocumentMetadata

    s = Store(db_url)
    for round_, district in (("2016", "Nord"), ("2017", "Nord"), ("2017", "Vest")):
        parsed = parse_text(f"Moderator: Spørgsmål?\n\nRådgiver 1: Svar fra {district} {round_}.\n",
                            f"{round_}{district}.txt", DocumentMetadata(round=round_, district=district))
        _, doc_id = s.import_document(parsed)
        seg = [x for x in s.segments(doc_id) if x.role == "participant"][0]
        s.set_coding(seg.id, T, "Anna")
    frame = compare_rounds(s, "2016", "2017")
    vest = _cell(frame, "Vest", T)
    assert vest.total_a == 0 and vest.n_b == 1
    assert math.isnan(vest.prev_a) and math.isnan(vest.change) and not vest.flagged and vest.status == ""


def test_rounds_side_by_side_returns_each_rounds_excerpts(store):
    a, b = side_by_side(store, "Nord", T, "2016", "2017")
    assert len(a) == 2 and len(b) == 10
    assert {e.segment.round for e in a} == {"2016"} and {e.segment.round for e in b} == {"2017"}
    assert all(e.segment.district == "Nord" and e.coding.code_id == T for e in a + b)
    pa, pb = side_by_side(store, "Projektgruppe", O, "2016", "2017")
    assert pa == [] and len(pb) == 2 and all(e.segment.group == "projektgruppe" for e in pb)
