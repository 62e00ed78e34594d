"""``evaluate``: held-out protocols, agreement statistics, never scoring on training data."""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import pytest

from focusqa.cli import main
from focusqa.codebook import load_codebook
from focusqa.errors import FocusqaError
from focusqa.ingest import read_transcript
from focusqa.tagging import Tagger
from focusqa.tagging.evaluation import (Fold, cohen_kappa, evaluate, krippendorff_alpha,
                                        make_folds)
from focusqa.tagging.training import load_reference

ANSWERS = {
    "tidlig-indsats": ["Forældrene henvender sig tidligt, før der bliver en sag, og det forebygger meget.",
                       "Den åbne rådgivning fanger bekymringerne tidligt hos de sårbare familier."],
    "konsultativ-raadgivning": ["Lærerne får sparring om hvordan man skriver en underretning.",
                                "Pædagogerne bliver klædt på når de har mistanke om vold."],
    "ressourcepersoner-netvaerk": ["Vi holdt netværksmøder, og bedstemoren blev en ressource.",
                                   "Med Signs of Safety fandt familien en holdbar løsning med naboen."],
}
QUESTIONS = {
    "tidlig-indsats": "Hvad med den tidlige og forebyggende indsats?",
    "konsultativ-raadgivning": "Så til den konsultative rådgivning af personalet?",
    "ressourcepersoner-netvaerk": "Næste punkt er familiens netværk og ressourcepersoner.",
}


def _write_corpus(folder: Path) -> Path:
    """Four small transcripts in two rounds with a complete reference coding."""
    folder.mkdir()
    (folder / "reference").mkdir()
    manifest = ["file,round,district,group"]
    lines = []
    for year in ("2016", "2017"):
        for district in ("Nord", "Syd"):
            name = f"{year}_{district.lower()}.txt"
            manifest.append(f"{name},{year},{district},familiegruppe")
            turns = ["Moderator: Velkommen, og tak fordi I kom."]
            codes: list[list[str]] = [[]]
            for code, answers in ANSWERS.items():
                turns.append(f"Moderator: {QUESTIONS[code]}")
                codes.append([])
                for i, answer in enumerate(answers):
                    turns.append(f"Deltager {i + 1}: {answer} Det gælder også i {district} i {year}.")
                    codes.append([code])
                turns.append("Deltager 1: Ja.")
                codes.append([])
            (folder / name).write_text("\n\n".join(turns) + "\n", encoding="utf-8")
            parsed = read_transcript(folder / name)
            for seg, seg_codes in zip(parsed.segments, codes):
                lines.append(json.dumps({"document": name, "segment": seg.index, "start": seg.start,
                                         "end": seg.end, "codes": seg_codes, "coder": "a"}))
    (folder / "manifest.csv").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    reference = folder / "reference" / "coder_a.jsonl"
    reference.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return reference


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return _write_corpus(tmp_path_factory.mktemp("eval") / "corpus")


def test_evaluate_cross_round_trains_on_earlier_rounds_only(reference):
    docs = load_reference(reference, codebook=load_codebook())
    folds = make_folds(docs, "cross-round")
    assert [f.name for f in folds] == ["2016 -> 2017"]
    assert {d.name for d in folds[0].train} == {"2016_nord.txt", "2016_syd.txt"}
    assert {d.name for d in folds[0].test} == {"2017_nord.txt", "2017_syd.txt"}


def test_evaluate_leave_one_document_out_folds_are_disjoint(reference):
    docs = load_reference(reference, codebook=load_codebook())
    folds = make_folds(docs, "leave-one-document-out")
    assert len(folds) == 4
    for fold in folds:
        assert len(fold.test) == 1 and fold.test[0].name not in {d.name for d in fold.train}


def test_evaluate_never_trains_on_its_test_documents(reference):
    """Spy on every fit: no test segment's text is ever in the training set of its fold."""
    codebook = load_codebook()
    seen: list[tuple[set[str], set[str]]] = []

    class SpyTagger(Tagger):
        def fit(self, documents):
            self._trained_on = {d.name for d in documents}
            return super().fit(documents)

        def suggest(self, segments, **kw):
            seen.append((self._trained_on, {getattr(s, "text") for s in segments}))
            return super().suggest(segments, **kw)

    for protocol in ("cross-round", "leave-one-document-out"):
        seen.clear()
        report = evaluate(reference, protocol=protocol, codebook=codebook,
                          tagger_factory=lambda: SpyTagger(codebook))
        docs = {d.name: {s.text for s in d.segments} for d in load_reference(reference, codebook=codebook)}
        assert seen
        for trained, tested in seen:
            own = {t for t in tested if "Det gælder også" in t}  # unique to each document
            assert own
            for name in trained:
                assert not own & docs[name]
        for fold in report.folds:
            assert not set(fold["train"]) & set(fold["test"])


def test_evaluate_refuses_a_leaking_fold(reference):
    docs = load_reference(reference, codebook=load_codebook())
    with pytest.raises(FocusqaError, match="test documents are in the training set"):
        Fold("leak", docs, docs[:1]).check()


def test_evaluate_scores_a_learnable_corpus_well(reference):
    report = evaluate(reference, protocol="cross-round")
    overall = report.overall
    assert overall.segments == 2 * 13
    assert overall.macro_f1 >= 0.8 and overall.kappa >= 0.7
    assert set(overall.per_code) == set(load_codebook().ids)
    assert sum(sum(row.values()) for row in overall.confusion.values()) == overall.segments
    content = evaluate(reference, protocol="cross-round", content_only=True).overall
    assert content.segments == 2 * 9


def test_evaluate_needs_two_rounds_for_cross_round(reference):
    docs = [d for d in load_reference(reference, codebook=load_codebook()) if d.round == "2016"]
    with pytest.raises(FocusqaError, match="at least two rounds"):
        make_folds(docs, "cross-round")


@pytest.mark.parametrize("a,b", [
    (["x", "y", "x", "z", "x"], ["x", "y", "y", "z", "x"]),
    (["1", "1", "2", "2", "3", "(none)"], ["1", "2", "2", "2", "3", "3"]),
])
def test_evaluate_agreement_statistics_match_references(a, b):
    from sklearn.metrics import cohen_kappa_score

    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    labels = sorted(set(a) | set(b))
    data = np.array([[labels.index(x) for x in a], [labels.index(x) for x in b]], dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha(a, b) == pytest.approx(expected)


def test_evaluate_cli_prints_figures(reference, capsys):
    assert main(["evaluate", "--reference", str(reference)]) == 0
    out = capsys.readouterr().out
    assert "cross-round, full transcripts" in out and "content only" in out
    assert "macro-F1" in out and "Cohen's kappa" in out and "Krippendorff's alpha" in out
    assert "confusion of the top code" in out
    assert main(["evaluate", "--reference", str(reference), "--protocol", "leave-one-document-out",
                 "--content-only", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["protocol"] == "leave-one-document-out" and data[0]["content_only"] is True
    assert len(data[0]["folds"]) == 4


def test_evaluate_cli_missing_reference(tmp_path, capsys):
    assert main(["evaluate", "--reference", str(tmp_path / "none.jsonl")]) == 2
    assert "none.jsonl: reference coding not found" in capsys.readouterr().err


def test_learning_curve_from_the_cli_on_the_demo_round(capsys):
    assert main(["evaluate", "--learning-curve", "--devset", "demo", "--seeds", "1", "--ks", "0,2",
                 "--format", "json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["devset"] == "demo-2017" and [row["k"] for row in result["summary"]] == [0, 2]
    first, second = result["summary"]
    assert first["confirmed"] == 0 and second["confirmed"] >= 7        # two per code, seven codes
    assert first["tested"] == second["tested"] > 100                   # the same held-out turns
    assert 0.5 < first["kappa"] <= 1.0
    assert main(["evaluate", "--learning-curve", "--ks", "two"]) == 2


def test_learning_curve_as_examples_and_without_the_shipped_coding(capsys):
    """The two other ways in: examples handed over (`tag --examples`), and a project that
    starts from its codebook alone."""
    from focusqa.config import PROJECT_DIR

    rapport = str(PROJECT_DIR / "devsets" / "rapport")
    assert main(["evaluate", "--learning-curve", "--devset", rapport, "--seeds", "1", "--ks", "0,2",
                 "--as-examples", "--format", "json"]) == 0
    [examples] = json.loads(capsys.readouterr().out)
    assert [row["confirmed"] for row in examples["summary"]] == [0, 14]   # two per code, seven codes
    assert main(["evaluate", "--learning-curve", "--devset", rapport, "--seeds", "1", "--ks", "0,2",
                 "--as-examples", "--without-shipped", "--format", "json"]) == 0
    [alone] = json.loads(capsys.readouterr().out)
    assert [row["tested"] for row in alone["summary"]] == [89, 89]
    # Nothing confirmed: a report is read from the codebook alone either way; from the first
    # examples on, the shipped coding is part of the model only when it is there.
    assert alone["summary"][0]["kappa"] == examples["summary"][0]["kappa"]
    assert alone["summary"][1]["kappa"] != examples["summary"][1]["kappa"]


@pytest.mark.shared
def test_every_dev_set_still_matches_its_text():
    """The readers' labels belong to the paragraphs as focusqa reads them today."""
    from focusqa.tagging.devsets import devset_folders, load_devset

    folders = devset_folders()
    assert len(folders) >= 5
    for folder in folders:
        devset = load_devset(folder)
        assert len(devset.items) >= 30, folder
        assert {r for item in devset.items for r in item.readers} == {"a", "b"}
