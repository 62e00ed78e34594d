"""Intercoder agreement: hand-computed cases, the krippendorff package, and a small project."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focusqa.analysis.agreement import (agreement, cohen_kappa, disagreements,
                                        krippendorff_alpha_nominal, percent_agreement)
from focusqa.errors import FocusqaError
from focusqa.ingest import parse_text
from focusqa.types import CodeSuggestion, DocumentMetadata

krippendorff = pytest.importorskip("krippendorff")

EARLY, COORD = "tidlig-indsats", "tvaerfaglig-koordinering"

GROUP_1 = """Moderator: Hvordan går det med den tidlige indsats?

Rådgiver 1: Vi taler med forældrene før der er en sag.

Rådgiver 2: Jeg koordinerer med PPR og sundhedsplejen.

Moderator: Og samarbejdet med skolen?

Lærer 1: Det er blevet meget bedre, vi mødes hver uge.
"""

GROUP_2 = """Moderator: Hvad virker?

Pædagog 1: Åben rådgivning om torsdagen.

Pædagog 2: At vi kan ringe direkte til rådgiveren.
"""


# ------------------------------------------------------------------ pure functions
def test_percent_agreement_by_hand():
    assert percent_agreement([1, 1, 0, 0], [1, 0, 0, 0]) == 0.75
    # a unit rated by only one coder is not comparable and is left out
    assert percent_agreement([[1, None, 0], [1, 1, 1]]) == 0.5
    assert math.isnan(percent_agreement([None], [1]))


def test_cohen_kappa_by_hand():
    # p_o = .75; p_e = .5*.25 + .5*.75 = .5  ->  kappa = .25/.5
    assert cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.5)
    # perfect agreement and systematic disagreement
    assert cohen_kappa(["a", "b", "a"], ["a", "b", "a"]) == pytest.approx(1.0)
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1.0)
    # both coders used one value only: kappa is undefined, not 1
    assert math.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))


def test_cohen_kappa_matches_scikit_learn_on_several_categories():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(7)
    a = rng.integers(0, 4, 60).tolist()
    b = [x if rng.random() < 0.6 else int(rng.integers(0, 4)) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_alpha_by_hand():
    # coincidences: o11=2, o10=o01=1, o00=4; n1=3, n0=5, n=8
    # alpha = 1 - (n-1) * 2 / (n^2 - n1^2 - n0^2) = 1 - 7*2/30
    assert krippendorff_alpha_nominal([[1, 1, 0, 0], [1, 0, 0, 0]]) == pytest.approx(1 - 14 / 30)


def test_alpha_reproduces_krippendorffs_own_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 0.743
    m = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
         [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    assert krippendorff_alpha_nominal(m) == pytest.approx(0.743, abs=5e-4)


@pytest.mark.parametrize("seed", range(5))
def test_alpha_matches_krippendorff_package_with_missing_values(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 40)
    rows = []
    for _ in range(3):
        row = np.where(rng.random(40) < 0.75, truth, rng.integers(0, 3, 40)).astype(float)
        row[rng.random(40) < 0.2] = np.nan
        rows.append(row)
    matrix = np.array(rows)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(matrix.tolist()) == pytest.approx(expected)


def test_alpha_undefined_when_only_one_value_occurs():
    assert math.isnan(krippendorff_alpha_nominal([[1, 1], [1, 1]]))


# ------------------------------------------------------------------ project fixtures
def _project(store, groups=(("g1.txt", GROUP_1), ("g2.txt", GROUP_2))):
    ids = {}
    for name, text in groups:
        _status, doc_id = store.import_document(parse_text(text, name, DocumentMetadata(round="2017")))
        ids[name] = [s.id for s in store.segments(doc_id)]
    return ids


@pytest.fixture
def coded(store):
    """g1 coded by Anna and Bo; g2 only by Anna (so g2 must not count)."""
    seg = _project(store)
    g1, g2 = seg["g1.txt"], seg["g2.txt"]
    store.set_coding(g1[1], EARLY, "Anna")
    store.set_coding(g1[2], COORD, "Anna")
    store.set_coding(g1[1], EARLY, "Bo")
    store.set_coding(g1[4], COORD, "Bo")
    store.set_coding(g2[1], EARLY, "Anna")
    docs = {d.name: d.id for d in store.documents()}
    for coder, name in (("Anna", "g1.txt"), ("Bo", "g1.txt"), ("Anna", "g2.txt")):
        store.set_finished(docs[name], coder)   # both read every turn of what they coded
    return store, seg


def test_agreement_per_code_matches_hand_computation(coded):
    store, _seg = coded
    report = agreement(store, ["Anna", "Bo"], bootstrap=0, units="all")
    assert report.documents == ["g1.txt"]           # g2 was coded by Anna only
    assert report.segments == 5 and report.uncoded_segments == 0
    by_code = {c.code_id: c for c in report.per_code}
    early, coord = by_code[EARLY], by_code[COORD]
    assert (early.percent, early.kappa, early.alpha) == (1.0, 1.0, 1.0)
    # Anna [0,0,1,0,0] vs Bo [0,0,0,0,1]: p_o=.6, p_e=.68, kappa=-.08/.32
    assert coord.percent == pytest.approx(0.6)
    assert coord.kappa == pytest.approx(-0.25)
    assert coord.alpha == pytest.approx(krippendorff_alpha_nominal([[0, 0, 1, 0, 0], [0, 0, 0, 0, 1]]), abs=1e-4)
    assert coord.disagreements == 2 and coord.applied == {"Anna": 1, "Bo": 1}
    # a code nobody used has no kappa (nothing to agree on) and stays out of the pooled figure
    unused = [c for c in report.per_code if c.code_id not in (EARLY, COORD)]
    assert unused and all(c.kappa is None for c in unused)
    # pooled over the two used codes: 10 decisions, p_o=.8, p_e=.68
    assert report.overall.units == 10
    assert report.overall.percent == pytest.approx(0.8)
    assert report.overall.kappa == pytest.approx(0.375)


def test_by_default_segments_nobody_coded_are_left_out(coded):
    store, seg = coded
    report = agreement(store, ["Anna", "Bo"], bootstrap=0)
    # g1: segments 1 (both), 2 (Anna) and 4 (Bo) were coded; 0 and 3 (moderator) by nobody
    assert (report.units, report.segments, report.uncoded_segments) == ("coded", 3, 2)
    by_code = {c.code_id: c for c in report.per_code}
    assert by_code[EARLY].kappa == 1.0
    # Anna [0,1,0] vs Bo [0,0,1]: p_o=1/3, p_e=1/9+4/9  ->  kappa=(3/9-5/9)/(4/9)
    assert by_code[COORD].percent == pytest.approx(1 / 3, abs=1e-4)
    assert by_code[COORD].kappa == pytest.approx(-0.5)
    # pooled: 6 decisions, p_o=4/6, p_e=5/9  ->  kappa=(6/9-5/9)/(4/9)
    assert report.overall.units == 6
    assert report.overall.kappa == pytest.approx(0.25)


def test_rejected_coding_counts_as_not_applied(coded):
    store, seg = coded
    store.set_coding(seg["g1.txt"][1], EARLY, "Bo", status="rejected")
    early = {c.code_id: c for c in agreement(store, ["Anna", "Bo"], bootstrap=0, units="all").per_code}[EARLY]
    assert early.percent == pytest.approx(0.8)
    assert early.applied == {"Anna": 1, "Bo": 0}


def test_bootstrap_interval_is_reproducible_and_brackets_the_estimate(coded):
    store, _seg = coded
    r1 = agreement(store, ["Anna", "Bo"], bootstrap=500, random_state=3)
    r2 = agreement(store, ["Anna", "Bo"], bootstrap=500, random_state=3)
    assert r1.overall.percent_ci == r2.overall.percent_ci
    ci = r1.overall.percent_ci
    assert ci.low is not None and ci.low <= r1.overall.percent <= ci.high
    assert ci.low < ci.high   # five segments leave real uncertainty


def test_documents_filter_and_unknown_document(coded):
    store, _seg = coded
    assert agreement(store, ["Anna", "Bo"], documents=["g1.txt"], bootstrap=0).documents == ["g1.txt"]
    with pytest.raises(FocusqaError, match="no document named"):
        agreement(store, ["Anna", "Bo"], documents=["nope.txt"])
    with pytest.raises(FocusqaError, match="Bo. has no codings in the selected documents"):
        agreement(store, ["Anna", "Bo"], documents=["g2.txt"])


def test_three_coders_alpha_with_missing_equals_package(coded):
    store, seg = coded
    g1, g2 = seg["g1.txt"], seg["g2.txt"]
    store.set_coding(g2[1], EARLY, "Cai")       # Cai double-codes g2 with Anna only
    store.set_coding(g2[2], EARLY, "Cai")
    store.set_finished(store.segments(ids=[g2[0]])[0].document_id, "Cai")
    report = agreement(store, ["Anna", "Bo", "Cai"], bootstrap=0, units="all")
    assert report.documents == ["g1.txt", "g2.txt"]
    assert report.per_code[0].kappa is None      # kappa is for two coders only
    nan = np.nan
    # units: g1 segments 0..4 then g2 segments 0..2; Cai is missing on g1, Bo on g2
    early = np.array([[0, 1, 0, 0, 0, 0, 1, 0],
                      [0, 1, 0, 0, 0, nan, nan, nan],
                      [nan, nan, nan, nan, nan, 0, 1, 1]])
    got = {c.code_id: c for c in report.per_code}[EARLY].alpha
    assert got == pytest.approx(krippendorff.alpha(reliability_data=early, level_of_measurement="nominal"), abs=1e-4)


def test_needs_two_coders(coded):
    store, _seg = coded
    with pytest.raises(FocusqaError, match="at least two coders"):
        agreement(store, ["Anna"])
    with pytest.raises(FocusqaError, match="has no codings"):
        agreement(store, ["Anna", "Nobody"])


def test_machine_as_a_coder(coded):
    store, seg = coded
    g1 = seg["g1.txt"]
    sugg = lambda code, score: CodeSuggestion(code, None, code, score, {})  # noqa: E731
    store.replace_suggestions({g1[1]: [sugg(EARLY, 0.9)], g1[2]: [sugg(COORD, 0.8)],
                               g1[3]: [sugg(COORD, 0.2)]})
    # the machine's suggestions count whatever their review status
    store.review(g1[2], COORD, "Anna", "accepted")
    report = agreement(store, ["Anna"], include_machine=True, bootstrap=0)
    assert report.coders == ["Anna", "focusqa"]
    by_code = {c.code_id: c for c in report.per_code}
    assert by_code[EARLY].percent == 1.0
    assert by_code[COORD].applied == {"Anna": 1, "focusqa": 2}
    with_threshold = agreement(store, ["Anna"], include_machine=True, bootstrap=0, machine_threshold=0.5)
    assert {c.code_id: c for c in with_threshold.per_code}[COORD].percent == 1.0


def test_disagreement_list(coded):
    store, seg = coded
    found = disagreements(store, "Anna", "Bo")
    assert [(d.document, d.segment_index, d.code_id, d.a, d.b) for d in found] == [
        ("g1.txt", 2, COORD, True, False), ("g1.txt", 4, COORD, False, True)]
    assert found[0].text.startswith("Jeg koordinerer")
    assert found[0].segment_id == seg["g1.txt"][2]


def test_report_renders_as_table_and_dict(coded):
    store, _seg = coded
    report = agreement(store, ["Anna", "Bo"], bootstrap=50)
    table = report.to_table()
    assert "Ad. 1: Tidlig indsats" in table and "Alle koder" in table and "-0.50" in table
    assert "3 segments coded by at least one of them (2 uncoded segments left out)" in table
    d = report.as_dict()
    assert d["coders"] == ["Anna", "Bo"] and d["overall"]["percent"] == pytest.approx(4 / 6, abs=1e-4)


def test_coders_without_a_shared_document(coded):
    store, seg = coded
    store.set_coding(seg["g2.txt"][2], EARLY, "Cai")
    with pytest.raises(FocusqaError, match="no document has been coded by at least two of: Bo, Cai"):
        agreement(store, ["Bo", "Cai"])


def test_a_coder_counts_only_where_they_decided(coded):
    """Accepting one suggestion must not make a new coder disagree on every turn they never read."""
    store, seg = coded
    g1 = seg["g1.txt"]
    store.set_coding(g1[1], EARLY, "Dina")               # Dina coded one turn of g1, nothing else
    report = agreement(store, ["Anna", "Dina"], bootstrap=0, units="all")
    assert report.segments == 5                          # g1's turns, shared by Anna and Dina's document
    early = next(c for c in report.per_code if c.code_id == EARLY)
    assert early.units == 1 and early.disagreements == 0   # only the turn Dina decided on
    assert disagreements(store, "Anna", "Dina") == []
    store.set_finished(store.segments(ids=[g1[0]])[0].document_id, "Dina")
    after = agreement(store, ["Anna", "Dina"], bootstrap=0, units="all")
    assert next(c for c in after.per_code if c.code_id == EARLY).units == 5
    assert [d.code_id for d in disagreements(store, "Anna", "Dina")] == [COORD]  # Anna's g1[2]
