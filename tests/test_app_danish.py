"""Every page in Danish: no English words from Streamlit's widgets, no "(er)" plurals, decimal commas.

AppTest sees what Python sends to the browser: labels, placeholders, help texts,
messages, table cells and number formats. The words the browser itself adds to a file
upload or a dropdown ("Upload", "Select all", "No results") are replaced by the style
sheet this test checks for, and tests/test_browser.py checks in Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from google.protobuf.descriptor import FieldDescriptor
from streamlit.testing.v1 import AppTest

from test_app_explore import build_project

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["views/overview.py", "views/import_page.py", "views/coding.py", "views/search_page.py",
         "views/themes.py", "views/rounds.py", "views/agreement_page.py", "views/codebook_page.py",
         "views/export_page.py"]
# Streamlit's English defaults, English words in Danish text ("n/a", the query word "OR", the role
# "reviewer"), and "fil(er)"-style plurals.
ENGLISH = re.compile(r"Choose options|Choose an option|Browse files|Drag and drop|Select all|No results|"
                     r"per file|\b\w+\((?:er|e|r|s)\)|Opdatér|Interviewerens|focusqa's|\bn/a\b|\bOR\b|reviewer:")
POINT_DECIMAL = re.compile(r"(?<![\d.,:/])\d+(?:\.\d+)+(?![\d])")
THOUSANDS_OR_DATE = r"[1-9]\d{0,2}(\.\d{3})+|\d\d\.\d\d\.\d{4}"    # "1.000" and "02.12.2026" are Danish
SHOWN_FIELDS = {"body", "label", "help", "placeholder", "options", "value", "default", "caption", "text"}
TABLES = ("dataframe", "data_editor", "arrow_data_frame", "arrow_table")


@pytest.fixture
def project(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'danish.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = build_project(url)
    segments = [s for s in store.segments() if s.role == "participant"]
    for segment in segments[:2]:                       # one turn with one memo, one with two
        store.add_memo("anne", "Godt citat.", segment_id=segment.id)
    store.add_memo("bo-coder", "Enig.", segment_id=segments[1].id)
    yield store
    store.dispose()


def _elements(node):
    """Every element and block under ``node`` in AppTest's tree."""
    if getattr(node, "proto", None) is not None:
        yield node
    for child in getattr(node, "children", {}).values():
        yield from _elements(child)


def _shown_strings(message) -> list[str]:
    """The text fields of an element that the browser shows (labels, bodies, help, options ...)."""
    out = []
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in (value if field.is_repeated else [value]):
                out += _shown_strings(item)
        elif field.type == FieldDescriptor.TYPE_STRING and field.name in SHOWN_FIELDS:
            out += list(value) if field.is_repeated else [value]
    return out


def _page_text(at: AppTest) -> str:
    """All text the page shows, HTML tags and style sheets left out, table cells and headers included."""
    parts = []
    for element in _elements(at._tree):
        if element.type in TABLES:
            frame = element.value
            parts += [str(c) for c in frame.columns]
            parts += [str(v) for c in frame.columns if frame[c].dtype == object or str(frame[c].dtype) == "str"
                      for v in frame[c]]
        else:
            parts += _shown_strings(element.proto)
    return re.sub(r"<style.*?</style>|<[^>]+>", " ", "\n".join(parts), flags=re.S)


def _unformatted_float_columns(at: AppTest) -> list[str]:
    """Float columns a table would show with a decimal point (no format, or one with decimals)."""
    out = []
    for element in _elements(at._tree):
        if element.type not in TABLES:
            continue
        config = json.loads(element.proto.columns or "{}")
        frame = element.value
        for column in frame.columns:
            if frame[column].dtype.kind != "f" or frame[column].isna().all():
                continue
            fmt = (config.get(str(column), {}).get("type_config") or {}).get("format", "")
            if not re.fullmatch(r"%(\.0f|d).*", fmt) and not (frame[column].dropna() % 1 == 0).all():
                out.append(str(column))
    return out


def _visit(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["focusqa_coder"] = "anne"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _states(at: AppTest, page: str):
    """The page as it first opens, and with the parts that only show after a choice."""
    yield at
    if page == "views/coding.py":
        yield at.segmented_control(key="coding_view").set_value("table").run()
        at.segmented_control(key="coding_view").set_value("read").run()
        edit = next(b for b in at.button if (b.key or "").startswith("edit_"))
        yield edit.click().run()
    elif page == "views/agreement_page.py":
        yield at.toggle(key="agreement_machine").set_value(True).run()
    elif page == "views/import_page.py":
        at.file_uploader[0].set_value([("a.txt", b"Interviewer: Hej?\nMette: Hej.\n", "text/plain"),
                                       ("b.txt", b"Interviewer: Og?\nLars: Ja.\n", "text/plain")])
        yield at.run()
    elif page == "views/search_page.py":
        yield at.text_input(key="search_query").input("familiegruppen").run()


@pytest.mark.parametrize("page", PAGES)
def test_danish_pages_have_no_english_widget_words_or_bracket_plurals(project, page) -> None:
    at = _visit(page)
    for state in _states(at, page):
        assert not state.exception, [e.value for e in state.exception]
        text = _page_text(state)
        assert not ENGLISH.findall(text), f"{page}: {sorted(set(ENGLISH.findall(text)))}"
        numbers = [n for n in POINT_DECIMAL.findall(text) if not re.fullmatch(THOUSANDS_OR_DATE, n)]
        assert not numbers, f"{page}: numbers with a decimal point: {numbers[:10]}"
        assert not _unformatted_float_columns(state), f"{page}: {_unformatted_float_columns(state)}"
        for widget in list(state.multiselect):
            assert widget.proto.placeholder, f"{page}: multiselect {widget.label!r} would say 'Choose options'"
        assert not [n.label for n in state.number_input if "." in n.proto.format], \
            f"{page}: a number box shows a decimal point"
        style = " ".join(str(h.proto.body) for h in state.get("html"))
        assert "Vælg filer" in style and "Ingen resultater" in style and "Vælg alle viste" in style


def test_english_pages_get_no_danish_style_sheet(project) -> None:
    at = _visit("views/import_page.py")
    at.sidebar.segmented_control(key="_widget_focusqa_language").set_value("en").run()
    assert not at.exception
    assert "Vælg filer" not in " ".join(str(h.proto.body) for h in at.get("html"))


def test_the_chosen_heatmap_cell_is_framed(project) -> None:
    """Temaer: the cell chosen (by a click or the two boxes) gets a gold frame in the matrix."""
    at = _visit("views/themes.py")
    at.selectbox(key="themes_round").select("2016").run()
    at.selectbox(key="themes_row").select("Øst").run()
    at.selectbox(key="themes_code").set_value("tidlig-indsats").run()
    at.run()   # the matrix is drawn above the boxes: the next run shows the choice
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    frames = [layer for layer in spec["layer"] if layer["mark"].get("stroke") == "#f2b705"]
    assert len(frames) == 1 and not {"name", "params"} & set(frames[0]), "a second view name breaks the chart"
    assert frames[0]["transform"] == [{"filter": {"and": [{"field": "row", "equal": "Øst"},
                                                          {"field": "code_id", "equal": "tidlig-indsats"}]}}]


def test_sammenlign_runder_frames_its_chosen_cell_from_the_start(project) -> None:
    at = _visit("views/rounds.py")
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    (frame,) = [layer for layer in spec["layer"] if layer["mark"].get("stroke") == "#f2b705"]
    chosen = frame["transform"][0]["filter"]["and"]
    assert chosen == [{"field": "row", "equal": at.selectbox(key="rounds_row").value},
                      {"field": "code_id", "equal": at.selectbox(key="rounds_code").value}]


def test_codebook_overview_shows_every_definition_whole(project) -> None:
    """A static table wraps its cells; a data grid cut the definitions at the column's edge."""
    at = _visit("views/codebook_page.py")
    assert not at.exception
    table = at.table[0].value
    codebook = project.codebook()
    assert list(table["Definition"]) == [c.definition for c in codebook.codes]
    assert max(len(c.definition) for c in codebook.codes) > 100        # the ones that were cut


@pytest.mark.parametrize("page, column", [("views/overview.py", "Fil"), ("views/agreement_page.py", "Kode")])
def test_label_columns_are_wide_enough_for_their_longest_value(project, page, column) -> None:
    """Code labels and file names are read whole, not cut at Streamlit's 'medium' width."""
    at = _visit(page)
    tables = [t for t in at.dataframe if column in t.value.columns]
    assert tables, f"{page}: no table with a {column} column"
    for table in tables:
        width = json.loads(table.proto.columns or "{}").get(column, {}).get("width")
        longest = max(len(str(v)) for v in table.value[column])
        assert isinstance(width, int) and width >= 7 * longest, f"{page}: {column} {width} px for {longest} characters"
