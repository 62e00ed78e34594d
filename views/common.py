"""Shared helpers for the app pages: cached store and tagger, cached tables, i18n, coder.

Pages stay thin: they read widgets, call these helpers and ``focusqa`` functions, and
render. Caching lives here and only here: the database engine and the tagger are
cached resources (shared, read-only after construction), tables are cached data keyed
by the database URL and cleared after every write (:func:`after_write`).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

import streamlit as st

from focusqa.codebook import Code, Codebook
from focusqa.config import MACHINE_CODER, database_url
from focusqa.errors import FocusqaError, fold
from focusqa.i18n import Messages, explain_error, messages
from focusqa.store import Store

LANGUAGE_KEY = "focusqa_language"
CODER_KEY = "focusqa_coder"
BLIND_KEY = "focusqa_blind"
LANGUAGES = {"da": "Dansk", "en": "English"}

_COMMON = messages("common")


# ------------------------------------------------------------------ language
def language() -> str:
    """The UI language chosen in the sidebar: ``"da"`` (default) or ``"en"``."""
    value = st.session_state.get(LANGUAGE_KEY, "da")
    return value if value in LANGUAGES else "da"


_RELABELLED = "_focusqa_relabelled_widgets"


def relabelled(key: str, *, has_default: bool = False) -> str:
    """``key``, registered as a widget whose options are labelled in the UI language.

    The browser keeps a selectbox's, multiselect's or pills' choice as its shown label;
    after a language switch that stale label comes back and matches no option (a Danish
    "Alle" on the English page, and no turns at all on the Danish one after).
    :func:`relabel_widgets` sets each registered widget's value again when the language
    changes, so it goes to the browser with the new labels; a widget drawn with a
    ``default`` (``has_default``: the saved codes of a turn) starts from it again instead,
    as Streamlit refuses a default and a value set through the session state together.
    """
    st.session_state.setdefault(_RELABELLED, {})[key] = has_default
    return key


def choice_within(key: str, options: Sequence[Any], default: Any) -> str:
    """``key``, its session value reset to ``default`` when it is missing or no longer one of
    ``options`` (a deleted code, another project).

    A picker started this way instead of through ``index``/``default`` keeps the evaluator's
    choice across a language switch (:func:`relabelled`), as Streamlit refuses a default
    and a value set through the session state together.
    """
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return key


def relabel_widgets() -> None:
    """Set every :func:`relabelled` widget's value again, or let it start from its default
    (on a language change)."""
    for key, has_default in st.session_state.get(_RELABELLED, {}).items():
        if key not in st.session_state:
            continue
        if has_default:
            del st.session_state[key]
        else:
            st.session_state[key] = st.session_state[key]


def tr(strings: Messages, key: str, **values: Any) -> str:
    """The page's text for ``key`` in the current language (Danish as fallback).

    Every page's texts live in the one gettext catalogue (``focusqa/locale``, see
    :mod:`focusqa.i18n`); a page names its part with ``STRINGS = messages("<page>")``.
    ``values`` fill ``{placeholders}`` with ``str.format``.
    """
    text = strings.text(key, language())
    return text.format(**values) if values else text


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """A number the way the UI language writes it ("0,82" and "12.345" in Danish)."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if language() == "da":
        text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return text


SCORE_STEPS = [round(i / 20, 2) for i in range(21)]   # 0, 0,05 … 1 for score thresholds


def fmt_percent(share: float | None, decimals: int = 0) -> str:
    """A share (0..1) as a percentage in the UI language ("12 %" in Danish)."""
    if share is None:
        return "–"
    number = fmt_number(share * 100, decimals)
    return f"{number} %" if language() == "da" else f"{number}%"


_DANISH_WIDGET_CSS = """<style>
/* Streamlit's own words in its widgets, in Danish: the English text is shrunk away, the Danish shown instead. */
[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p,
[data-testid=stFileUploaderDropzoneInstructions] span,
[data-testid=stFileUploaderDropzone] > div:not([data-testid]) > span,
[role=option][data-key="__select_all__"] [data-item-hl],
[role=listbox] [role=option]:not([data-key]) > span { font-size: 0 !important; }
[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p::after { content: "Vælg fil"; }
[data-testid=stFileUploaderDropzone]:has(input[multiple]) button [data-testid=stMarkdownContainer] p::after {
  content: "Vælg filer"; }
[data-testid=stFileUploaderDropzoneInstructions] span::after { content: "Højst %(limit)s MB pr. fil"; }
[data-testid=stFileUploaderDropzone] > div:not([data-testid]) > span::after { content: "Slip filerne her"; }
[role=option][data-key="__select_all__"] [data-item-hl]::after { content: "Vælg alle viste"; }
[role=listbox] [role=option]:not([data-key]) > span::after { content: "Ingen resultater"; }
[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p::after,
[data-testid=stFileUploaderDropzoneInstructions] span::after,
[data-testid=stFileUploaderDropzone] > div:not([data-testid]) > span::after,
[role=option][data-key="__select_all__"] [data-item-hl]::after,
[role=listbox] [role=option]:not([data-key]) > span::after { font-size: 14px; }
</style>"""


def danish_widget_texts() -> None:
    """In Danish, replace the English words Streamlit puts in its widgets (file upload, select all, no results).

    Streamlit has no parameter for them, so a style sheet (sent once per run, offline,
    no script) hides them and shows the Danish words in their place.
    """
    if language() == "da":
        st.html(_DANISH_WIDGET_CSS % {"limit": st.get_option("server.maxUploadSize")})


# ------------------------------------------------------------------ resources
def current_database_url() -> str:
    """The database this app session uses (``FOCUSQA_DATABASE_URL`` or the default file)."""
    return database_url()


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> Store:
    return Store(url)


def get_store() -> Store:
    """The project database, opened (and migrated) once per URL and shared by sessions."""
    return _store_for(current_database_url())


@st.cache_resource(show_spinner=False)
def _tagger_for(url: str, codebook_version: int, refit: int) -> Any:
    from focusqa.tagging import build_tagger

    store = _store_for(url)
    return build_tagger(store.codebook(), store=store)


def get_tagger() -> Any:
    """The auto-coder for the current codebook version, built once and shared.

    A new codebook version builds a new tagger; :func:`refit_tagger` rebuilds it from
    the coders' latest confirmations.
    """
    store = get_store()
    version = load_codebook(store).version
    return _tagger_for(store.url, version, st.session_state.get("_focusqa_refit", 0))


def refit_tagger(document_id: int | None = None) -> int:
    """Rebuild the tagger from the current confirmations and re-suggest open segments.

    Without ``document_id`` every document gets new suggestions (``autocode``); with
    it only that document does, which stays fast on a project of a million words.
    Returns the number of suggestions written. Reviewed suggestions and human codings
    are left alone (the Store guarantees that).
    """
    from focusqa.tagging import autocode

    store = get_store()
    _tagger_for.clear()
    st.session_state["_focusqa_refit"] = st.session_state.get("_focusqa_refit", 0) + 1
    tagger = get_tagger()
    if document_id is None:
        written = autocode(store, tagger)
    else:
        written = suggest_document(store, tagger, document_id)
    after_write("codings")
    return written


def suggest_document(store: Store, tagger: Any, document_id: int) -> int:
    """``autocode`` for one document: new suggestions for codes nobody has decided on."""
    segments = store.segments(document_id)
    decided = {(c.segment_id, c.code_id) for c in store.codings(document_id=document_id, origin="human")
               if c.coder != MACHINE_CODER}
    suggestions = tagger.suggest(segments)
    return store.replace_suggestions({
        segment.id: [s for s in items if (segment.id, s.code_id) not in decided]
        for segment, items in zip(segments, suggestions)})


@st.cache_resource(show_spinner=False)
def warm_up() -> Any:
    """Import the auto-coder (spaCy, scikit-learn: seconds) in the background, once per server.

    Called by app.py at start, so the first visit to Kodning does not wait for it.
    """
    import threading

    def _import() -> None:
        import focusqa.tagging  # noqa: F401

    thread = threading.Thread(target=_import, name="focusqa-warm-up", daemon=True)
    thread.start()
    return thread


# ------------------------------------------------------------------ cached data
@st.cache_data(show_spinner=False)
def _documents(_store: Store, url: str) -> list:
    return _store.documents()


def load_documents(store: Store) -> list:
    """All documents (``DocumentInfo``), ordered by round, district, group, name."""
    return _documents(store, store.url)


@st.cache_data(show_spinner=False)
def _codebook(_store: Store, url: str) -> Codebook:
    return _store.codebook()


def load_codebook(store: Store) -> Codebook:
    """The current stored codebook."""
    return _codebook(store, store.url)


@st.cache_data(show_spinner=False)
def _segments(_store: Store, url: str, document_id: int | None, role: str | None) -> list:
    return _store.segments(document_id, role=role)


def load_segments(store: Store, document_id: int | None = None, *, role: str | None = None) -> list:
    """Segments (``SegmentInfo``) of one document, or of all documents."""
    return _segments(store, store.url, document_id, role)


@st.cache_data(show_spinner=False)
def _codings(_store: Store, url: str, document_id: int | None) -> list:
    return _store.codings(document_id=document_id)


def load_codings(store: Store, document_id: int | None = None) -> list:
    """Every coding (``CodingInfo``, all coders and statuses) of a document or of all."""
    return _codings(store, store.url, document_id)


@st.cache_data(show_spinner=False)
def _memos(_store: Store, url: str, document_id: int | None) -> list:
    return _store.memos(document_id=document_id)


def load_memos(store: Store, document_id: int | None = None) -> list:
    """Memos (``MemoInfo``) on a document and its segments, or all memos."""
    return _memos(store, store.url, document_id)


@st.cache_data(show_spinner=False)
def _progress(_store: Store, url: str) -> dict:
    return _store.progress()


def load_progress(store: Store) -> dict[int, dict[str, int]]:
    """Per document id: participant turns accepted / suggested / rejected / uncoded."""
    return _progress(store, store.url)




@st.cache_data(show_spinner=False)
def _coded_rounds(_store: Store, url: str) -> set[str]:
    return _store.coded_rounds()


def load_coded_rounds(store: Store) -> set[str]:
    """The rounds with at least one accepted coding, cached until the next write."""
    return _coded_rounds(store, store.url)


@st.cache_data(show_spinner=False)
def _excerpts(_store: Store, url: str, filters: tuple) -> list:
    return _store.excerpts(**dict(filters))


def load_excerpts(store: Store, **filters: Any) -> list:
    """``Store.excerpts`` with the same keyword filters, cached until the next write.

    List filters are turned into tuples so they can be part of the cache key.
    """
    key = tuple(sorted((name, tuple(value) if isinstance(value, (list, set, tuple)) else value)
                       for name, value in filters.items()))
    return _excerpts(store, store.url, key)


@st.cache_data(show_spinner=False)
def _coders(_store: Store, url: str) -> list[str]:
    return _store.coders()


def load_coders(store: Store) -> list[str]:
    """Names of the human coders who have coded anything."""
    return _coders(store, store.url)


_PAGE_CACHES: dict[str, Any] = {}


def cached(func: Callable) -> Callable:
    """``st.cache_data`` for a page's own loader ``func(_store, url, ...)``.

    Use it for analysis results computed from the store, so :func:`after_write`
    clears them with everything else (also after a coding change).
    """
    wrapped = st.cache_data(show_spinner=False)(func)
    _PAGE_CACHES[f"{func.__code__.co_filename}:{func.__qualname__}"] = wrapped
    return wrapped


def after_write(what: str = "all") -> None:
    """Forget cached tables: call after any change to the database.

    ``what="codings"`` (codings or memos changed) keeps the documents' text and the
    codebook, which a coding cannot change, so the next run stays fast on big
    projects; every page cache made with :func:`cached` is cleared either way.
    """
    if what != "codings":
        st.cache_data.clear()
        return
    for loader in (_codings, _memos, _progress, _coded_rounds, _excerpts, _coders,
                   *_PAGE_CACHES.values()):
        loader.clear()


# ------------------------------------------------------------------ coder
def coder_name() -> str:
    """The signed-in coder (set only by the sidebar's sign-in, views/coder_signin.py), or ``""``."""
    return str(st.session_state.get(CODER_KEY) or "").strip()


def require_coder() -> str:
    """The signed-in coder; without one, explain where to sign in and stop the page."""
    name = coder_name()
    if not name:
        st.info(tr(_COMMON, "need_coder"))
        st.stop()
    return name


def blind_mode() -> bool:
    """True when the coder chose not to see other coders' codes (issue 7)."""
    return bool(st.session_state.get(BLIND_KEY, False))


def visible_codings(codings: list, coder: str) -> list:
    """The codings a coder may see: in blind mode only their own and the machine's."""
    if not blind_mode():
        return codings
    return [c for c in codings if c.coder in (coder, MACHINE_CODER)]


# ------------------------------------------------------------------ codes
def code_label(code: Code | None, *, with_number: bool = True) -> str:
    """'4. Samarbejde med familiegruppe' in the UI language."""
    if code is None:
        return "?"
    label = code.label(language())
    return f"{code.number}. {label}" if with_number and code.number else label


def code_tag(code: Code, *, suffix: str = "", faded: bool = False, dashed: bool = False,
             struck: bool = False) -> str:
    """A coloured tag (inline HTML) for a code, in the codebook's colour.

    ``faded`` for codes that are not the viewer's own, ``dashed`` for open suggestions,
    ``struck`` for a suggestion the viewer rejected (so the turn shows it was decided).
    """
    colour = code.color or "#888888"
    border = "dashed" if dashed else "solid"
    style = (f"background:{colour}22;border:1px {border} {colour};color:#222;" if faded or dashed or struck
             else f"background:{colour};color:{_text_colour(colour)};")
    if struck:
        style += "text-decoration:line-through;opacity:0.75;"
    text = html_escape(code_label(code) + (f" {suffix}" if suffix else ""))
    return (f'<span style="{style}border-radius:0.6em;padding:0.05em 0.55em;margin:0 0.25em 0.2em 0;'
            f'display:inline-block;font-size:0.85em;white-space:nowrap">{text}</span>')


def _text_colour(colour: str) -> str:
    """Black or white, whichever reads better on ``colour``."""
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    try:
        r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "#000"
    return "#000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#fff"


# ------------------------------------------------------------------ errors
def error_text(error: FocusqaError) -> str:
    """The error as ``str(error)`` says it (file, line, reason), the reason in the interface
    language where the catalogue knows it (:func:`focusqa.i18n.explain_error`)."""
    reason = explain_error(error.message, language())
    if not error.path:
        return fold(reason)
    where = error.path if error.line is None else tr(_COMMON, "at_line", path=error.path, line=error.line)
    return fold(f"{where}: {reason}")


def show_error(error: FocusqaError) -> None:
    """Show a user-facing error as a message (never a traceback)."""
    st.error(tr(_COMMON, "error", message=md_escape(error_text(error))))


def show_conflict(error: FocusqaError) -> None:
    """Tell the coder that someone else changed the record; the next run shows it."""
    st.warning(tr(_COMMON, "conflict", message=md_escape(error_text(error))))


_FLASH_KEY = "_focusqa_flash"


def flash(kind: str, message: str) -> None:
    """Keep a message ("success", "info", "warning", "error") for the next run.

    Use it before ``st.rerun()`` so the user still sees what happened.
    """
    st.session_state.setdefault(_FLASH_KEY, []).append((kind, message))


def flash_conflict(error: FocusqaError) -> None:
    """:func:`show_conflict` on the next run (call ``st.rerun()`` after it)."""
    flash("warning", tr(_COMMON, "conflict", message=error_text(error)))


def show_flashes() -> None:
    """Render and forget the messages kept by :func:`flash`."""
    for kind, message in st.session_state.pop(_FLASH_KEY, []):
        getattr(st, kind)(message)


def require_documents(store: Store) -> list:
    """The documents; with none, point to the Import page and stop."""
    docs = load_documents(store)
    if not docs:
        st.info(tr(_COMMON, "no_documents"))
        st.stop()
    return docs


# ------------------------------------------------------------------ shared page pieces
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:&=])")
_HTML_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:&=\"'])")


def md_escape(text: str) -> str:
    """User text shown literally by st.markdown, captions, alerts and labels.

    Every Markdown and Streamlit sign is backslash-escaped, so no bold, list, heading,
    ``:color[...]`` directive, link or image comes from user data; the escaped ``:`` and
    ``.`` keep ``http://`` and ``www.`` from being autolinked, so the browser fetches nothing.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def html_escape(text: str) -> str:
    """User text inside an ``unsafe_allow_html`` block: HTML-escaped and Markdown-inert.

    Streamlit still parses Markdown around the HTML, so ``html.escape`` alone lets
    ``![x](http://...)`` load an image; the Markdown signs become character references.
    """
    return _HTML_SPECIAL.sub(lambda m: f"&#{ord(m.group(1))};", text)


def column_width(values: Iterable[Any], *, least: int = 80, most: int = 420) -> int:
    """A table column's width in pixels that shows its longest value whole (about 8 px a character).

    Streamlit's named widths ("medium") cut code labels and file names in half.
    """
    longest = max((len(str(v)) for v in values), default=0)
    return max(least, min(most, 8 * longest + 24))


def table_height(rows: int, *, most_rows: int = 20) -> int | str:
    """A table's height: every row up to ``most_rows`` (the default shows ten and scrolls inside)."""
    return "content" if rows <= most_rows else 35 * (most_rows + 1) + 3


def local_time(moment: datetime | None, empty: str = "") -> str:
    """A stored (UTC) time as local '25.11.2026 12:12'; ``empty`` when there is none."""
    if moment is None:
        return empty
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%d.%m.%Y %H:%M")


T = TypeVar("T")


def paginate(items: Sequence[T], key: str, page_size: int = 10) -> Iterator[T]:
    """The current page's items; after the last one, "Side x af y" and the page buttons.

    Use it as ``for item in paginate(items, key): render(item)`` so no page renders
    thousands of cards; the buttons (``st.pagination`` under ``key``) are drawn when
    the loop ends, below the items, and only when there is more than one page.
    """
    pages = max(1, -(-len(items) // page_size))
    value = st.session_state.get(key)
    page = min(max(value if isinstance(value, int) else 1, 1), pages)
    yield from items[(page - 1) * page_size:page * page_size]
    if pages > 1:
        st.caption(tr(_COMMON, "page", page=page, pages=pages))
        st.pagination(pages, key=key)


def cell_click_handler(chart_key: str, row_key: str, code_key: str, seen_key: str) -> Callable[[], None]:
    """An ``on_select`` callback: clicking a heatmap cell selects its row and code in two boxes.

    The heatmaps draw the colour and the number as two layers (selections ``cell`` and
    ``cell_number``); the one that changed since the last click (remembered under
    ``seen_key``) is the cell the user clicked.
    """
    def on_click() -> None:
        selection = (st.session_state.get(chart_key) or {}).get("selection") or {}
        seen = st.session_state.setdefault(seen_key, {})
        for name in ("cell", "cell_number"):
            points = selection.get(name) or []
            if points and points != seen.get(name):
                point = points[0]
                if point.get("row") is not None and point.get("code_id") is not None:
                    st.session_state[row_key] = point["row"]
                    st.session_state[code_key] = point["code_id"]
            seen[name] = points

    return on_click


def breakable(name: str) -> str:
    """A file name that a narrow column wraps between its parts ("2016_oest_ familiegruppe.txt")
    instead of in the middle of a word: a zero-width space after each "_" and before the "."."""
    return name.replace("_", "_\u200b").replace(".", "\u200b.")


def dark_from(shares: Sequence[float]) -> float:
    """The share from which a heatmap cell is dark enough for white text. Its colour scale
    runs from 0 to the largest share, so a cell's darkness is its share relative to that:
    where every share is small, the largest cells are dark too."""
    largest = float(max(shares)) if len(shares) else 0.0
    return 0.45 * largest if largest > 0 else 1.0


def heatmap_spec(data: Any, codebook: Codebook, codes: Sequence[str], rows: Sequence[str], row_title: str, *,
                 color: Any, text: Any, text_color: Any, tooltip: list, font_size: int) -> dict:
    """The rows × codes heatmap both analysis pages draw, as a Vega-Lite spec.

    ``data`` (a DataFrame with ``row`` and ``code_id``) gets an ``axis_label`` column:
    code labels wrapped at 16 characters ("|" splits the lines). The colour and the
    number are two layers with one click selection each (``cell``, ``cell_number``),
    which :func:`cell_click_handler` reads.
    """
    import textwrap

    import altair as alt

    wrapped = {c: "|".join(textwrap.wrap(code_label(codebook.get(c)), 16, break_long_words=False))
               for c in codes}
    data["axis_label"] = [wrapped[c] for c in data["code_id"]]
    select = alt.selection_point(name="cell", fields=["row", "code_id"], on="click", clear="dblclick")
    select_number = alt.selection_point(name="cell_number", fields=["row", "code_id"], on="click",
                                        clear="dblclick")
    base = alt.Chart(data).encode(
        x=alt.X("axis_label:N", sort=[wrapped[c] for c in codes], title=None,
                axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, '|')", labelLimit=200,
                              labelOverlap=False, orient="bottom", labelFontSize=11, labelPadding=6)),
        y=alt.Y("row:N", sort=list(rows), title=row_title,
                axis=alt.Axis(labelLimit=200, labelOverlap=False, labelFontSize=13)),
    )
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(color=color, tooltip=tooltip).add_params(select)
    number = base.mark_text(fontSize=font_size).encode(text=text, color=text_color, tooltip=tooltip) \
        .add_params(select_number)
    return (rect + number).properties(height=alt.Step(46)).to_dict()


def with_chosen_cell(spec: dict, row: Any, code_id: Any) -> dict:
    """The heatmap ``spec`` with a gold frame around the chosen (clicked) cell.

    The frame is one more layer, a copy of the colour layer drawn as an outline and
    filtered to that cell, so the cached spec stays as it is.
    """
    if row is None or code_id is None or not spec.get("layer"):
        return spec
    frame = {key: value for key, value in spec["layer"][0].items() if key not in ("params", "mark", "name")}
    frame["mark"] = {"type": "rect", "filled": False, "stroke": "#f2b705", "strokeWidth": 4}
    frame["encoding"] = {k: v for k, v in frame.get("encoding", {}).items() if k in ("x", "y")}
    frame["transform"] = [{"filter": {"and": [{"field": "row", "equal": row},
                                              {"field": "code_id", "equal": code_id}]}}]
    return {**spec, "layer": [*spec["layer"], frame]}
