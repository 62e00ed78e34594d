"""REFI-QDA exchange: schema-valid output, exact round trip, lenient and safe reading."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from focusqa.codebook import Code, Codebook
from focusqa.errors import ProjectFileError
from focusqa.export.refi import (NS_PROJECT, export_qdpx, import_qdpx, read_qdc, validate_xml,
                                 write_qdc)
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.store.reconcile import reconcile
from focusqa.types import DocumentMetadata

from conftest import SHARED

xmlschema = pytest.importorskip("xmlschema")

EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "refi"      # written by this project
SHARED_EXAMPLES = SHARED / "design" / "refi_examples"                  # the REFI-QDA examples in ../shared
SCHEMAS = Path(__file__).resolve().parents[1] / "focusqa" / "schemas"
P = f"{{{NS_PROJECT}}}"


def _local(elem: ET.Element) -> str:
    return elem.tag.rsplit("}", 1)[-1]
EARLY, COORD, ADVICE = "tidlig-indsats", "tvaerfaglig-koordinering", "konsultativ-raadgivning"

NORD = """Moderator: Hvordan går det med den tidlige indsats? 😀

Rådgiver 1: Vi taler med forældrene før der er en sag. Det er café-agtigt og uformelt.

Rådgiver 2 [00:12:31]: Jeg koordinerer med PPR og sundhedsplejen, også om 🚸 trafik.

Moderator: Og samarbejdet med skolen?

Lærer 1: Det er blevet meget bedre,
vi mødes hver uge.
"""

OEST = """Fokusgruppe Øst, 2016

I: Hvad virker?

Pædagog 1: Åben rådgivning om torsdagen.

Pædagog 2: At vi kan ringe direkte til rådgiveren.
"""


def _build(store: Store) -> dict[str, list[int]]:
    """A small project: two documents, two coders, a partial coding, a reconciled coding, memos."""
    metas = {"nord.txt": DocumentMetadata(round="2017", district="Nord", group="skole", date="2017-03-02",
                                          moderators=["Moderator"], attributes={"sted": "Aarhus"}),
             "oest.txt": DocumentMetadata(round="2016", district="Øst", group="dagtilbud")}
    seg: dict[str, list[int]] = {}
    for name, text in (("nord.txt", NORD), ("oest.txt", OEST)):
        _status, doc_id = store.import_document(parse_text(text, name, metas[name]))
        seg[name] = [s.id for s in store.segments(doc_id)]
    n, o = seg["nord.txt"], seg["oest.txt"]
    nord_segments = store.segments(store.segments(ids=[n[0]])[0].document_id)
    store.set_coding(n[1], EARLY, "Anna")
    store.set_coding(n[1], EARLY, "Bo")
    store.set_coding(n[2], COORD, "Anna")
    s2 = nord_segments[2]
    part = s2.text.index("PPR")
    store.set_coding(n[2], COORD, "Bo", start=s2.start + part, end=s2.start + part + len("PPR og sundhedsplejen"))
    store.set_coding(n[4], ADVICE, "Bo")
    store.set_coding(o[1], EARLY, "Anna")
    store.set_coding(o[2], EARLY, "Anna", status="rejected")     # a "no": not exported
    store.add_coder("Lise", role="reviewer")
    reconcile(store, n[2], COORD, present=True, decided_by="Lise")
    store.add_memo("Anna", "Godt citat om forældre", segment_id=n[1])
    store.add_memo("Bo", "Nord var en god gruppe", document_id=store.segments(ids=[n[0]])[0].document_id)
    store.add_memo("Bo", "Husk at skelne fra kode 4", code_id=EARLY)
    store.add_memo("Lise", "Projektet som helhed")
    return seg


def _snapshot(store: Store) -> dict:
    """Everything the round trip must preserve, keyed by content (not database ids)."""
    docs = {d.id: d for d in store.documents()}
    segs = {s.id: s for s in store.segments()}
    return {
        "documents": sorted((d.name, d.round, d.district, d.group, d.date, tuple(d.moderators),
                             tuple(sorted(d.attributes.items())), d.source_format, store.document_text(d.id))
                            for d in docs.values()),
        "segments": sorted((s.document, s.index, s.turn, s.speaker, s.role, s.text, s.start, s.end, s.timestamp)
                           for s in segs.values()),
        "codings": sorted((segs[c.segment_id].document, segs[c.segment_id].index, c.code_id, c.coder, c.status,
                           c.origin, c.start, c.end)
                          for c in store.codings() if c.status == "accepted" and c.origin == "human"),
        "memos": sorted((m.author, m.text, (segs[m.segment_id].document, segs[m.segment_id].index)
                         if m.segment_id else None, docs[m.document_id].name if m.document_id else None,
                         m.code_id) for m in store.memos()),
        "codebook": [(c.id, c.number, c.label_da, c.label_en, c.definition, c.question, c.include, c.exclude,
                      tuple(c.terms), c.color, c.parent) for c in store.codebook().codes],
    }


def _state(store: Store) -> tuple:
    return (len(store.documents()), len(store.codings()), len(store.memos()), len(store.codebook_versions()),
            len(store.audit_log(limit=10_000)), [c.id for c in store.codebook().codes])


@pytest.fixture
def project(store):
    _build(store)
    return store


# ------------------------------------------------------------------------ schemas
@pytest.mark.parametrize("folder", [
    pytest.param(EXAMPLES, id="fixtures"),
    pytest.param(SHARED_EXAMPLES, id="shared", marks=pytest.mark.shared),
])
def test_examples_validate_against_bundled_schemas(folder):
    codebook = xmlschema.XMLSchema(str(SCHEMAS / "Codebook.xsd"))
    proj = xmlschema.XMLSchema(str(SCHEMAS / "Project.xsd"))
    codebook.validate(str(folder / "tiny.qdc"))
    codebook.validate(str(folder / "minimal.qdc"))
    proj.validate(str(folder / "project.qde"))
    with zipfile.ZipFile(folder / "minimal.qdpx") as zf:
        proj.validate(io.BytesIO(zf.read("project.qde")))


@pytest.mark.shared
def test_imports_the_shared_refi_example_project(store):
    """The REFI-QDA example project in ../shared imports whole, with its three codings."""
    report = import_qdpx(store, SHARED_EXAMPLES / "minimal.qdpx")
    assert report.startswith("2 documents imported, 3 codings by 1 coders, 3 new codes")
    assert {label for *_rest, label, _coder in _coded(store)} == {"Water", "Services"}


def test_bundled_schemas_reject_what_the_standard_forbids():
    qdc = (EXAMPLES / "minimal.qdc").read_text(encoding="utf-8")
    assert not validate_xml(qdc.encode(), "codebook")
    assert validate_xml(re.sub(r"<Sets>.*</Sets>", "<Sets/>", qdc, flags=re.S).encode(), "codebook")
    assert validate_xml(qdc.replace('color="#1F77B4"', 'color="red"').encode(), "codebook")
    parent = ('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
              '<Code guid="c0de0000-0000-4000-8000-000000000000" name="A" isCodable="true">{}</Code>'
              '</Codes></CodeBook>')
    child = '<Code guid="c0de0001-0000-4000-8000-000000000001" name="B" isCodable="true"/>'
    assert not validate_xml(parent.format("<Description>d</Description>" + child).encode(), "codebook")
    moved = parent.format(child + "<Description>d</Description>")
    assert validate_xml(moved.encode(), "codebook")          # Description after a nested Code
    qde = (EXAMPLES / "project.qde").read_text(encoding="utf-8")
    swapped = qde.replace("""      <NoteRef targetGUID="0a7e0001-0000-4000-8000-000000000001"/>
      <VariableValue>
        <VariableRef targetGUID="7a700002-0000-4000-8000-000000000002"/>
        <IntegerValue>1</IntegerValue>
      </VariableValue>""", """      <VariableValue>
        <VariableRef targetGUID="7a700002-0000-4000-8000-000000000002"/>
        <IntegerValue>1</IntegerValue>
      </VariableValue>
      <NoteRef targetGUID="0a7e0001-0000-4000-8000-000000000001"/>""")
    assert swapped != qde and validate_xml(swapped.encode(), "project")   # NoteRef after VariableValue


# ------------------------------------------------------------------------ codebook .qdc
def _custom_codebook() -> Codebook:
    return Codebook("Test", [
        Code(id="samarbejde", label_da="Samarbejde", label_en="Cooperation", number=1, color="#112233",
             definition="Alt om samarbejde.\nTo linjer.", question="Hvordan samarbejder I?",
             include="Møder", exclude="Konflikter", terms=["møde", "samarbejd"],
             examples=["Vi mødes hver uge med skolen.", "Ankereksempel: PPR; sundhedsplejen."]),
        Code(id="skole", label_da="Skole & <klasse>", number=2, color="#ABCDEF", parent="samarbejde"),
        Code(id="andet", label_da="Andet", color="#888888"),
    ])


def test_qdc_is_schema_valid_nested_and_reads_back_identically(tmp_path):
    cb = _custom_codebook()
    out = write_qdc(cb, tmp_path / "kodebog.qdc")
    data = out.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert not validate_xml(data, "codebook")
    root = ET.fromstring(data)
    top = root.find("{urn:QDA-XML:codebook:1.0}Codes")
    parent = top[0]
    assert parent.get("name") == "Samarbejde" and [_local(c) for c in parent] == ["Description", "Code"]
    assert parent[1].get("name") == "Skole & <klasse>"
    back = read_qdc(out)
    assert back.codes == cb.codes
    # deterministic GUIDs: the same codebook gives the same file content
    again = write_qdc(cb, tmp_path / "igen.qdc").read_bytes()
    assert again == data


def test_reads_the_example_codebook():
    cb = read_qdc(EXAMPLES / "minimal.qdc")
    by_label = {c.label_da: c for c in cb.codes}
    assert set(by_label) == {"Temaer", "Trivsel", "Samarbejde", "Andet"}
    assert by_label["Trivsel"].parent == by_label["Temaer"].id == by_label["Samarbejde"].parent
    assert by_label["Trivsel"].definition == "Omtale af børns trivsel i skole og dagtilbud."
    assert by_label["Trivsel"].color == "#1F77B4"
    assert read_qdc(EXAMPLES / "tiny.qdc").codes[0].label_da == "Trivsel"


def test_qdc_reading_is_lenient(tmp_path):
    text = (EXAMPLES / "minimal.qdc").read_text(encoding="utf-8")
    variant = (text.replace("c0de0001-0000-4000-8000-000000000001", "{C0DE0001-0000-4000-8000-000000000001}")
               .replace("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:0:4")
               .replace('color="#D62728"', 'color="rgb(214, 39, 40)"')
               .replace("\n", "\r\n"))
    variant = re.sub(r"<Sets>.*</Sets>", "<Sets/>", variant, flags=re.S)     # Taguette's invalid empty Sets
    path = tmp_path / "taguette.qdc"
    path.write_bytes(b"\xef\xbb\xbf" + variant.encode("utf-8"))
    cb = read_qdc(path)
    assert {c.label_da: c.color for c in cb.codes}["Samarbejde"] == "#D62728"
    assert len(cb.codes) == 4


@pytest.mark.parametrize("content, message", [
    (b"<CodeBook><Codes><Code", "not well-formed XML"),
    (b"", "empty"),
    (b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>', "no CodeBook"),
    (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>', "no codes"),
])
def test_bad_qdc_names_the_file(tmp_path, content, message):
    path = tmp_path / "broken.qdc"
    path.write_bytes(content)
    with pytest.raises(ProjectFileError, match=message) as info:
        read_qdc(path)
    assert "broken.qdc" in str(info.value)


# ------------------------------------------------------------------------ project export
def test_export_is_schema_valid_with_code_point_offsets(project, tmp_path):
    summary = export_qdpx(project, tmp_path / "p.qdpx", masking=False)   # the exact texts, for the team
    assert "2 documents" in summary and "not exported: 1" in summary   # the rejected coding
    with zipfile.ZipFile(tmp_path / "p.qdpx") as zf:
        names = zf.namelist()
        qde = zf.read("project.qde")
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
        assert not validate_xml(qde, "project")
        root = ET.fromstring(qde)
        assert [_local(c) for c in root] == ["Users", "CodeBook", "Variables", "Sources", "Notes",
                                             "Description", "NoteRef"]
        assert {u.get("name") for u in root.iter(f"{P}User")} == {"Anna", "Bo", "final", "Lise"}
        sources = {s.get("name"): s for s in root.iter(f"{P}TextSource")}
        nord = sources["nord.txt"]
        entry = nord.get("plainTextPath").replace("internal://", "sources/")
        assert entry in names and all(n == "project.qde" or n.startswith("sources/") for n in names)
        raw = zf.read(entry)
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    text = raw.decode("utf-8")
    assert text == NORD
    order = [_local(c) for c in nord]
    assert order == sorted(order, key=["Description", "PlainTextSelection", "NoteRef", "VariableValue"].index)
    # every selection slices exactly its text in code points (the emoji before it counts 1)
    selections = list(nord.iter(f"{P}PlainTextSelection"))
    sliced = {text[int(s.get("startPosition")):int(s.get("endPosition"))] for s in selections}
    assert "PPR og sundhedsplejen" in sliced
    assert any(t.startswith("Vi taler med forældrene") for t in sliced)
    for s in selections:
        assert s.get("name") == " ".join(text[int(s.get("startPosition")):int(s.get("endPosition"))].split())[:100]
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.iter(f"{P}Variable")}
    assert variables == {"round": "Integer", "district": "Text", "group": "Text", "date": "Date",
                         "moderators": "Text", "sted": "Text"}


def test_round_trip_into_an_empty_database_is_exact(project, tmp_path, db_url):
    before = _snapshot(project)
    export_qdpx(project, tmp_path / "p.qdpx", name="Socialrådgivere", masking=False)
    fresh = Store(db_url.replace("test.db", "fresh.db"))
    report = import_qdpx(fresh, tmp_path / "p.qdpx")
    assert report.startswith("2 documents imported, 7 codings by 3 coders, 0 new codes, 4 memos")
    after = _snapshot(fresh)
    for key in before:
        assert after[key] == before[key], key
    # and the second export has the same content (stable GUIDs), apart from the export time
    export_qdpx(fresh, tmp_path / "q.qdpx", name="Socialrådgivere", masking=False)
    strip = lambda b: re.sub(rb'(creation|modified)DateTime="[^"]+"', b"", b)  # noqa: E731
    with zipfile.ZipFile(tmp_path / "p.qdpx") as a, zipfile.ZipFile(tmp_path / "q.qdpx") as b:
        assert strip(a.read("project.qde")) == strip(b.read("project.qde"))
    fresh.dispose()


def test_round_trip_keeps_an_edited_codebook(store, tmp_path, db_url):
    _build(store)
    code = store.codebook().get(EARLY)
    code.definition = "Ny definition efter kodemødet."
    store.save_code(code, "Lise")
    store.save_code(Code(id="ny-kode", label_da="Ny kode", color="#123456", parent=EARLY), "Lise")
    export_qdpx(store, tmp_path / "p.qdpx")
    fresh = Store(db_url.replace("test.db", "fresh2.db"))
    import_qdpx(fresh, tmp_path / "p.qdpx")
    assert _snapshot(fresh)["codebook"] == _snapshot(store)["codebook"]
    fresh.dispose()


def test_a_colleagues_project_adds_her_codings_to_the_same_documents(tmp_path, db_url):
    from focusqa.analysis.agreement import agreement

    mine = Store(db_url.replace("test.db", "mine.db"))
    hers = Store(db_url.replace("test.db", "hers.db"))
    for st, coder, coded in ((mine, "Anna", [1, 2]), (hers, "Bo", [1, 4])):
        _status, doc_id = st.import_document(parse_text(NORD, "nord.txt"))
        segs = st.segments(doc_id)
        for i in coded:
            st.set_coding(segs[i].id, EARLY, coder)
    mine.set_finished(mine.documents()[0].id, "Anna")   # Bo's import marks his document finished
    export_qdpx(hers, tmp_path / "bo.qdpx")
    report = import_qdpx(mine, tmp_path / "bo.qdpx")
    assert report.startswith("0 documents imported (1 already present), 2 codings by 1 coders")
    assert len(mine.documents()) == 1
    result = agreement(mine, ["Anna", "Bo"], bootstrap=0)
    assert result.per_code[0].disagreements == 2 and result.per_code[0].applied == {"Anna": 2, "Bo": 2}
    # importing the same file again adds nothing
    assert ", 0 codings by 0 coders (2 already there)" in import_qdpx(mine, tmp_path / "bo.qdpx")
    mine.dispose()
    hers.dispose()


# ------------------------------------------------------------------------ project import
def _minimal_parts() -> tuple[str, bytes]:
    with zipfile.ZipFile(EXAMPLES / "minimal.qdpx") as zf:
        return zf.read("project.qde").decode("utf-8"), zf.read("sources/f11e0001-0000-4000-8000-000000000001.txt")


def _zip(path: Path, qde: str | bytes, files: dict[str, bytes], qde_name: str = "project.qde") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(qde_name, qde if isinstance(qde, bytes) else qde.encode("utf-8"))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _coded(store: Store) -> set[tuple[str, str, str, str]]:
    segs = {s.id: s for s in store.segments()}
    texts = {d.id: store.document_text(d.id) for d in store.documents()}
    out = set()
    for c in store.codings():
        s = segs[c.segment_id]
        start, end = (c.start, c.end) if c.start is not None else (s.start, s.end)
        out.add((s.document, texts[s.document_id][start:end], store.codebook().get(c.code_id).label_da, c.coder))
    return out


EXPECTED_MINIMAL = {("Interview A", "Trivslen er lav", "Trivsel", "Anne"),
                    ("Interview A", "caféaftener", "Samarbejde", "Anne"),
                    ("Interview B", "øge trivsel", "Trivsel", "Anne")}


def test_imports_the_minimal_project(store):
    report = import_qdpx(store, EXAMPLES / "minimal.qdpx", actor="Lise")
    assert report.startswith("2 documents imported, 3 codings by 1 coders, 3 new codes")
    assert _coded(store) == EXPECTED_MINIMAL
    docs = {d.name: d for d in store.documents()}
    assert (docs["Interview A"].round, docs["Interview A"].district) == ("1", "Nørreby")   # source value wins
    assert (docs["Interview B"].round, docs["Interview B"].district) == ("2", "Nørreby")   # from the case
    memos = {m.text: m for m in store.memos()}
    assert memos["Deltageren var tøvende i starten."].document_id == docs["Interview A"].id
    assert memos["Kodememo: caféaftenerne styrker trivslen."].segment_id is not None
    assert store.audit_log(limit=1)[0].action == "import-qdpx" and store.audit_log(limit=1)[0].actor == "Lise"


@pytest.mark.parametrize("variant", ["bom", "crlf", "Sources", "atlas-name", "guid-case", "draft-namespace"])
def test_lenient_reading_of_other_programs_quirks(store, tmp_path, variant):
    qde, txt = _minimal_parts()
    files = {"sources/f11e0001-0000-4000-8000-000000000001.txt": txt}
    qde_name = "project.qde"
    if variant == "bom":
        files = {k: b"\xef\xbb\xbf" + v for k, v in files.items()}
    elif variant == "crlf":
        files = {k: v.replace(b"\n", b"\r\n") for k, v in files.items()}
        qde = qde.replace('startPosition="31" endPosition="42"', 'startPosition="32" endPosition="43"')
    elif variant == "Sources":
        files = {k.replace("sources/", "Sources/"): v for k, v in files.items()}
    elif variant == "atlas-name":
        qde_name = "Lille eksempel.qde"
    elif variant == "guid-case":
        for guid in re.findall(r'<Code guid="([0-9a-f-]+)"', qde):
            qde = qde.replace(f'<Code guid="{guid}"', f'<Code guid="{{{guid.upper()}}}"')
    elif variant == "draft-namespace":
        qde = qde.replace("urn:QDA-XML:project:1.0", "urn:QDA-XML:project:0:10")
    import_qdpx(store, _zip(tmp_path / "v.qdpx", qde, files, qde_name))
    assert _coded(store) == EXPECTED_MINIMAL


def test_nvivo_utf16_offsets_with_bom_emoji_and_crlf(store, tmp_path):
    # the test vector of refi_qda.md §5.6: BOM + "Hi 😀 there\r\nNext line"; NVivo counts UTF-16 units
    text = "\ufeffHi \U0001F600 there\r\nNext line".encode("utf-8")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS_PROJECT}" name="nvivo" origin="NVivo for Windows 12.6">
  <Users><User guid="AAAAAAAA-0000-4000-8000-000000000001" name="CP"/></Users>
  <CodeBook><Codes><Code guid="C0DE0001-0000-4000-8000-000000000001" name="Greeting" isCodable="true"/>
    <Code guid="C0DE0002-0000-4000-8000-000000000002" name="Next" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="50C00001-0000-4000-8000-000000000001" name="chat" plainTextPath="internal://50c00001-0000-4000-8000-000000000001.txt">
    <PlainTextSelection guid="5E1E0001-0000-4000-8000-000000000001" name="" startPosition="6" endPosition="11">
      <Coding guid="C0D10001-0000-4000-8000-000000000001" creatingUser="aaaaaaaa-0000-4000-8000-000000000001">
        <CodeRef targetGUID="c0de0001-0000-4000-8000-000000000001"/></Coding></PlainTextSelection>
    <PlainTextSelection guid="5E1E0002-0000-4000-8000-000000000002" name="" startPosition="13" endPosition="17">
      <Coding guid="C0D10002-0000-4000-8000-000000000002" creatingUser="{{aaaaaaaa-0000-4000-8000-000000000001}}">
        <CodeRef targetGUID="{{C0DE0002-0000-4000-8000-000000000002}}"/></Coding></PlainTextSelection>
  </TextSource></Sources>
</Project>"""
    import_qdpx(store, _zip(tmp_path / "nvivo.qdpx", qde, {"Sources/50C00001-0000-4000-8000-000000000001.txt": text}))
    assert _coded(store) == {("chat", "there", "Greeting", "CP"), ("chat", "Next", "Next", "CP")}
    assert store.document_text(store.documents()[0].id) == "Hi \U0001F600 there\nNext line"


def _broken(tmp_path: Path, kind: str) -> Path:
    qde, txt = _minimal_parts()
    files = {"sources/f11e0001-0000-4000-8000-000000000001.txt": txt}
    if kind == "not-a-zip":
        path = tmp_path / "bad.qdpx"
        path.write_text("this is not a zip", encoding="utf-8")
        return path
    if kind == "no-qde":
        return _zip(tmp_path / "bad.qdpx", b"", files, "readme.txt")
    if kind == "bad-xml":
        qde = qde[: len(qde) // 2]
    elif kind == "missing-source":
        files = {}
    elif kind == "offsets":
        qde = qde.replace('startPosition="31" endPosition="42"', 'startPosition="31" endPosition="420"')
    elif kind == "unknown-code":
        qde = qde.replace('<CodeRef targetGUID="c0de0002-0000-4000-8000-000000000002"/>',
                          '<CodeRef targetGUID="deadbeef-0000-4000-8000-000000000002"/>')
    elif kind == "not-a-number":
        qde = qde.replace('startPosition="0"', 'startPosition="zero"')
    return _zip(tmp_path / "bad.qdpx", qde, files)


@pytest.mark.parametrize("kind, message", [
    ("not-a-zip", "zip archive"), ("no-qde", "no project.qde"), ("bad-xml", "not well-formed XML"),
    ("missing-source", "not in the file"), ("offsets", "outside its text"),
    ("unknown-code", "does not define"), ("not-a-number", "not a whole number"),
])
def test_bad_project_is_refused_and_changes_nothing(project, tmp_path, kind, message):
    before = _state(project)
    path = _broken(tmp_path, kind)
    with pytest.raises(ProjectFileError, match=message) as info:
        import_qdpx(project, path)
    assert "bad.qdpx" in str(info.value)
    assert _state(project) == before


def test_selection_across_segments_codes_each_segment(store, tmp_path):
    text = "I: Hvad virker?\n\nP1: Åben rådgivning.\n\nP2: Direkte kontakt.\n"
    start, end = text.index("Åben"), text.index("kontakt.") + len("kontakt")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS_PROJECT}" name="x">
  <CodeBook><Codes><Code guid="c0de0001-0000-4000-8000-000000000001" name="Tidlig indsats" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="50c00001-0000-4000-8000-000000000001" name="g.txt"><PlainTextContent>{text}</PlainTextContent>
    <PlainTextSelection guid="5e1e0001-0000-4000-8000-000000000001" startPosition="{start}" endPosition="{end}">
      <Coding guid="c0d10001-0000-4000-8000-000000000001"><CodeRef targetGUID="c0de0001-0000-4000-8000-000000000001"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    report = import_qdpx(store, _zip(tmp_path / "x.qdpx", qde, {}), actor="Lise")
    assert "0 new codes" in report               # matched the existing code by its label
    assert _coded(store) == {("g.txt", "Åben rådgivning.", "Tidlig indsats", "Lise"),
                             ("g.txt", "Direkte kontakt", "Tidlig indsats", "Lise")}



def test_crlf_counted_as_one_is_detected_from_selection_names(store, tmp_path):
    # ATLAS.ti reportedly counts a line break as one position in a CRLF file; the names tell
    text = "Første linje.\r\nAnden linje om PPR.\r\nTredje linje."
    plain = text.replace("\r\n", "\n")
    start = plain.index("PPR")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS_PROJECT}" name="atlas" origin="ATLAS.ti for Windows 23.2.3" basePath="{tmp_path}">
  <CodeBook><Codes><Code guid="C0DE0001-0000-4000-8000-000000000001" name="Koordinering" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="50C00001-0000-4000-8000-000000000001" name="atlas.txt" plainTextPath="relative:///tekst.txt">
    <PlainTextSelection guid="5E1E0001-0000-4000-8000-000000000001" name="PPR" startPosition="{start}" endPosition="{start + 3}">
      <Coding guid="C0D10001-0000-4000-8000-000000000001"><CodeRef targetGUID="C0DE0001-0000-4000-8000-000000000001"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    (tmp_path / "tekst.txt").write_bytes(text.encode("utf-8"))
    report = import_qdpx(store, _zip(tmp_path / "atlas.qdpx", qde, {}), actor="Lise", allow_relative=True)
    assert "offsets read as code points, CRLF as 1" in report
    assert _coded(store) == {("atlas.txt", "PPR", "Koordinering", "Lise")}


def test_a_foreign_code_matched_by_name_keeps_our_definition(store, tmp_path):
    before = store.codebook().get("organisering")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS_PROJECT}" name="x" origin="MAXQDA 2020">
  <CodeBook><Codes><Code guid="c0de0009-0000-4000-8000-000000000009" name="Organisering" isCodable="true" color="#F00"/>
  </Codes></CodeBook>
  <Sources><TextSource guid="50c00001-0000-4000-8000-000000000001" name="g.txt">
    <PlainTextContent>I: Hvem er chef?

P1: Vi har fire forskellige ledere.</PlainTextContent>
    <PlainTextSelection guid="5e1e0001-0000-4000-8000-000000000001" startPosition="22" endPosition="52">
      <Coding guid="c0d10001-0000-4000-8000-000000000001"><CodeRef targetGUID="c0de0009-0000-4000-8000-000000000009"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    report = import_qdpx(store, _zip(tmp_path / "x.qdpx", qde, {}), actor="Lise")
    assert "0 new codes" in report
    assert store.codebook().get("organisering") == before          # terms, colour, definition kept
    assert _coded(store) == {("g.txt", "Vi har fire forskellige ledere", "Organisering", "Lise")}
