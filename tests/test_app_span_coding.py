"""Kodning through AppTest: what the turn_text component gets, and the shortcut help.

The component itself runs in the browser (tests/test_browser_coding.py selects words in
Chromium); here the page is checked for what it sends: one component per turn with the
turn's exact text, the partly coded passages as coloured runs, and the codes of the menu
in the UI language. The keyboard help is on the page in Danish and in English.
"""

from __future__ import annotations

import json

from test_app_core import _app, _texts, project  # noqa: F401


def _turn_texts(at) -> dict[str, dict]:
    """The data of every turn_text component on the page, by its key (``span_<segment id>``)."""
    return {e.key: json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "focusqa_turn_text"}


def test_every_turn_is_sent_whole_with_its_coded_passages(project) -> None:  # noqa: F811
    store, segs = project["store"], project["segs"]
    turn = segs[1]
    start = turn.start + turn.text.index("Forældrene")
    store.set_coding(turn.id, "tidlig-indsats", "Anne", start=start, end=start + len("Forældrene henvender sig"))
    at = _app(page="views/coding.py")
    assert not at.exception, [e.value for e in at.exception]
    sent = _turn_texts(at)
    assert set(sent) == {f"span_{s.id}" for s in segs}
    assert [sent[f"span_{s.id}"]["text"] for s in segs] == [s.text for s in segs]
    runs = sent[f"span_{turn.id}"]["runs"]
    assert "".join(turn.text[a:b] for a, b, _, _ in runs) == turn.text, "the runs cover the text in order"
    coloured = [(turn.text[a:b], colour, title) for a, b, colour, title in runs if colour]
    assert coloured == [("Forældrene henvender sig", "#2E86AB", "1. Tidlig indsats")]
    assert sent[f"span_{segs[0].id}"]["muted"] is True, "the moderator's turn is grey"
    codes = sent[f"span_{turn.id}"]["codes"]
    assert [c["id"] for c in codes] == store.codebook().ids
    assert codes[0]["label"] == "1. Tidlig indsats"
    assert sent[f"span_{turn.id}"]["strings"]["menu"] == "Kod de markerede ord med"


def test_the_shortcuts_are_explained_in_danish_and_english(project) -> None:  # noqa: F811
    at = _app(page="views/coding.py")
    assert [e.proto.component_name for e in at.get("bidi_component")].count("focusqa_coding_keys") == 1
    captions = lambda: [t.replace("*", "") for t in _texts(at.caption)]   # bold keys read as plain
    assert any(t.startswith("Genveje: marker ord med musen") and "A accepter" in t and "X afvis" in t
               for t in captions()), captions()
    at.sidebar.segmented_control(key="_widget_focusqa_language").set_value("en").run()
    assert any(t.startswith("Shortcuts: select words with the mouse") and "A accept" in t
               for t in captions()), captions()
    codes = _turn_texts(at)[f"span_{project['segs'][1].id}"]["codes"]
    assert codes[0]["label"] == "1. Early intervention"
    assert _turn_texts(at)[f"span_{project['segs'][1].id}"]["strings"]["menu"] == "Code the selected words with"
