"""The long fuzz run (issue 18): thousands of hostile and careless files through the real
import commands, each in a process of its own, with time, memory and the database watched.

    make fuzz                                    # 10,000 inputs, 3 workers
    .venv/bin/python benchmarks/fuzz.py --inputs 500 --workers 1 --out /tmp/fuzz.jsonl

Every input is made from a seed and its number (the same run gives the same files), is
written to disk, and a child forked from a warmed-up worker runs ``focusqa import`` or
``focusqa codebook import`` on it in-process, against a fresh copy of a small database.
Per input it records the outcome (read / refused with a message / traceback), the wall
time of the command, the child's peak memory (``ru_maxrss`` from ``wait4``), whether the
database differs from before although the input was refused, and whether any file in a
folder outside the inputs was opened (an audit hook on ``open``) or its canary text
reached the database or the output. It prints a table per family and exits non-zero on
any traceback, message that is not one line naming the file, input over the time or
memory limit, database change after a refusal, or outside read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO = ROOT / "corpora" / "socialraadgivere"
GUIDE = ROOT / "codebooks" / "interview_guide.yaml"
FAMILIES = {            # family -> share of the inputs
    "random-bytes": 0.08, "demo-damaged": 0.14, "docx": 0.14, "text": 0.14, "manifest": 0.08,
    "qdpx": 0.20, "yaml": 0.12, "qdc": 0.10,
}
HARD_TIMEOUT = 120      # seconds before a child is killed (recorded as over the time limit)
MEMORY_CAP = 6 << 30    # address-space cap per child, so a runaway input cannot take the machine
TRANSCRIPT = "\n".join(
    f"{'I' if i % 4 == 0 else f'Rådgiver {i % 3 + 1}'}: Tur {i} om samarbejdet med skolen, "
    f"familierne og sundhedsplejen – “citat” og æøå." for i in range(40)) + "\n"
XML_TOKENS = [b"<", b">", b"</w:p>", b"<w:tbl>", b"<w:tc>", b"&", b"&#0;", b"\x00", b"\xff\xfe", b'"', b"<w:t>",
              b"<![CDATA[", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"]]>", b"<Code>", b"</Code>",
              b' startPosition="', b' guid="', b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'>]>", b"&a;", b"9" * 40]
TEXT_TOKENS = [t.encode("utf-8", "surrogatepass") for t in
               ["I:", "Rådgiver 1:", "\n\n", "---\n", "\r", "\t", "[00:12:31]", "**", "\ufeff", "\u2028", "\x00",
                "\x0b", ":", "é", "\ud7ff", "#00:01:23-5#", "<p>", "<b>", "&amp;", "# Overskrift\n", "INTERVIEWER\n"]]
YAML_TOKENS = [b"{", b"}", b"[", b"]", b": ", b"\n- ", b"&a ", b"*a", b"!!python/object:os.system ", b"'", b'"',
               b"\t", b"---\n", b"? ", b"%YAML 9.9\n", b"<<: *a\n", b"!!binary ", b"0x", b"\xff", b"9" * 30,
               b"2017-13-45", b"parent: ", b"number: ", b"terms: "]


# ------------------------------------------------------------------ the inputs
@dataclass
class Input:
    family: str
    name: str               # the file or folder given to the command
    argv: list[str]         # the command, without --db


def mutate(rng: random.Random, data: bytes, tokens: list[bytes], rounds: int = 12) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, rounds)):
        i = rng.randrange(len(b)) if b else 0
        op = rng.random()
        if op < 0.35 and b:
            b[i] = rng.randrange(256)
        elif op < 0.7:
            b[i:i] = rng.choice(tokens) if tokens and rng.random() < 0.6 else rng.randbytes(rng.randint(1, 8))
        elif op < 0.85 and b:
            del b[i:i + rng.randint(1, 24)]
        elif b:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 200)] * rng.randint(1, 50)      # repeat a stretch
    return bytes(b)


def zip_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in parts.items():
            z.writestr(name, value)
    return buf.getvalue()


class Corpus:
    """The material inputs are made from: demo files, a Word template, good .qdpx/.qdc files."""

    def __init__(self, work: Path):
        import docx

        from focusqa.config import DEFAULT_CODEBOOK
        from focusqa.export.refi import export_qdpx, write_qdc
        from focusqa.ingest import parse_text
        from focusqa.store import Store

        self.demo = {p.name: p.read_bytes() for p in sorted(DEMO.iterdir()) if p.is_file()}
        self.demo_docx = [v for k, v in self.demo.items() if k.endswith(".docx")]
        self.demo_text = [v for k, v in self.demo.items() if k.endswith((".txt", ".md"))]
        self.guide = DEFAULT_CODEBOOK.read_bytes()
        document = docx.Document()
        for line in TRANSCRIPT.splitlines()[:20]:
            document.add_paragraph(line)
        table = document.add_table(rows=6, cols=2)
        for n, row in enumerate(table.rows):
            row.cells[0].text, row.cells[1].text = f"Deltager {n % 2 + 1}", f"Svar nummer {n}"
        buf = io.BytesIO()
        document.save(buf)
        self.docx = buf.getvalue()
        self.docx_parts = zip_parts(self.docx)
        source = Store(f"sqlite:///{work / 'source.db'}")
        _, doc = source.import_document(parse_text(TRANSCRIPT, "kilde.txt"), actor="fuzz")
        for seg in source.segments(doc)[1:6]:
            source.set_coding(seg.id, source.codebook().ids[0], "anna")
        source.add_memo("anna", "Et notat", segment_id=source.segments(doc)[2].id)
        export_qdpx(source, work / "small.qdpx")
        write_qdc(source.codebook(), work / "guide.qdc")
        source.dispose()
        self.qdpx = (work / "small.qdpx").read_bytes()
        self.qdpx_parts = zip_parts(self.qdpx)
        self.qdc = (work / "guide.qdc").read_bytes()


def make_input(corpus: Corpus, family: str, index: int, seed: int, folder: Path, outside: Path) -> Input:
    """Input number ``index`` of ``family``, written into ``folder`` (fresh, empty)."""
    rng = random.Random(f"{seed}:{family}:{index}")
    maker = MAKERS[family]
    name, payload, extra = maker(rng, corpus, outside)
    target = folder / name
    if isinstance(payload, dict):                       # a folder of files
        target.mkdir()
        for fname, data in payload.items():
            (target / fname).write_bytes(data)
    elif callable(payload):                             # written by a function (large files)
        payload(target)
    else:
        target.write_bytes(payload)
    (folder / "canary-link.txt").symlink_to(outside / "canary.txt")     # a way out, for relative:// paths
    if family in ("yaml", "qdc") or name.endswith((".yaml", ".qdc", ".csv")) and family == "random-bytes":
        argv = ["codebook", "import", str(target)] + (["--yes"] if rng.random() < 0.7 else [])
    else:
        argv = ["import", str(target)] + extra
    return Input(family, name, argv)


def _random_bytes(rng, corpus, outside):
    suffix = rng.choice([".txt", ".md", ".docx", ".qdpx", ".yaml", ".qdc", ".csv", ".doc", ""])
    size = rng.choice([0, 1, 3, 7, 64, 300, 4000, 60_000])
    head = rng.choice([b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe", b"<?xml ", b"---\n", b"\xd0\xcf\x11\xe0"])
    return f"random{suffix}", head + rng.randbytes(size), []


def _demo_damaged(rng, corpus, outside):
    name, data = rng.choice([(k, v) for k, v in corpus.demo.items() if k.endswith((".docx", ".txt", ".md"))])
    stem, suffix = os.path.splitext(name)
    how = rng.random()
    if how < 0.2:
        data = data[:rng.randrange(1, len(data))]
    elif suffix == ".docx" and how < 0.7:
        parts = zip_parts(data)
        part = rng.choice(list(parts))
        parts[part] = mutate(rng, parts[part], XML_TOKENS, 8)
        data = rezip(parts)
    else:
        data = mutate(rng, data, XML_TOKENS if suffix == ".docx" else TEXT_TOKENS, 20)
    return f"{stem}-damaged{suffix}", data, []


def _docx_bomb(size: int):
    para = "<w:p><w:r><w:t>Rådgiver 1: " + "bla " * 200 + "</w:t></w:r></w:p>"

    def write(path: Path) -> None:
        parts = dict(zip_parts(_small_docx()))
        body = parts.pop("word/document.xml").decode()
        head, tail = body.split("<w:body>", 1)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, v in parts.items():
                z.writestr(n, v)
            with z.open("word/document.xml", "w", force_zip64=True) as fh:
                fh.write((head + "<w:body>").encode())
                chunk = (para * 1000).encode()
                for _ in range(size // len(chunk) + 1):
                    fh.write(chunk)
                fh.write(tail.encode())
    return write


def _small_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("I: Hvordan går det?")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def nested_tables(depth: int) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("I: Hvordan er samarbejdet?")
    cell = document.add_table(rows=1, cols=2).cell(0, 0)
    for level in range(depth):
        cell.paragraphs[0].text = f"Niveau {level}"
        cell = cell.add_table(rows=1, cols=1).cell(0, 0)
    cell.paragraphs[0].text = "Rådgiver 1: Inderst inde."
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _docx(rng, corpus, outside):
    parts = dict(rng.choice([corpus.docx_parts, zip_parts(rng.choice(corpus.demo_docx))]))
    kind = rng.random()
    if kind < 0.45:
        part = rng.choice(["word/document.xml", "word/styles.xml", "[Content_Types].xml",
                           "word/_rels/document.xml.rels", rng.choice(list(parts))])
        parts[part] = mutate(rng, parts.get(part, b""), XML_TOKENS, 6)
        return "badxml.docx", rezip(parts), []
    if kind < 0.55:
        gone = rng.choice(list(parts))
        return "missingpart.docx", rezip({k: v for k, v in parts.items() if k != gone}), []
    if kind < 0.65:
        data = rezip(parts)
        return "truncated.docx", data[:rng.randrange(len(data))], []
    if kind < 0.72:
        return "nested.docx", nested_tables(rng.choice([2, 9, 40, 300])), []
    if kind < 0.76:
        return "bomb.docx", _docx_bomb(rng.choice([30, 60, 200]) << 20), []
    if kind < 0.80:
        parts["word/media/image1.png"] = b"\0" * rng.choice([1 << 20, 26 << 20])
        return "media.docx", rezip(parts), []
    if kind < 0.86:
        n = rng.choice([500, 19_000, 21_000, 100_000])
        body = parts["word/document.xml"]
        para = rng.choice([b"<w:p><w:r><w:t>P1: x</w:t></w:r></w:p>", b"<w:p/>", b"<w:p><w:r><w:t>ord</w:t></w:r></w:p>"])
        parts["word/document.xml"] = body.replace(b"<w:body>", b"<w:body>" + para * n, 1)
        return "paragraphs.docx", rezip(parts), []
    if kind < 0.92:
        body = parts["word/document.xml"]
        text = rng.choice(["x" * 150_000, "P1: " + " " * 200_000 + "slut", "<p " * 60_000, "\x0b" * 30_000])
        para = f"<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>".encode()
        parts["word/document.xml"] = body.replace(b"<w:body>", b"<w:body>" + para, 1)
        return "longturn.docx", rezip(parts), []
    return "flipped.docx", mutate(rng, rezip(parts), [], 4), []


def _text(rng, corpus, outside):
    kind = rng.random()
    base = rng.choice(corpus.demo_text + [TRANSCRIPT.encode()])
    suffix = rng.choice([".txt", ".md"])
    if kind < 0.45:
        return f"mutated{suffix}", mutate(rng, base, TEXT_TOKENS, 16), []
    if kind < 0.55:
        enc = rng.choice(["utf-16-le", "utf-16-be", "utf-32-le", "latin-1", "cp1252", "cp865", "mac_roman",
                          "shift_jis", "utf-16", "utf-32", "utf-8-sig", "koi8-r"])
        return f"encoding{suffix}", base.decode("utf-8", errors="replace").encode(enc, errors="replace"), []
    if kind < 0.65:
        front = rng.choice(["a: [\n", "- 1\n- 2\n", "!!python/object:os.system x\n", "round: {a: 1}\n",
                            "&a [*a]\n", "? [1, 2]\n: x\n", "[" * 1100 + "\n", "round: 2016\nround: 2017\n",
                            "\tround: 2016\n", "dato: 2017-13-45\n", "runde: " + "9" * 5000 + "\n",
                            "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
                                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                                for i in range(8))])
        return f"front{suffix}", f"---\n{front}---\n".encode() + base, []
    # the hang and memory cases: many lines, many turns, long turns and lines
    n = rng.choice([1_000, 19_999, 20_001, 200_000, 1_000_000])
    shape = rng.choice(["I: x\n", "P{i}: hej\n", "ord\n", "\n", "P1: a\n\n", "\r", "x" * 200 + "\n"])
    if kind < 0.8:
        if "{i}" in shape:
            text = "".join(shape.format(i=i % 9) for i in range(n))
        else:
            text = shape * n
        return f"lines{suffix}", text.encode(), []
    size = rng.choice([90_000, 100_001, 400_000, 3_000_000])
    filler = rng.choice([" ", "ord ", "<p ", "#", "\t", "é", "[00:00:01] "])
    text = "I: Hvad virker?\n\nP1: " + filler * (size // len(filler)) + "slut\n"
    if rng.random() < 0.3:
        text = "\n\n".join([text] * rng.choice([2, 17, 60]))
    return f"longturn{suffix}", text.encode(), []


def _manifest(rng, corpus, outside):
    good = corpus.demo["manifest.csv"]
    kind = rng.random()
    if kind < 0.5:
        manifest = mutate(rng, good, [b",", b";", b'"', b"\n", b"\x00", b"\r", b"../", b"/etc/passwd"], 10)
    else:
        manifest = rng.choice([
            b"file,round\nmissing.txt,2016\n", b"\x00\x01\x02file", b"round,district\n2016,Nord\n",
            b'file;round\n"unterminated;2016\n', b"file,round\na.txt,2016,extra\n", b"file\n\n,\n",
            "fil;runde\nå.txt;2016\n".encode("cp1252"), b"file,round\n" + b"a" * 200_000 + b",1\n",
            b"\xff\xfef\x00i\x00l\x00e\x00\n\x00", b"", b"file,round\n" + b"x.txt,1\n" * 50_000,
            b"file,round\n../outside/canary.txt,2016\n", f"file,round\n{outside / 'canary.txt'},2016\n".encode(),
            b"file,round\n" + b"a.txt," + b"9" * 5000 + b"\n"])
    files = {"manifest.csv": manifest}
    for name in rng.sample([k for k in corpus.demo if k.endswith((".txt", ".docx"))], rng.randint(0, 3)):
        files[name] = corpus.demo[name] if rng.random() < 0.7 else mutate(rng, corpus.demo[name], TEXT_TOKENS, 6)
    if rng.random() < 0.3:
        files["broken.docx"] = b"PK\x03\x04broken"
    return "folder", files, []


def _qde(body: str, ns: str = "urn:QDA-XML:project:1.0") -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{ns}" name="x">{body}</Project>'.encode()


def _codes_xml(depth: int, breadth: int = 1, attrs: str = "", description: str = "") -> str:
    out, n = [], 0
    for _ in range(breadth):
        for _level in range(depth):
            out.append(f'<Code guid="50c00001-0000-4000-8000-{n:012d}" name="kode {n}" isCodable="true"{attrs}>'
                       + (f"<Description>{description}</Description>" if description else ""))
            n += 1
        out.append("</Code>" * depth)
    return "<Codes>" + "".join(out) + "</Codes>"


def _qdpx(rng, corpus, outside):
    parts = dict(corpus.qdpx_parts)
    qde = parts["project.qde"].decode("utf-8")
    extra = ["--allow-relative"] if rng.random() < 0.5 else []
    kind = rng.random()
    source = ('<Sources><TextSource guid="50c00001-0000-4000-8000-000000000901" name="kilde" {attrs}>{inner}'
              "</TextSource></Sources>")
    if kind < 0.30:
        parts["project.qde"] = mutate(rng, parts["project.qde"], XML_TOKENS, 6)
        return "mutated.qdpx", rezip(parts), extra
    if kind < 0.40:
        start, end = rng.choice([("10", "5"), ("-4", "12"), ("0", "999999"), ("abc", "12"), ("", ""), ("3.5", "9"),
                                 ("9" * 20, "1"), ("9" * 5000, "1"), ("0", "0"), ("1", "9" * 5000)])
        bad = re.sub(r'startPosition="\d+"', f'startPosition="{start}"', qde, count=rng.randint(1, 3))
        bad = re.sub(r'endPosition="\d+"', f'endPosition="{end}"', bad, count=rng.randint(1, 3))
        parts["project.qde"] = bad.encode()
        return "offsets.qdpx", rezip(parts), extra
    if kind < 0.55:                                  # paths outside the archive, to the canary
        canary = outside / "canary.txt"
        ref = rng.choice([f"absolute://{canary}", f"absolute:///{canary}", f"relative:///../outside/canary.txt",
                          f"relative://../outside/canary.txt", f"relative:///{os.path.relpath(canary, '/')}",
                          "relative:///canary-link.txt", f"file://{canary}", f"{canary}", f"internal://../{canary}",
                          f"internal://{canary}", "relative:///.", f"relative:///{'../' * 12}{canary}"])
        inline = "<PlainTextContent>I: Hej</PlainTextContent>"
        where = rng.choice(["plainTextPath", "richTextPath", "note"])
        if where == "note":
            body = source.format(attrs="", inner=inline) + (
                f'<Notes><Note guid="50c00001-0000-4000-8000-000000000902" name="n" plainTextPath="{ref}"/></Notes>')
        else:
            body = source.format(attrs=f'{where}="{ref}"', inner=inline if where == "richTextPath" else "")
        return "outside.qdpx", rezip({"project.qde": _qde(body)}), extra
    if kind < 0.62:                                  # zip bombs
        size = rng.choice([30 << 20, 45 << 20, 120 << 20])
        target = rng.choice(["project.qde", "sources/big.txt"])

        def write(path: Path) -> None:
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                if target != "project.qde":
                    z.writestr("project.qde", _qde(source.format(attrs='plainTextPath="internal://big.txt"',
                                                                 inner="")))
                with z.open(target, "w", force_zip64=True) as fh:
                    fh.write(b"<Project xmlns='urn:QDA-XML:project:1.0'><!--" if target == "project.qde" else b"")
                    chunk = b" " * (1 << 20)
                    for _ in range(size >> 20):
                        fh.write(chunk)
                    fh.write(b"--></Project>" if target == "project.qde" else b"")
        return "bomb.qdpx", write, extra
    if kind < 0.72:                                  # codes: deep, many, numbers, colours, terms
        what = rng.choice(["deep", "many", "nummer", "colour", "terms", "guidless"])
        codes = {"deep": lambda: _codes_xml(rng.choice([13, 200, 1000, 3000])),
                 "many": lambda: _codes_xml(1, rng.choice([2_001, 20_000])),
                 "nummer": lambda: _codes_xml(1, 2, description=f"Nummer: {'9' * rng.choice([13, 5000])}"),
                 "colour": lambda: _codes_xml(1, 2, attrs=f' color="rgb({"9" * 5000},1,1)"'),
                 "terms": lambda: _codes_xml(1, 1, description="Søgeord: " + "o;" * rng.choice([20_001, 300_000])),
                 "guidless": lambda: "<Codes><Code name='x'/></Codes>"}[what]()
        body = f"<CodeBook>{codes}</CodeBook>" + source.format(attrs="", inner="<PlainTextContent>I: Hej"
                                                                               "</PlainTextContent>")
        return f"codes-{what}.qdpx", rezip({"project.qde": _qde(body)}), extra
    if kind < 0.80:                                  # sources over the transcript limits
        text = rng.choice(["I: x\n" * 30_000, "".join(f"P{i % 5}: a\n" for i in range(12_000)),
                           "P1: " + "ord " * 40_000, "I: hej\r\n" * 5_000 + "😀" * 1000,
                           "I: " + "😀" * 200_000])
        body = source.format(attrs='plainTextPath="internal://kilde.txt"', inner="")
        return "bigsource.qdpx", rezip({"project.qde": _qde(body), "sources/kilde.txt": text.encode()}), extra
    if kind < 0.88:
        data = corpus.qdpx
        return "truncated.qdpx", data[:rng.randrange(len(data))], extra
    if kind < 0.94:
        gone = rng.choice(list(parts))
        return "missing.qdpx", rezip({k: v for k, v in parts.items() if k != gone}), extra
    other = rng.choice(list(parts))
    parts[other] = mutate(rng, parts[other], TEXT_TOKENS, 8)
    return "damaged-source.qdpx", rezip(parts), extra


def _yaml(rng, corpus, outside):
    kind = rng.random()
    if kind < 0.6:
        return "mutated.yaml", mutate(rng, corpus.guide, YAML_TOKENS, 12), []
    if kind < 0.7:
        bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
        return "aliasbomb.yaml", (bomb + "codes: [{id: a, label_da: x}]\n").encode(), []
    if kind < 0.8:
        depth = rng.choice([13, 500, 1000, 3000])
        text = rng.choice([
            "codes:\n" + "".join(f"  - {{id: k{i}, label_da: K{i}{f', parent: k{i - 1}' if i else ''}}}\n"
                                 for i in range(depth)),
            "[" * depth, "codes:\n  - " + "{a: " * depth, "codes: " + "- " * depth + "x"])
        return "deep.yaml", text.encode(), []
    if kind < 0.9:
        n = rng.choice([2_001, 20_000])
        text = rng.choice([
            "codes:\n" + "".join(f"  - {{id: k{i}, label_da: K{i}}}\n" for i in range(n)),
            "codes:\n  - id: a\n    label_da: A\n    terms: [" + ", ".join(["o"] * (n * 10)) + "]\n",
            "# " + "x" * (3 << 20) + "\ncodes: [{id: a, label_da: A}]\n"])
        return "big.yaml", text.encode(), []
    value = rng.choice(["9" * 5000, "2017-13-45", "1e9999", "0x" + "f" * 100, "-5", ".nan", "[1]", "{a: 1}",
                        "!!binary aGVq", "~", "true"])
    field = rng.choice(["number", "id", "label_da", "color", "parent", "terms", "version"])
    text = f"codes:\n  - id: a\n    label_da: A\n    {field}: {value}\n" if field != "version" else \
        f"version: {value}\ncodes: [{{id: a, label_da: A}}]\n"
    return "values.yaml", text.encode(), []


def _qdc(rng, corpus, outside):
    ns = "urn:QDA-XML:codebook:1.0"
    kind = rng.random()
    if kind < 0.6:
        return "mutated.qdc", mutate(rng, corpus.qdc, XML_TOKENS, 8), []
    if kind < 0.7:
        return "truncated.qdc", corpus.qdc[:rng.randrange(len(corpus.qdc))], []
    what = rng.choice(["deep", "many", "nummer", "colour", "terms", "entities"])
    if what == "entities":
        body = ("<!DOCTYPE CodeBook [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
                "<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>]>"
                f'<CodeBook xmlns="{ns}"><Codes><Code guid="50c00001-0000-4000-8000-000000000001" name="&f;"/>'
                "</Codes></CodeBook>")
        return "entities.qdc", ('<?xml version="1.0" encoding="utf-8"?>' + body).encode(), []
    codes = {"deep": lambda: _codes_xml(rng.choice([13, 200, 1000, 3000])),
             "many": lambda: _codes_xml(1, rng.choice([2_001, 10_000])),
             "nummer": lambda: _codes_xml(1, 2, description=f"Nummer: {'9' * rng.choice([13, 5000])}"),
             "colour": lambda: _codes_xml(1, 2, attrs=f' color="{rng.choice(["rgb(" + "9" * 5000 + ",1,1)", "#" + "f" * 5000])}"'),
             "terms": lambda: _codes_xml(1, 1, description="Søgeord: " + "o;" * rng.choice([20_001, 300_000]))}[what]()
    return f"{what}.qdc", f'<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="{ns}">{codes}</CodeBook>'.encode(), []


MAKERS = {"random-bytes": _random_bytes, "demo-damaged": _demo_damaged, "docx": _docx, "text": _text,
          "manifest": _manifest, "qdpx": _qdpx, "yaml": _yaml, "qdc": _qdc}


# ---------------------------------------------------------------- running one input
def _child(inp: Input, db_template: Path, db: Path, outside: Path, token: str, expected_digest: str,
           result_path: Path) -> None:
    """Runs in the forked child: the command, then the checks; writes its findings as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    outside_opened: list[str] = []
    outside_real = os.path.realpath(outside)

    def audit(event: str, args: tuple) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            target = os.fsdecode(args[0])
            if os.path.realpath(target).startswith(outside_real + os.sep):
                outside_opened.append(target)

    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)          # a killed child's WAL would replay into the copy
    shutil.copyfile(db_template, db)
    url = f"sqlite:///{db}"
    from focusqa.cli import main

    out, err = io.StringIO(), io.StringIO()
    sys.addaudithook(audit)
    began = time.monotonic()
    crash = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(inp.argv + ["--db", url])
    except BaseException:  # noqa: BLE001 - any escape is a finding
        rc, crash = -1, traceback.format_exc(limit=-4)
    seconds = time.monotonic() - began
    text = out.getvalue() + err.getvalue()
    result = {"seconds": round(seconds, 3), "rc": rc, "outside_opened": outside_opened[:3]}
    if crash or "Traceback (most recent call last)" in text:
        result["outcome"] = "traceback"
        result["detail"] = (crash or text)[-1500:]
    elif rc == 0 or any(line.startswith(("imported", "already present")) for line in text.splitlines()):
        result["outcome"] = "read"             # a folder whose good files came in, each whole
        if rc != 0:
            result.update(_refusal_checks(inp, text))
    else:
        result["outcome"] = "refused"
        result.update(_refusal_checks(inp, text))
        result["db_changed"] = db_digest(db) != expected_digest
    result["canary_seen"] = token in text or token in db_text(db)
    result_path.write_text(json.dumps(result), encoding="utf-8")


def _refusal_checks(inp: Input, text: str) -> dict:
    """Every failure is one line that names the file (or the folder it is in)."""
    failures = [line for line in text.splitlines() if line.startswith(("failed", "focusqa:"))]
    found = {"message": (failures[0] if failures else text.strip())[:300]}
    if not failures or not all(inp.name in line for line in failures):
        found["bad_message"] = True
    if "cannot be read (unexpected" in text:
        found["unexpected"] = True
    return found


def db_text(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return "\n".join(conn.iterdump())


def db_digest(db: Path) -> str:
    """Every row of every focusqa table (``store.backup.snapshot``), as one string."""
    from focusqa.store.backup import snapshot

    return repr(snapshot(f"sqlite:///{db}"))


def run_one(job: tuple) -> dict:
    """In a pool worker: make the input, fork a child to run it, and collect what it found."""
    index, family, number, cfg = job
    work = Path(cfg["work"]) / f"w{os.getpid()}"
    outside = work / "outside"          # beside the inputs' folder: reachable as ../outside/
    if not outside.exists():
        outside.mkdir(parents=True)
        (outside / "canary.txt").write_text(f"I: {cfg['token']}\n\nP1: {cfg['token']}\n", encoding="utf-8")
    folder = work / "in"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    record = {"index": index, "family": family}
    try:
        inp = make_input(_corpus(cfg), family, number, cfg["seed"], folder, outside)
    except Exception:  # noqa: BLE001 - a broken generator is the harness's bug; show it
        record.update(outcome="generator-error", detail=traceback.format_exc(limit=-3), seconds=0, peak_mb=0)
        return record
    record["name"] = inp.name
    record["argv"] = " ".join(os.path.basename(a) for a in inp.argv)
    result_path = work / "result.json"
    result_path.unlink(missing_ok=True)
    began = time.monotonic()
    pid = os.fork()
    if pid == 0:   # the child
        code = 0
        try:
            _child(inp, Path(cfg["template"]), work / "fuzz.db", outside, cfg["token"],
                   cfg["digest"], result_path)
        except BaseException:  # noqa: BLE001
            code = 3
            with contextlib.suppress(Exception):
                result_path.write_text(json.dumps({"outcome": "harness-error", "detail": traceback.format_exc()}))
        finally:
            os._exit(code)
    status = usage = None
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - began > HARD_TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.005)
    record["peak_mb"] = round(usage.ru_maxrss / 1024, 1)
    if result_path.exists():
        record.update(json.loads(result_path.read_text(encoding="utf-8")))
    else:
        record.update(outcome="killed", seconds=round(time.monotonic() - began, 3),
                      detail=f"child ended with status {status} (time or memory cap)")
    return record


_CORPUS: Corpus | None = None


def _corpus(cfg) -> Corpus:
    global _CORPUS
    if _CORPUS is None:
        gen = Path(cfg["work"]) / f"corpus{os.getpid()}"
        gen.mkdir(exist_ok=True)
        _CORPUS = Corpus(gen)
        import focusqa.cli  # noqa: F401 - warm up the imports the child would otherwise pay for
        from focusqa.cli import build_parser
        build_parser()
        import docx  # noqa: F401
    return _CORPUS


# ---------------------------------------------------------------------- the run
def plan(inputs: int) -> list[tuple[str, int]]:
    """(family, number within the family) for every input, families interleaved."""
    counts = {f: round(share * inputs) for f, share in FAMILIES.items()}
    counts["qdpx"] += inputs - sum(counts.values())
    jobs = [(f, n) for f, c in counts.items() for n in range(c)]
    random.Random(0).shuffle(jobs)      # heavy and light inputs spread over the workers
    return jobs


def template_db(work: Path) -> Path:
    """A small project with a document, a coding and a memo: what a refusal must leave alone."""
    from focusqa.ingest import parse_text
    from focusqa.store import Store

    path = work / "template.db"
    store = Store(f"sqlite:///{path}")
    _, doc = store.import_document(parse_text(TRANSCRIPT, "eksisterende.txt"), actor="fuzz")
    seg = store.segments(doc)[1]
    store.set_coding(seg.id, store.codebook().ids[0], "anna")
    store.add_memo("anna", "Et notat, der ikke må gå tabt", segment_id=seg.id)
    store.dispose()
    return path


def summarise(records: list[dict], max_seconds: float, max_mb: float) -> tuple[str, list[str]]:
    families = list(FAMILIES)
    rows, problems = [], []
    header = f"{'family':14} {'inputs':>7} {'read':>6} {'refused':>8} {'tracebk':>8} {'max s':>7} {'max MB':>7} " \
             f"{'db chg':>6} {'outside':>7}"
    for fam in families + ["all"]:
        rs = [r for r in records if fam == "all" or r["family"] == fam]
        if not rs:
            continue
        count = lambda pred: sum(1 for r in rs if pred(r))  # noqa: E731
        rows.append(f"{fam:14} {len(rs):7} {count(lambda r: r.get('outcome') == 'read'):6} "
                    f"{count(lambda r: r.get('outcome') == 'refused'):8} "
                    f"{count(lambda r: r.get('outcome') not in ('read', 'refused')):8} "
                    f"{max(r.get('seconds', 0) for r in rs):7.2f} {max(r.get('peak_mb', 0) for r in rs):7.0f} "
                    f"{count(lambda r: r.get('db_changed')):6} "
                    f"{count(lambda r: r.get('outside_opened') or r.get('canary_seen')):7}")
    for r in records:
        what = []
        if r.get("outcome") not in ("read", "refused"):
            what.append(f"{r.get('outcome')}: {r.get('detail', '')[-600:]}")
        if r.get("bad_message"):
            what.append(f"message does not name the file in one line: {r.get('message')}")
        if r.get("unexpected"):
            what.append(f"an unexpected exception, wrapped: {r.get('message')}")
        if r.get("seconds", 0) > max_seconds:
            what.append(f"took {r['seconds']:.1f} s")
        if r.get("peak_mb", 0) > max_mb:
            what.append(f"peak memory {r['peak_mb']:.0f} MB")
        if r.get("db_changed"):
            what.append("database changed although the input was refused")
        if r.get("outside_opened") or r.get("canary_seen"):
            what.append(f"read a file outside: {r.get('outside_opened')} canary in db/output: {r.get('canary_seen')}")
        if what:
            problems.append(f"#{r['index']} {r['family']} {r.get('argv', r.get('name'))}: " + " | ".join(what))
    return "\n".join([header, "-" * len(header)] + rows), problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), help="only these families")
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--max-mb", type=float, default=1536.0)
    parser.add_argument("--out", type=Path, help="one JSON line per input")
    args = parser.parse_args(argv)

    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="focusqa-fuzz-"))
    token = f"KANARIE-{random.Random(args.seed).getrandbits(64):016x}"   # the text of the canary outside
    home = os.environ.get("FOCUSQA_HOME")
    os.environ["FOCUSQA_HOME"] = str(work / "home")     # never the user's own settings
    template = template_db(work)
    cfg = {"work": str(work), "token": token, "seed": args.seed,
           "template": str(template), "digest": db_digest(template)}
    jobs = [j for j in plan(args.inputs) if not args.families or j[0] in args.families]
    records: list[dict] = []
    out = args.out.open("w", encoding="utf-8") if args.out else None
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(args.workers, maxtasksperchild=500) as pool:
            for n, record in enumerate(pool.imap_unordered(
                    run_one, [(i, fam, num, cfg) for i, (fam, num) in enumerate(jobs)], chunksize=4), 1):
                records.append(record)
                if out:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                if n % 500 == 0:
                    print(f"  {n}/{len(jobs)} inputs, {time.monotonic() - began:.0f} s", flush=True)
    finally:
        if out:
            out.close()
        shutil.rmtree(work, ignore_errors=True)
        if home is None:
            os.environ.pop("FOCUSQA_HOME", None)
        else:
            os.environ["FOCUSQA_HOME"] = home
    table, problems = summarise(records, args.max_seconds, args.max_mb)
    elapsed = time.monotonic() - began
    print(f"\nfuzz: {len(records)} inputs, seed {args.seed}, {args.workers} workers, {elapsed:.0f} s "
          f"({elapsed / 60:.1f} min)\n")
    print(table)
    slowest = sorted(records, key=lambda r: -r.get("seconds", 0))[:3]
    biggest = sorted(records, key=lambda r: -r.get("peak_mb", 0))[:3]
    print("\nslowest: " + "; ".join(f"{r.get('argv')} {r.get('seconds')} s" for r in slowest))
    print("largest: " + "; ".join(f"{r.get('argv')} {r.get('peak_mb')} MB" for r in biggest))
    if problems:
        print(f"\n{len(problems)} problems:")
        for line in problems[:40]:
            print("  " + line)
        return 1
    print("\nno problems: no traceback, every refusal one line naming the file, nothing over "
          f"{args.max_seconds:.0f} s or {args.max_mb:.0f} MB, no database change after a refusal, no outside read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
