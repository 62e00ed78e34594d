"""``focusqa tag`` and ``focusqa autocode``: the command-line contract."""

from __future__ import annotations

import json

import pytest

from focusqa.cli import main

TRANSCRIPT = """Moderator: Hvad er jeres erfaringer med samarbejdet med familiegruppen?
Anne: Underretningerne fra skolen er blevet bedre, og familiegruppelederen giver tilbagemelding.
Moderator: Og netværket omkring familierne?
Bo: Vi holdt netværksmøder, og bedstemoren blev en ressource for pigen.
"""

FIELDS = {"document": str, "segment": int, "speaker": (str, type(None)), "role": str, "start": int,
          "end": int, "timestamp": (str, type(None)), "text": str, "codes": list}


@pytest.fixture
def codebook_only(monkeypatch, tmp_path):
    """Tag without the shipped reference, so the tests are fast and stand alone."""
    import focusqa.tagging as tagging

    monkeypatch.setattr(tagging, "default_reference", lambda: tmp_path / "no-reference.jsonl")


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_tag_jsonl_contract(tmp_path, capsys):
    path = tmp_path / "fokus.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    assert main(["tag", str(path)]) == 0
    records = _jsonl(capsys.readouterr().out)
    assert [r["segment"] for r in records] == [0, 1, 2, 3]
    for record in records:
        assert set(record) == set(FIELDS)
        for key, kind in FIELDS.items():
            assert isinstance(record[key], kind), key
        scores = [c["score"] for c in record["codes"]]
        assert scores == sorted(scores, reverse=True)
        for code in record["codes"]:
            assert set(code) == {"id", "number", "label", "score", "evidence"}
            assert isinstance(code["id"], str) and isinstance(code["number"], int)
            assert isinstance(code["label"], str) and 0 <= code["score"] <= 1
            assert set(code["evidence"]) == {"terms", "question", "prior", "model", "rules"}
    assert records[0]["codes"] == [] and records[0]["role"] == "moderator"
    assert records[1]["codes"][0]["id"] == "samarbejde-familiegruppe"
    assert "Underretningerne" in records[1]["codes"][0]["evidence"]["terms"]
    assert records[3]["codes"][0]["id"] == "ressourcepersoner-netvaerk"
    assert records[1]["text"] == TRANSCRIPT[records[1]["start"]:records[1]["end"]]


def test_tag_fields_match_focusqa_segments(tmp_path, capsys, codebook_only):
    path = tmp_path / "fokus.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    assert main(["segments", str(path)]) == 0
    segments = _jsonl(capsys.readouterr().out)
    assert main(["tag", str(path)]) == 0
    tagged = _jsonl(capsys.readouterr().out)
    assert [{k: v for k, v in r.items() if k != "codes"} for r in tagged] == segments


def test_tag_text_without_speakers_gives_one_segment_per_paragraph(tmp_path, capsys, codebook_only):
    path = tmp_path / "notat.txt"
    path.write_text("Underretningerne er blevet bedre.\n\nNetværksmøderne virker.\n\nTak.\n",
                    encoding="utf-8")
    assert main(["tag", str(path)]) == 0
    records = _jsonl(capsys.readouterr().out)
    assert [r["text"] for r in records] == ["Underretningerne er blevet bedre.", "Netværksmøderne virker.",
                                            "Tak."]
    assert all(r["speaker"] is None and r["role"] == "participant" for r in records)
    assert records[0]["codes"][0]["number"] == 4 and records[1]["codes"][0]["number"] == 5


def test_tag_unreadable_file_is_named_and_others_still_tagged(tmp_path, capsys, codebook_only):
    good = tmp_path / "god.txt"
    good.write_text(TRANSCRIPT, encoding="utf-8")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"this is not a zip file")
    missing = tmp_path / "missing.txt"
    assert main(["tag", str(broken), str(missing), str(good)]) == 2
    captured = capsys.readouterr()
    assert "broken.docx" in captured.err and "missing.txt" in captured.err
    records = _jsonl(captured.out)
    assert {r["document"] for r in records} == {"god.txt"} and len(records) == 4


def test_tag_threshold_and_table(tmp_path, capsys, codebook_only):
    path = tmp_path / "fokus.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    assert main(["tag", str(path), "--threshold", "0"]) == 0
    records = _jsonl(capsys.readouterr().out)
    assert len(records[1]["codes"]) == 7
    assert main(["tag", str(path), "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "== fokus.txt" in out and "Underretningerne" in out


def test_tag_examples_and_codebook_options(tmp_path, capsys, codebook_only):
    path = tmp_path / "kantine.txt"
    path.write_text("Kantinen serverer frikadeller.\n", encoding="utf-8")
    examples = tmp_path / "ex.jsonl"
    examples.write_text("\n".join(json.dumps({"text": f"Kantinen serverer frikadeller og kage {i}.",
                                              "code": "supplerende"}) for i in range(8)), encoding="utf-8")
    assert main(["tag", str(path), "--examples", str(examples)]) == 0
    assert _jsonl(capsys.readouterr().out)[0]["codes"][0]["id"] == "supplerende"
    assert main(["tag", str(path), "--codebook", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml" in capsys.readouterr().err


def test_tag_is_deterministic(tmp_path, capsys, codebook_only):
    path = tmp_path / "fokus.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    main(["tag", str(path)])
    first = capsys.readouterr().out
    main(["tag", str(path)])
    assert capsys.readouterr().out == first


def test_autocode_writes_suggestions_and_keeps_human_codings(tmp_path, db_url, capsys, codebook_only):
    from focusqa.store import Store

    path = tmp_path / "fokus.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    assert main(["import", str(path), "--db", db_url]) == 0
    store = Store(db_url)
    seg = [s for s in store.segments() if s.index == 1][0]
    store.set_coding(seg.id, "organisering", "evaluator")
    assert main(["autocode", "--db", db_url]) == 0
    assert "suggestions written" in capsys.readouterr().out
    auto = store.codings(origin="auto")
    assert auto and all(c.status == "suggested" and c.coder == "focusqa" for c in auto)
    assert all(c.evidence and "terms" in c.evidence for c in auto)
    human = store.codings(origin="human")
    assert [(c.segment_id, c.code_id, c.status) for c in human] == [(seg.id, "organisering", "accepted")]
    moderator_ids = {s.id for s in store.segments() if s.role == "moderator"}
    assert not any(c.segment_id in moderator_ids for c in auto)
    # running again replaces the suggestions instead of adding duplicates
    assert main(["autocode", "--db", db_url]) == 0
    assert len(store.codings(origin="auto")) == len(auto)


def test_autocode_on_empty_database(db_url, capsys):
    assert main(["autocode", "--db", db_url]) == 0
    assert "No documents yet" in capsys.readouterr().out
