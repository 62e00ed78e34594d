"""A small coded project for the analysis and export tests (and a check that it is what they assume).

Six transcripts: rounds 2016 and 2017 × districts Nord and Øst (family groups) and the
project group (no district). Designed so that the tests can state what an evaluator
must see:

* Nord talks about early intervention rarely in 2016 (2 of 12 participant segments) and
  constantly in 2017 (10 of 12): a change whose interval clears 0.
* Øst talks about network meetings in 2016 and not in 2017 ("gone"); the project group
  talks about organisation only in 2017 ("new").
* Personal data to mask: the speaker "Mette Holm" (a name label), a colleague named from
  the user's list ("Karen Jensen"), a CPR number, a phone number and an e-mail address.
* Coder Anna codes everything; Bo codes some of the same segments again (one excerpt,
  two coders); one machine suggestion is confirmed by Anna (score 0.91) and one is left
  open (score 0.82); one memo; one coding covers only part of its segment.
"""

from __future__ import annotations

from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion, DocumentMetadata

T, K, F, N, O = ("tidlig-indsats", "konsultativ-raadgivning", "samarbejde-familiegruppe",
                 "ressourcepersoner-netvaerk", "organisering")

SENTENCES = {
    T: ["Forældrene henvender sig tidligt til socialrådgiveren, før der er oprettet en sag.",
        "Vi fanger bekymringerne tidligt i dagtilbuddet, inden problemerne vokser sig store.",
        "Den åbne rådgivning betyder, at forældre kommer forbi med deres bekymring uden at være nervøse.",
        "Tidlig opsporing i dagplejen virker, fordi socialrådgiveren er tilgængelig hver uge."],
    K: ["Pædagogerne får sparring om, hvordan de skriver en bekymring ned.",
        "Lærerne er blevet mere sikre på, hvad de skal gøre ved mistanke om vold."],
    F: ["Underretningerne til familiegruppen er blevet skarpere og mere konkrete.",
        "Vi venter for længe på svar fra familiegruppen, når vi har sendt en underretning."],
    N: ["Netværksmøderne med bedsteforældrene har givet holdbare løsninger for familien.",
        "Vi inviterer naboen og fodboldtræneren med som ressourcepersoner i netværket."],
    O: ["Det er uklart, hvem socialrådgiveren refererer til, og hvor funktionen skal forankres.",
        "Projektperioden udløber snart, og ingen har besluttet, om stillingerne fortsætter."],
    None: ["Ja, det kan jeg godt genkende fra vores hverdag.", "Det var en god pointe, synes jeg."],
}

QUESTION = "Moderator: Hvad er jeres erfaringer med det?"


def _plan(codes_per_turn: list[list[str]], speakers: list[str]) -> list[tuple[str, str, list[str]]]:
    """Participant turns (speaker, text, codes); the text is the first code's sentence."""
    used: dict[str | None, int] = {}
    turns = []
    for i, codes in enumerate(codes_per_turn):
        key = codes[0] if codes else None
        pool = SENTENCES[key]
        text = pool[used.get(key, 0) % len(pool)]
        used[key] = used.get(key, 0) + 1
        if len(codes) > 1:
            text += " " + SENTENCES[codes[1]][0]
        turns.append((speakers[i % len(speakers)], text, codes))
    return turns


def _nord(round_: str) -> list[list[str]]:
    early = 2 if round_ == "2016" else 10
    return [[T] if i < early else [F] if i % 2 else [] for i in range(12)]


DOCUMENTS = {
    ("2016", "Nord", "familiegruppe"): (_nord("2016"), ["Teamleder", "Rådgiver 1", "Mette Holm"]),
    ("2017", "Nord", "familiegruppe"): (_nord("2017"), ["Teamleder", "Rådgiver 1", "Mette Holm"]),
    ("2016", "Øst", "familiegruppe"): ([[N], [N, F], [K], [], [F], [N]], ["Teamleder", "Rådgiver 2"]),
    ("2017", "Øst", "familiegruppe"): ([[F], [K], [], [F], [T], []], ["Teamleder", "Rådgiver 2"]),
    ("2016", "", "projektgruppe"): ([[T], [K], [T], []], ["Socialrådgiver (dagtilbud Nord)"]),
    ("2017", "", "projektgruppe"): ([[O], [O, T], [T], []], ["Socialrådgiver (dagtilbud Nord)"]),
}

PRIVATE_TURN = ("Rådgiver 1", "Ring til Mette på 22 33 44 55 eller skriv til mette.holm@kommune.dk; "
                "Karen Jensen har barnets cpr 010203-1234.")
PRIVATE_VALUES = ["Mette Holm", "22 33 44 55", "mette.holm@kommune.dk", "Karen Jensen", "010203-1234"]
USER_NAMES = ["Karen Jensen"]


def transcript(round_: str, district: str, group: str) -> tuple[str, list[list[str]]]:
    """The transcript text and each segment's intended codes (moderator turns: none)."""
    codes_per_turn, speakers = DOCUMENTS[(round_, district, group)]
    lines, codes = [], []
    for n, (speaker, text, turn_codes) in enumerate(_plan(codes_per_turn, speakers)):
        if n % 3 == 0:
            lines.append(QUESTION)
            codes.append([])
        lines.append(f"{speaker}: {text}")
        codes.append(turn_codes)
    if (round_, district) == ("2016", "Nord"):
        lines.append(f"{PRIVATE_TURN[0]}: {PRIVATE_TURN[1]}")
        codes.append([F])
    return "\n\n".join(lines) + "\n", codes


def build_project(url: str) -> Store:
    """Import the six transcripts and code them as described in the module docstring."""
    store = Store(url)
    segment_ids: dict[tuple[str, str], list[int]] = {}
    planned: dict[int, list[str]] = {}
    for (round_, district, group) in DOCUMENTS:
        text, codes = transcript(round_, district, group)
        name = f"{round_}_{district.lower() or group}.txt"
        parsed = parse_text(text, name, DocumentMetadata(round=round_, district=district or None, group=group))
        assert len(parsed.segments) == len(codes), name
        _, doc_id = store.import_document(parsed, actor="test")
        segs = store.segments(doc_id)
        segment_ids[(round_, district or group)] = [s.id for s in segs]
        for seg, seg_codes in zip(segs, codes):
            planned[seg.id] = seg_codes
            for code in seg_codes:
                store.set_coding(seg.id, code, "Anna")
    nord16 = segment_ids[("2016", "Nord")]
    nord17 = segment_ids[("2017", "Nord")]
    # Bo agrees with Anna on one early-intervention segment in Nord 2016.
    store.set_coding(next(i for i in nord16 if planned[i] == [T]), T, "Bo")
    # Part of a segment: only the first sentence of the two-code turn in Øst 2016.
    two_code = store.segments(ids=[i for i in segment_ids[("2016", "Øst")] if planned[i] == [N, F]])[0]
    cut = two_code.text.index(".") + 1
    store.set_coding(two_code.id, N, "Anna", start=two_code.start, end=two_code.start + cut)
    # Machine suggestions: one confirmed by Anna, one left open.
    moderator_free = [s for s in store.segments(ids=nord17) if s.role == "participant"]
    confirmed, open_ = moderator_free[-1], moderator_free[-2]
    evidence = {"terms": ["forankres"]}
    store.replace_suggestions({confirmed.id: [CodeSuggestion(O, 6, "Organisering", 0.91, evidence)],
                               open_.id: [CodeSuggestion(O, 6, "Organisering", 0.82, evidence)]})
    store.review(confirmed.id, O, "Anna", "accepted")
    store.add_memo("Anna", "Tydelig forskel fra 2016 – brug som citat i notatet.", segment_id=nord17[1])
    return store


def count(store: Store, **filters) -> int:
    """Distinct segment × code pairs the store returns for a filter (what an export must show)."""
    return len({(e.segment.id, e.coding.code_id) for e in store.excerpts(**filters)})


def test_fixture_documents_and_codings(db_url):
    store = build_project(db_url)
    docs = store.documents()
    assert sorted((d.round, d.district or "", d.group) for d in docs) == sorted(DOCUMENTS)
    nord16 = next(d for d in docs if (d.round, d.district) == ("2016", "Nord"))
    speakers = {s.speaker for s in store.segments(nord16.id)}
    assert {"Moderator", "Teamleder", "Rådgiver 1", "Mette Holm"} <= speakers
    assert count(store, coders=["Bo"]) == 1
    open_suggestions = store.excerpts(statuses=("suggested",))
    assert [(e.coding.code_id, e.coding.score) for e in open_suggestions] == [(O, 0.82)]
    assert store.coders() == ["Anna", "Bo"]
