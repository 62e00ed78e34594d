"""Bad input never crashes focusqa and never half-changes the database.

Seeded random and hand-made hostile inputs go through the real commands
(`focusqa import`, `focusqa codebook import`), in this process. Every input must
either be read properly or be refused with a FocusqaError that names the file;
after a refusal every table is exactly as before. The summary line at the end
says how many inputs were tried (run with ``-s`` to see it).
"""

from __future__ import annotations

import importlib.util
import io
import random
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import docx
import pytest

from focusqa.cli import EXIT_CRASHED, main
from focusqa.config import DEFAULT_CODEBOOK
from focusqa.ingest import parse_text, read_transcript
from focusqa.store import Store
from focusqa.store.backup import snapshot

def _long_harness():
    """benchmarks/fuzz.py (``make fuzz``), whose input makers this sample shares; its
    dataclass and pool workers look the module up in ``sys.modules``."""
    spec = importlib.util.spec_from_file_location(
        "benchmarks_fuzz", Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FUZZ = _long_harness()
SEED = 20261125
TRANSCRIPT = "\n".join(
    f"{'I' if i % 4 == 0 else f'Rådgiver {i % 3 + 1}'}: Tur {i} om samarbejdet med skolen, "
    f"familierne og sundhedsplejen – “citat” og æøå." for i in range(40)) + "\n"


@dataclass
class Tally:
    tried: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    read: int = 0
    crashes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.tried.values())


class Harness:
    """Runs one input through a command and checks the outcome and the database."""

    def __init__(self, url: str, work: Path, tally: Tally, capsys):
        self.url, self.work, self.tally, self.capsys = url, work, tally, capsys
        self.expected = snapshot(url)

    def _run(self, kind: str, argv: list[str], name: str) -> None:
        self.tally.tried[kind] = self.tally.tried.get(kind, 0) + 1
        self.capsys.readouterr()
        try:
            rc = main(argv + ["--db", self.url])
        except BaseException:  # noqa: BLE001 - any escape is a finding
            self.tally.crashes.append(f"{kind} {name}: {traceback.format_exc(limit=-3)}")
            self.expected = snapshot(self.url)
            return
        out = self.capsys.readouterr()
        text = out.out + out.err
        if rc == EXIT_CRASHED or "Traceback (most recent call last)" in text:
            self.tally.crashes.append(f"{kind} {name}: crashed: {text.strip()[-800:]}")
            self.expected = snapshot(self.url)
            return
        if rc == 0:
            self.tally.read += 1
            self.expected = snapshot(self.url)
            return
        self.tally.refused += 1
        failures = [line for line in text.splitlines() if line.startswith(("failed", "focusqa:"))]
        if not failures or not all(name in line for line in failures):
            self.tally.crashes.append(f"{kind} {name}: error does not name the file: {text.strip()[:300]}")
        if snapshot(self.url) != self.expected:
            self.tally.crashes.append(f"{kind} {name}: database changed although the input was refused")
            self.expected = snapshot(self.url)

    def transcript(self, name: str, data: bytes) -> None:
        path = self.work / name
        path.write_bytes(data)
        self._check_parse(path)
        self._run("transcript", ["import", str(path)], path.name)

    def _check_parse(self, path: Path) -> None:
        """A file that reads must read correctly: every segment is its slice of the text."""
        try:
            parsed = read_transcript(path)
        except Exception:  # noqa: BLE001 - judged by the command run that follows
            return
        for i, seg in enumerate(parsed.segments):
            if seg.index != i or parsed.plain_text[seg.start:seg.end] != seg.text or not seg.text.strip():
                self.tally.crashes.append(f"transcript {path.name}: segment {i} does not match the text")
                return

    def codebook(self, name: str, data: bytes) -> None:
        path = self.work / name
        path.write_bytes(data)
        self._run("codebook", ["codebook", "import", str(path)], path.name)

    def folder(self, name: str, files: dict[str, bytes]) -> None:
        folder = self.work / name
        folder.mkdir()
        for fname, data in files.items():
            (folder / fname).write_bytes(data)
        self._run("manifest", ["import", str(folder)], name)

    def project(self, name: str, data: bytes) -> None:
        path = self.work / name
        path.write_bytes(data)
        self._run("project", ["import", str(path)], path.name)


# ------------------------------------------------------------------ inputs
def _docx_bytes(paragraphs: list[str], table_rows: int = 0) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table_rows:
        table = document.add_table(rows=table_rows, cols=2)
        for n, row in enumerate(table.rows):
            row.cells[0].text, row.cells[1].text = f"Deltager {n % 2 + 1}", f"Svar nummer {n}"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()








def _expanding_docx(unpacked_bytes: int) -> bytes:
    """A small .docx whose document.xml unpacks to ``unpacked_bytes`` (a zip bomb in miniature)."""
    parts = FUZZ.zip_parts(_docx_bytes(["I: start"]))
    para = "<w:p><w:r><w:t>Rådgiver 1: " + "bla " * 200 + "</w:t></w:r></w:p>"
    body = parts["word/document.xml"].decode()
    parts["word/document.xml"] = body.replace("<w:body>", "<w:body>" + para * (unpacked_bytes // len(para)), 1).encode()
    return FUZZ.rezip(parts)


XML_TOKENS = [b"<", b">", b"</w:p>", b"<w:tbl>", b"<w:tc>", b"&", b"&#0;", b"\x00", b"\xff\xfe", b'"', b"<w:t>",
              b"<![CDATA[", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"]]>"]
TEXT_TOKENS = ["I:", "Rådgiver 1:", "\n\n", "---\n", "\r", "\t", "[00:12:31]", "**", "\ufeff", "\u2028", "\x00",
               "\x0b", ":", "é", "\ud7ff"]
YAML_TOKENS = [b"{", b"}", b"[", b"]", b": ", b"\n- ", b"&a ", b"*a", b"!!python/object:os.system ", b"'", b'"',
               b"\t", b"---\n", b"? ", b"%YAML 9.9\n", b"<<: *a\n", b"!!binary ", b"0x", b"\xff"]


def _transcript_inputs(rng: random.Random) -> list[tuple[str, bytes]]:
    text = TRANSCRIPT.encode("utf-8")
    text_tokens = [t.encode("utf-8", "surrogatepass") for t in TEXT_TOKENS]
    base_docx = _docx_bytes([line for line in TRANSCRIPT.splitlines()[:20]], table_rows=6)
    parts = FUZZ.zip_parts(base_docx)
    inputs: list[tuple[str, bytes]] = []
    suffixes = [".txt", ".md", ".docx", ".doc", ".pdf", ""]
    for n in range(70):
        inputs.append((f"random{n}{rng.choice(suffixes)}", rng.randbytes(rng.choice([1, 7, 300, 4000]))))
    for n in range(70):
        inputs.append((f"mutated{n}{rng.choice(['.txt', '.md'])}", FUZZ.mutate(rng, text, text_tokens)))
    for n in range(30):
        inputs.append((f"truncated{n}.docx", base_docx[:rng.randrange(len(base_docx))]))
    for n in range(20):
        inputs.append((f"flipped{n}.docx", FUZZ.mutate(rng, base_docx, [], rounds=4)))
    for n in range(50):
        changed = dict(parts)
        part = rng.choice(["word/document.xml", "word/styles.xml", "[Content_Types].xml", "word/_rels/document.xml.rels",
                           rng.choice(list(parts))])
        changed[part] = FUZZ.mutate(rng, parts[part], XML_TOKENS, rounds=6)
        inputs.append((f"badxml{n}.docx", FUZZ.rezip(changed)))
    for n, part in enumerate(sorted(parts)):
        inputs.append((f"missingpart{n}.docx", FUZZ.rezip({k: v for k, v in parts.items() if k != part})))
    sample = "I: Hvordan går det med samarbejdet?\nAnna: Godt – især med skolen og ‘familierne’.\nI: Tak.\nBo: Ja.\n"
    for enc in ["utf-16-le", "utf-16-be", "utf-32-le", "latin-1", "cp1252", "cp865", "mac_roman", "shift_jis",
                "utf-16", "utf-32", "utf-8-sig", "koi8-r"]:
        inputs.append((f"encoding-{enc}.txt", sample.encode(enc, errors="replace")))
    inputs += [
        ("odd-utf16.txt", b"\xff\xfe" + sample.encode("utf-16-le")[:-1]),
        ("bad-utf32.txt", b"\xff\xfe\x00\x00" + b"\x00\xd8\x00\x00"),
        ("mixed.txt", sample.encode("utf-8") + sample.encode("latin-1", errors="replace")),
        ("empty.txt", b""),
        ("blank.md", b" \n\t\n\n"),
        ("only-front-matter.md", b"---\nround: 2016\n---\n"),
        ("empty.docx", _docx_bytes([])),
        ("blank-paragraphs.docx", _docx_bytes(["", "   ", "\t"])),
        ("empty-table.docx", FUZZ.rezip(FUZZ.zip_parts(_docx_bytes([], table_rows=0)))),
        ("nested-3.docx", FUZZ.nested_tables(3)),
        ("nested-12.docx", FUZZ.nested_tables(12)),
        ("nested-300.docx", FUZZ.nested_tables(300)),
        ("expands-to-50mb.docx", _expanding_docx(50 * 1024 * 1024)),
        ("old-word.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(2000)),
        ("not-a-zip.docx", b"PK\x03\x04" + rng.randbytes(500)),
    ]
    bad_front = ["---\na: [\n---\nI: x\nA: y\n", "---\n- 1\n- 2\n---\nI: x\n", "---\n!!python/object:os.system x\n---\nI: x\n",
                 "---\nround: {a: 1}\ndistrict: [1, 2]\nmoderator: {x: 1}\n---\nI: hej\nAnna: hej\n",
                 "---\n&a [*a]\n---\nI: x\n", "---\n? [1, 2]\n: x\n---\nI: x\nA: y\n", "---\n" + "[" * 1100 + "\n---\nI: x\n",
                 "---\nround: 2016\nround: 2017\n---\nI: x\nAnna: y\n", "---\n\tround: 2016\n---\nI: x\n"]
    inputs += [(f"front-matter{n}.md", y.encode()) for n, y in enumerate(bad_front)]
    return inputs


def _codebook_inputs(rng: random.Random) -> list[tuple[str, bytes]]:
    good = DEFAULT_CODEBOOK.read_bytes()
    inputs = [(f"mutated{n}.yaml", FUZZ.mutate(rng, good, YAML_TOKENS)) for n in range(60)]
    inputs += [(f"random{n}.yaml", rng.randbytes(rng.choice([3, 200, 3000]))) for n in range(15)]
    structures = [
        "codes: [{id: a, label_da: x, parent: [1]}]", "codes: [{id: [1], label_da: x}]",
        "codes: [{id: a, label_da: x, number: 1.5}]", "codes: [{id: a, label_da: x, color: [1]}]",
        "codes: [{id: a, label_da: x, terms: [[1]]}]", "codes: [{id: a, label_da: x, terms: {a: 1}}]",
        "codes: [{id: a, label_da: x}]\nversion: [1]", "codes: [{id: a, label_da: x, parent: {b: 1}}]",
        "codes: [{? [1] : 2}]", "codes: &a [*a]", "codes: [{id: a, label_da: x, parent: a}]", "--- a\n--- b",
        "codes: [{1: 2, id: a, label_da: x}]", "codes: [{id: a, label_da: x, number: 99999999999999999999999}]",
        "codes: [{id: a, label_da: !!binary aGVq}]", "codes: [{id: 2016-01-01, label_da: x}]", "codes: []", "codes:",
        "[" * 1100, "codes:\n  - " + "{" * 1100, "codes: [{id: A B, label_da: x}]", "- a\n- b", "",
        "codes: [{id: a, label_da: x}, {id: a, label_da: y}]", "codes: [{id: a, label_da: x, number: 1}, {id: b, label_da: y, number: 1}]",
        "codes: [{id: a, label_da: x, parent: b}, {id: b, label_da: y, parent: a}]",
        "codes: [{id: a, label_da: x, colour: red}]", "codes: [{id: a, label_da: x, number: true}]",
    ]
    inputs += [(f"structure{n}.yaml", s.encode()) for n, s in enumerate(structures)]
    inputs += [("latin1.yaml", "codes: [{id: a, label_da: 'Æble'}]".encode("latin-1")),
               ("utf16.yaml", "codes: [{id: a, label_da: x}]".encode("utf-16")), ("missing.qdc", b"")]
    return inputs


def _manifest_inputs(rng: random.Random) -> list[tuple[str, dict[str, bytes]]]:
    manifests = [
        b"file,round\nmissing.txt,2016\n", b"file;round;district\nikke-her.docx;2017;Nord\nheller-ikke.txt;2017;Vest\n",
        b"\x00\x01\x02file", b"round,district\n2016,Nord\n", b'file;round\n"unterminated;2016\n',
        b"file,round\na.txt,2016,extra\n", b"file\n\n,\n", "fil;runde\nå.txt;2016\n".encode("cp1252"),
        b"file,round\n" + b"a" * 200_000 + b",1\n", b"\xff\xfef\x00i\x00l\x00e\x00\n\x00", b"",
    ]
    manifests += [b"file,round,district\n" + FUZZ.mutate(rng, b"x.txt,2016,Nord\ny.md,2017,Vest\n", [b",", b";", b'"', b"\n"])
                  for _ in range(10)]
    return [(f"manifest{n}", {"manifest.csv": m, "broken.docx": b"PK\x03\x04broken"}) for n, m in enumerate(manifests)]


def _project_inputs(rng: random.Random, work: Path) -> list[tuple[str, bytes]]:
    """A real .qdpx from a small project, then with wrong offsets and other damage."""
    from focusqa.export.refi import export_qdpx

    source = Store(f"sqlite:///{work / 'qdpx-source.db'}")
    _, doc = source.import_document(parse_text(TRANSCRIPT, "kilde.txt"), actor="test")
    for seg in source.segments(doc)[1:6]:
        source.set_coding(seg.id, source.codebook().ids[0], "anna")
    good_path = work / "good.qdpx"
    export_qdpx(source, good_path)
    source.dispose()
    good = good_path.read_bytes()
    parts = FUZZ.zip_parts(good)
    qde = parts["project.qde"].decode("utf-8")
    assert "startPosition" in qde
    inputs: list[tuple[str, bytes]] = []
    offsets = [("10", "5"), ("-4", "12"), ("0", "999999"), ("abc", "12"), ("", ""), ("3.5", "9"),
               ("99999999999999999999", "1"), ("0", "0")]
    for n, (start, end) in enumerate(offsets):
        bad = re.sub(r'startPosition="\d+"', f'startPosition="{start}"', qde, count=1)
        bad = re.sub(r'endPosition="\d+"', f'endPosition="{end}"', bad, count=1)
        inputs.append((f"offsets{n}.qdpx", FUZZ.rezip({**parts, "project.qde": bad.encode()})))
    for n in range(20):
        inputs.append((f"mutated{n}.qdpx", FUZZ.rezip({**parts, "project.qde": FUZZ.mutate(rng, parts["project.qde"], XML_TOKENS, 5)})))
    for n in range(6):
        inputs.append((f"truncated{n}.qdpx", good[:rng.randrange(len(good))]))
    sources = [k for k in parts if k.startswith("sources/")]
    inputs.append(("missing-source.qdpx", FUZZ.rezip({k: v for k, v in parts.items() if k not in sources})))
    inputs.append(("no-project.qdpx", FUZZ.rezip({k: v for k, v in parts.items() if k != "project.qde"})))
    inputs.append(("random.qdpx", rng.randbytes(800)))
    return inputs


# ------------------------------------------------------------------- test
def test_fuzz_import_and_codebook_loading(tmp_path: Path, capsys) -> None:
    rng = random.Random(SEED)
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    store = Store(url)
    _, doc = store.import_document(parse_text(TRANSCRIPT, "eksisterende.txt"), actor="test")
    seg = store.segments(doc)[1]
    store.set_coding(seg.id, store.codebook().ids[0], "anna")
    store.add_memo("anna", "Et notat, der ikke må gå tabt", segment_id=seg.id)
    store.dispose()
    work = tmp_path / "inputs"
    work.mkdir()
    tally = Tally()
    harness = Harness(url, work, tally, capsys)

    for name, data in _transcript_inputs(rng):
        harness.transcript(name, data)
    big = work / "fifty-megabytes.txt"
    with open(big, "wb") as fh:
        line = "Rådgiver 1: Vi holder møder hver måned med skolen.\n".encode()
        fh.write(line * (50 * 1024 * 1024 // len(line) + 1))
    harness._run("transcript", ["import", str(big)], big.name)
    for name, data in _codebook_inputs(rng):
        harness.codebook(name, data)
    for name, files in _manifest_inputs(rng):
        harness.folder(name, files)
    for name, data in _project_inputs(rng, tmp_path):
        harness.project(name, data)

    with capsys.disabled():
        print(f"\nfuzz: {tally.total} inputs tried ({', '.join(f'{v} {k}s' for k, v in tally.tried.items())}): "
              f"{tally.refused} refused with a clear error, {tally.read} read fine, {len(tally.crashes)} problems")
    assert tally.total >= 400
    assert tally.refused >= 250, "most hostile inputs must be refused"
    assert not tally.crashes, "\n\n".join(tally.crashes[:10])
    survivor = Store(url)
    assert any(m.text == "Et notat, der ikke må gå tabt" for m in survivor.memos())
    assert survivor.codings(coder="anna")
    survivor.dispose()


@pytest.mark.parametrize("suffix", [".txt", ".docx"])
def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, suffix: str) -> None:
    from focusqa.errors import TranscriptError

    path = tmp_path / f"huge{suffix}"
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, instant to make
    with pytest.raises(TranscriptError, match=r"huge.*50 MB.*refused"):
        read_transcript(path)


def test_the_long_fuzz_harness_runs_a_sample_of_every_family(tmp_path: Path, capsys) -> None:
    """``make fuzz`` (benchmarks/fuzz.py) on a sample: it runs, and finds nothing. Time and
    memory limits are set out of reach here (speed is measured by the long run, not tests)."""
    import json

    rc = _run_fuzz_sample(FUZZ, tmp_path / "fuzz.jsonl")
    report = capsys.readouterr().out
    records = [json.loads(line) for line in (tmp_path / "fuzz.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rc == 0, report
    assert len(records) == 48 and {r["family"] for r in records} == set(FUZZ.FAMILIES)
    assert all(r["outcome"] in ("read", "refused") and r["peak_mb"] > 0 for r in records)
    assert "no problems" in report


def _run_fuzz_sample(fuzz, out: Path) -> int:
    return fuzz.main(["--inputs", "48", "--workers", "1", "--seed", "5", "--max-seconds", "600",
                      "--max-mb", "100000", "--out", str(out)])
