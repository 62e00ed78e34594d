"""REFI-QDA with the programs evaluators exchange files with: NVivo, MAXQDA, ATLAS.ti, QualCoder.

The fixtures in ``fixtures/refi/peers/`` are written by this project in the shapes those
programs write (see docs/refi.md); each folder holds what the .qdpx zip holds. Every file
is imported, what it holds is checked, and the project is exported and imported again.
QualCoder's reading and writing of a .qdpx is modelled on its ``refi.py`` (snapshot
c3204641) to check that focusqa's exports survive the trip through it.
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from focusqa.export.refi import NS_PROJECT, export_qdpx, import_qdpx, write_qdc
from focusqa.ingest import discover, read_transcript
from focusqa.store import Store

from conftest import DEMO, SHARED

PEERS = Path(__file__).resolve().parent / "fixtures" / "refi" / "peers"
OFFICIAL = SHARED / "design" / "refi_official"
P = f"{{{NS_PROJECT}}}"


def _zip_peer(name: str, out: Path) -> Path:
    folder = PEERS / name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".gitattributes"):
            zf.write(path, path.relative_to(folder).as_posix())
    return out


def _coded(store: Store) -> set[tuple[str, str, str, str]]:
    segs = {s.id: s for s in store.segments()}
    texts = {d.id: store.document_text(d.id) for d in store.documents()}
    labels = {c.id: c.label_da for c in store.codebook().codes}
    out = set()
    for c in store.codings():
        s = segs[c.segment_id]
        start, end = (c.start, c.end) if c.start is not None else (s.start, s.end)
        out.add((s.document, texts[s.document_id][start:end], labels[c.code_id], c.coder))
    return out


def _memos(store: Store) -> set[tuple[str, str, str]]:
    """(author, text, where) with where = 'project', 'document' or the turn's first words."""
    segs = {s.id: s for s in store.segments()}
    return {(m.author, m.text, "document" if m.document_id else
             " ".join(segs[m.segment_id].text.split()[:2]) if m.segment_id else "project") for m in store.memos()}


def _round_trip(store: Store, tmp_path: Path) -> Store:
    """Export ``store`` and import the file into a fresh database."""
    export_qdpx(store, tmp_path / "again.qdpx")
    fresh = Store(f"sqlite:///{tmp_path / 'again.db'}")
    import_qdpx(fresh, tmp_path / "again.qdpx")
    return fresh


PEER_CASES = {
    "nvivo": dict(
        report="1 documents imported, 2 codings by 1 coders, 1 new codes, 1 memos",
        not_taken=[],
        coded={("Nord 2017", "Åben rådgivning om torsdagen", "Tidlig indsats", "Camilla Petersen"),
               ("Nord 2017", "Vi ringer direkte til PPR", "Tværfaglig koordinering", "Camilla Petersen")},
        memos={("Camilla Petersen", "Rådgiveren nævner PPR som vigtigste partner.", "Vi ringer")},
        attributes={"district": "Nord", "case": "Nord"}),
    "maxqda": dict(
        report="1 documents imported, 2 codings by 1 coders, 2 new codes, 2 memos",
        not_taken=["not imported: 1 annotation ranges (the memo is kept on the turn where the range starts)"],
        coded={("Øst 2016", "Vi har fire forskellige ledere", "Ledelse", "Mette"),
               ("Øst 2016", "Sundhedsplejen kommer hver uge", "Sundhedspleje", "Mette")},
        memos={("Mette", "Fire ledere: spørg ind til det ved næste møde.", "Vi har"),
               ("import", "Set Dagtilbud: Alle interview med dagtilbud.", "document")},
        attributes={"round": "2016", "group": "dagtilbud", "sets": "Dagtilbud"}),
    "atlasti": dict(
        report="1 documents imported, 1 codings by 1 coders, 1 new codes, 0 memos",
        not_taken=["not imported: 1 graphs (focusqa has no network views)",
                   "not imported: 1 sets of codes (focusqa has no code groups)"],
        coded={("Skole 2017", "Vi mødes hver uge med rådgiveren og taler om de børn, vi er bekymrede for, og om "
                "hvordan forældrene kan inddrages tidligt i forløbet.", "Samarbejde med skolen", "Jonas")},
        memos=set(), attributes={}),
    "qualcoder": dict(
        report="1 documents imported, 2 codings by 1 coders, 1 new codes, 6 memos",
        not_taken=["not imported: 1 annotation ranges (the memo is kept on the turn where the range starts)"],
        coded={("vest_2017.txt", "Vi holder åben rådgivning hver torsdag", "Tidlig indsats", "anna"),
               ("vest_2017.txt", "Vi taler med PPR", "PPR", "anna")},
        memos={("anna", "Lydfilen var dårlig i starten.", "document"),
               ("anna", "Godt eksempel på åben rådgivning.", "Vi holder"),
               ("anna", "Åben rådgivning nævnes også i Nord.", "Vi holder"),
               ("anna", "Husk at sammenligne med Nord.", "project"),
               ("import", "Case Familiegruppe Vest: Gruppen mødtes tre gange.", "document"),
               ("import", "Projekt om familiegrupper i Vest.", "project")},
        attributes={"district": "Vest", "case": "Familiegruppe Vest"}),
}


@pytest.mark.parametrize("peer", sorted(PEER_CASES))
def test_a_peers_project_imports_whole_and_survives_a_round_trip(peer, store, tmp_path):
    expected = PEER_CASES[peer]
    report = import_qdpx(store, _zip_peer(peer, tmp_path / f"{peer}.qdpx"))
    first, *rest = report.split("\n")
    assert first.startswith(expected["report"]), report
    assert rest == expected["not_taken"]
    assert _coded(store) == expected["coded"]
    assert _memos(store) == expected["memos"]
    (doc,) = store.documents()
    values = {"round": doc.round, "district": doc.district, "group": doc.group, **doc.attributes}
    assert {k: values.get(k) for k in expected["attributes"]} == expected["attributes"]
    fresh = _round_trip(store, tmp_path)
    assert _coded(fresh) == expected["coded"] and _memos(fresh) == _memos(store)
    fresh.dispose()


def _docx_only_project(tmp_path: Path) -> tuple[Path, str]:
    from focusqa.ingest.readers import read_docx_file

    docx = DEMO / "2016_centrum_familiegruppe.docx"
    text = read_docx_file(docx).plain_text
    phrase = next(line for line in text.splitlines() if len(line) > 60)[-40:]
    start = text.index(phrase)
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS_PROJECT}" name="word" origin="MAXQDA 2022">
  <CodeBook><Codes><Code guid="c0de0001-0000-4000-8000-000000000001" name="Organisering" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="50c00001-0000-4000-8000-000000000001" name="centrum.docx" richTextPath="internal://d0c00001.docx">
    <PlainTextSelection guid="5e1e0001-0000-4000-8000-000000000001" startPosition="{start}" endPosition="{start + len(phrase)}">
      <Coding guid="c0d10001-0000-4000-8000-000000000001"><CodeRef targetGUID="c0de0001-0000-4000-8000-000000000001"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    path = tmp_path / "word.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        zf.write(docx, "sources/d0c00001.docx")
    return path, phrase


def test_a_source_held_only_as_docx_is_read_with_focusqas_word_reader(store, tmp_path):
    path, phrase = _docx_only_project(tmp_path)
    report = import_qdpx(store, path, actor="Lise")
    assert report.startswith("1 documents imported, 1 codings by 1 coders")
    direct = read_transcript(DEMO / "2016_centrum_familiegruppe.docx")
    (doc,) = store.documents()
    assert [(s.speaker, s.text) for s in store.segments(doc.id)] == [(s.speaker, s.text) for s in direct.segments]
    ((_doc, coded, label, coder),) = _coded(store)
    assert phrase.strip() in coded and (label, coder) == ("Organisering", "Lise")


# ------------------------------------------------------------------ QualCoder's reading and writing
def _qualcoder_read(qdpx: Path) -> dict:
    """A .qdpx as QualCoder's ``import_project`` takes it in (what it keeps, with its rules)."""
    with zipfile.ZipFile(qdpx) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        files = {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist() if n.lower().startswith("sources/")}
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}       # exact GUID strings
    codes, by_guid = [], {}

    def walk(elem, parent):
        code = {"name": elem.get("name"), "color": elem.get("color"), "parent": parent,
                "memo": (elem.findtext(f"{P}Description") or "")}
        codes.append(code)
        by_guid[elem.get("guid")] = len(codes) - 1
        for child in elem.findall(f"{P}Code"):
            walk(child, len(codes) - 1)

    for top in root.find(f"{P}CodeBook/{P}Codes"):
        walk(top, None)

    def text_of(path_attr: str) -> str:
        return files[path_attr.split("internal:/")[1].lstrip("/")].decode("utf-8")

    sources, code_text, duplicates, annotated = [], {}, 0, set()
    for src in root.find(f"{P}Sources"):
        fid = len(sources)
        sources.append({"name": src.get("name"), "text": text_of(src.get("plainTextPath")),
                        "memo": src.findtext(f"{P}Description") or "",
                        "owner": users.get(src.get("creatingUser"), "default"),
                        "attributes": {}})
        for sel in src.findall(f"{P}PlainTextSelection"):
            owner = users.get(sel.get("creatingUser"), "default")        # the selection's user, not the Coding's
            for coding in sel.findall(f"{P}Coding"):
                key = (by_guid.get(coding.find(f"{P}CodeRef").get("targetGUID")), fid,
                       int(sel.get("startPosition")), int(sel.get("endPosition")), owner)
                if key in code_text:
                    duplicates += 1                                      # "Duplicated text coding"
                    continue
                code_text[key] = sel.findtext(f"{P}Description") or ""
        annotated |= {n.get("targetGUID") for n in src.findall(f"{P}NoteRef")}
        variables = {v.get("guid"): v.get("name") for v in root.iter(f"{P}Variable")}
        for vv in src.findall(f"{P}VariableValue"):
            value = next(c.text for c in vv if not c.tag.endswith("VariableRef"))
            sources[fid]["attributes"][variables[vv.find(f"{P}VariableRef").get("targetGUID")]] = value
    journals = []
    for note in root.iter(f"{P}Note"):
        if note.get("guid") in annotated:
            continue          # an annotation: needs a PlainTextContent and a PlainTextSelection inside
        if note.get("plainTextPath") and note.get("name"):
            journals.append({"name": note.get("name"), "text": text_of(note.get("plainTextPath")),
                             "owner": users.get(note.get("creatingUser"), "default")})
    return {"codes": codes, "sources": sources, "code_text": code_text, "duplicates": duplicates,
            "journals": journals, "project_memo": root.findtext(f"{P}Description") or ""}


def _qualcoder_write(project: dict, out: Path) -> Path:
    """The project as QualCoder's ``export_project`` writes it: new random GUIDs everywhere, users
    only from coders and source owners, a BOM in each .txt, every variable as text."""
    guid = lambda: str(uuid.uuid4())  # noqa: E731
    owners = sorted({k[4] for k in project["code_text"]} | {s["owner"] for s in project["sources"]})
    user = {name: guid() for name in owners}
    code_guid = [guid() for _ in project["codes"]]
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<Project name="qc" origin="QualCoder 3.6" creatingUserGUID="{guid()}" '
             f'creationDateTime="2026-12-01T10:00:00Z" xmlns="urn:QDA-XML:project:1.0">', "<Users>"]
    lines += [f'<User guid="{user[u]}" name="{esc(u)}" />' for u in owners] + ["</Users>"]

    def code_xml(i: int) -> str:
        c = project["codes"][i]
        inner = (f"<Description>{esc(c['memo'])}</Description>" if c["memo"] else "") + "".join(
            code_xml(j) for j, other in enumerate(project["codes"]) if other["parent"] == i)
        return f'<Code guid="{code_guid[i]}" name="{esc(c["name"])}" isCodable="true" color="{c["color"]}">{inner}</Code>'

    lines += ["<CodeBook><Codes>"] + [code_xml(i) for i, c in enumerate(project["codes"]) if c["parent"] is None]
    lines += ["</Codes></CodeBook>"]
    names = sorted({k for s in project["sources"] for k in s["attributes"]})
    var_guid = {n: guid() for n in names}
    if names:
        lines += ["<Variables>"] + [f'<Variable guid="{var_guid[n]}" name="{esc(n)}" typeOfVariable="Text"><Description />'
                                    "</Variable>" for n in names] + ["</Variables>"]
    files: dict[str, bytes] = {}
    lines.append("<Sources>")
    for fid, s in enumerate(project["sources"]):
        name = f"{guid()}.txt"
        files[name] = ("\ufeff" + s["text"]).encode("utf-8")
        lines.append(f'<TextSource plainTextPath="internal://{name}" creatingUser="{user[s["owner"]]}" '
                     f'creationDateTime="2026-12-01T10:00:00Z" guid="{guid()}" name="{esc(s["name"])}">')
        if s["memo"]:
            lines.append(f"<Description>{esc(s['memo'])}</Description>")
        for (cid, f, pos0, pos1, owner), memo in project["code_text"].items():
            if f != fid or cid is None:
                continue
            lines.append(f'<PlainTextSelection guid="{guid()}" startPosition="{pos0}" endPosition="{pos1}" '
                         f'name="{esc(s["text"][pos0:pos1])}" creatingUser="{user[owner]}" '
                         f'creationDateTime="2026-12-01T10:00:00Z">')
            if memo:
                lines.append(f"<Description>{esc(memo)}</Description>")
            lines.append(f'<Coding guid="{guid()}" creatingUser="{user[owner]}"><CodeRef targetGUID="{code_guid[cid]}" />'
                         "</Coding></PlainTextSelection>")
        for n, value in s["attributes"].items():
            lines.append(f'<VariableValue><VariableRef targetGUID="{var_guid[n]}" /><TextValue>{esc(value)}'
                         "</TextValue></VariableValue>")
        lines.append("</TextSource>")
    lines.append("</Sources>")
    if project["journals"]:
        lines.append("<Notes>")
        for j in project["journals"]:
            name = f"{guid()}.txt"
            files[name] = j["text"].encode("utf-8")
            lines.append(f'<Note guid="{name[:-4]}" creatingUser="{user.get(j["owner"], "")}" '
                         f'creationDateTime="2026-12-01T10:00:00Z" name="{esc(j["name"])}" '
                         f'plainTextPath="internal://{name}" ><Description /></Note>')
        lines.append("</Notes>")
    lines += [f"<Description>{esc(project['project_memo'])}</Description>", "</Project>"]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", "\n".join(lines))
        for name, data in files.items():
            zf.writestr(f"sources/{name}", data)
    return out


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo corpus with its two coders' reference codings, and memos of every kind."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    for item in discover([DEMO]):
        store.import_document(read_transcript(item.path, item.metadata))
    for ref in sorted((DEMO / "reference").glob("*.jsonl")):
        store.import_reference(ref)
    doc = store.documents()[0]
    store.add_memo("evaluator_a", "Projektet som helhed: tidlig indsats fylder mest.")
    store.add_memo("evaluator_b", "Centrum var en stille gruppe.", document_id=doc.id)
    store.add_memo("evaluator_a", "Godt citat.", segment_id=store.segments(doc.id)[3].id)
    store.add_memo("Lise", "Skeln fra kode 4.", code_id="tidlig-indsats")
    yield store
    store.dispose()


def test_the_demo_passes_through_qualcoder_with_every_coding_coder_and_memo(demo, tmp_path):
    export_qdpx(demo, tmp_path / "demo.qdpx")
    read = _qualcoder_read(tmp_path / "demo.qdpx")
    human = [c for c in demo.codings() if c.origin == "human" and c.status == "accepted"]
    assert read["duplicates"] == 0 and len(read["code_text"]) == len(human) == 606
    assert {k[4] for k in read["code_text"]} == {"evaluator_a", "evaluator_b"}
    memo_texts = {m.text for m in demo.memos()}
    qualcoder_sees = ({j["text"] for j in read["journals"]} | {s["memo"] for s in read["sources"] if s["memo"]}
                      | {read["project_memo"]})
    assert memo_texts <= qualcoder_sees
    fresh = Store(f"sqlite:///{tmp_path / 'back.db'}")
    report = import_qdpx(fresh, _qualcoder_write(read, tmp_path / "from_qualcoder.qdpx"))
    assert report.startswith("10 documents imported, 606 codings by 2 coders, 0 new codes"), report

    def codings(store: Store):
        segs = {s.id: s for s in store.segments()}
        return sorted((segs[c.segment_id].document, segs[c.segment_id].index, c.code_id, c.coder)
                      for c in store.codings() if c.origin == "human")

    assert codings(fresh) == codings(demo)
    back = {(m.author, m.text) for m in fresh.memos()}
    # every memo comes back, with its author (one who never coded is read from the note's name);
    # a document memo travels as the source's memo and comes back as the source owner's
    assert memo_texts <= {text for _author, text in back}
    assert {(m.author, m.text) for m in demo.memos() if m.document_id is None} <= back
    assert fresh.codebook().codes == demo.codebook().codes        # the Id: lines bring every code home
    fresh.dispose()


# ------------------------------------------------------------------ the standard's own schemas
@pytest.mark.shared
def test_every_export_follows_the_official_schemas(demo, tmp_path):
    xmlschema = pytest.importorskip("xmlschema")
    project = xmlschema.XMLSchema(str(OFFICIAL / "Project.xsd"))
    codebook = xmlschema.XMLSchema(str(OFFICIAL / "Codebook.xsd"))
    export_qdpx(demo, tmp_path / "demo.qdpx")
    with zipfile.ZipFile(tmp_path / "demo.qdpx") as zf:
        project.validate(io.BytesIO(zf.read("project.qde")))
    codebook.validate(str(write_qdc(demo.codebook(), tmp_path / "kodebog.qdc", guids=demo.code_guids())))
    for peer in sorted(PEER_CASES):          # and what focusqa writes after importing each peer's file
        store = Store(f"sqlite:///{tmp_path / f'{peer}.db'}")
        import_qdpx(store, _zip_peer(peer, tmp_path / f"{peer}.qdpx"))
        export_qdpx(store, tmp_path / f"{peer}-out.qdpx")
        with zipfile.ZipFile(tmp_path / f"{peer}-out.qdpx") as zf:
            project.validate(io.BytesIO(zf.read("project.qde")))
        codebook.validate(str(write_qdc(store.codebook(), tmp_path / f"{peer}.qdc", guids=store.code_guids())))
        store.dispose()
