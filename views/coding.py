"""Kodning: read a transcript turn by turn, review the machine's suggestions, code, write memos.

Two views of the same segments: "Læs og kod" (turns with coloured tags, suggestions
with their evidence, accept/reject, words coded by selecting them, an editor for one turn
at a time, keyboard shortcuts) and "Hurtig tabel" (an editable table with one checkbox
column per code). Every action is written at once through the Store (audited,
version-checked); a conflict shows a warning and the current state. Pages of 25 turns
keep very long documents fast, and each turn is a fragment: deciding on a suggestion or
coding words reruns that turn only, not the page.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import pandas as pd
import streamlit as st

from focusqa.codebook import Codebook
from focusqa.config import MACHINE_CODER
from focusqa.errors import ConflictError, FocusqaError
from focusqa.i18n import messages
from focusqa.spans import code_selection, runs, turn_spans
from focusqa.store.reconcile import FINAL_CODER
from focusqa.types import CodeSuggestion, turn_number
from views.common import (after_write, blind_mode, code_label, code_tag, error_text, flash, flash_conflict, fmt_number,
                          get_store, html_escape, language, load_codebook, load_codings, load_documents, load_memos,
                          load_segments, md_escape, refit_tagger, relabelled, require_coder, require_documents,
                          show_flashes, tr)
from views.components import coded_selection, coding_keys, turn_text
from views.learning_panel import render_anchor_action, render_learning_panel
from views.place import Place, write_place

PAGE_SIZE = 25
REFIT_EVERY = 10
DOC_KEY = "coding_document"
ACTIVE_KEY = "coding_active_segment"
ACCEPTS_KEY = "coding_accepts_since_refit"
EDITOR_GEN_KEY = "coding_editor_generation"
PAGE_KEY = "coding_page"
PLACE_KEY = "coding_place"              # the Place last written to the address
HIGHLIGHT_KEY = "coding_highlight_turn"  # the turn a link pointed at (turn number as shown)
WANTED_PAGE_KEY = "coding_wanted_page"   # (page, force) for paginate, from the address or the session
SCROLL_KEY = "coding_scroll_to_turn"
FOCUS_KEY = "coding_focus_segment"       # a turn chosen in the learning panel (paginate shows its page)
FILTER_KEYS = {"codes": "coding_filter_codes", "statuses": "coding_filter_status", "role": "coding_filter_role",
               "view": "coding_view"}
ROLES = ("all", "participant", "moderator")
TURNS_KEY = "_coding_turn_views"   # segment id -> the latest SegmentView of each turn shown
SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+[\"»”)]*|$)")

STRINGS = messages("coding")

STATUS_KEYS = ("open", "mine", "rejected", "uncoded")


@dataclass
class SegmentView:
    """One segment as this coder sees it."""

    segment: Any
    mine: dict[str, Any] = field(default_factory=dict)
    suggestions: list[Any] = field(default_factory=list)
    others: list[Any] = field(default_factory=list)
    memos: list[Any] = field(default_factory=list)

    @property
    def accepted(self) -> list[Any]:
        return [c for c in self.mine.values() if c.status == "accepted"]

    @property
    def statuses(self) -> set[str]:
        out = set()
        if self.suggestions:
            out.add("open")
        if self.accepted:
            out.add("mine")
        if any(c.status == "rejected" for c in self.mine.values()):
            out.add("rejected")
        if not self.suggestions and not self.accepted and not self.others:
            out.add("uncoded")
        return out

    @property
    def codes(self) -> set[str]:
        return ({c.code_id for c in self.accepted} | {c.code_id for c in self.suggestions}
                | {c.code_id for c in self.others})


def build_views(segments: list, codings: list, memos: list, me: str, blind: bool) -> list[SegmentView]:
    """Group codings and memos by segment, from the point of view of coder ``me``.

    A machine suggestion is open until someone decides on it; in blind mode it stays
    open for ``me`` until ``me`` decides (each coder reviews on their own), and other
    coders' codes and memos are hidden.
    """
    views = {s.id: SegmentView(s) for s in segments}
    machine: list = []
    for c in codings:
        view = views.get(c.segment_id)
        if view is None:
            continue
        if c.coder == me:
            view.mine[c.code_id] = c
        elif c.coder == MACHINE_CODER:
            machine.append(c)
        elif not blind and c.status == "accepted":
            view.others.append(c)
    for c in machine:
        view = views[c.segment_id]
        if c.code_id not in view.mine and (blind or c.status == "suggested"):
            view.suggestions.append(c)
    for view in views.values():
        view.suggestions.sort(key=lambda c: -(c.score or 0))
    for m in memos:
        if m.segment_id in views and (not blind or m.author == me):
            views[m.segment_id].memos.append(m)
    return list(views.values())


def filter_views(views: list[SegmentView], codes: list[str], statuses: list[str],
                 role: str) -> list[SegmentView]:
    """The segments matching all chosen filters (empty choice = no filter)."""
    out = []
    for view in views:
        if role != "all" and view.segment.role != role:
            continue
        if codes and not view.codes & set(codes):
            continue
        if statuses and not view.statuses & set(statuses):
            continue
        out.append(view)
    return out


def sentences(text: str) -> list[tuple[int, int, str]]:
    """Sentences of a turn with their offsets inside the turn's text."""
    out = []
    for match in SENTENCE.finditer(text):
        chunk = match.group(0)
        stripped = chunk.strip()
        if not stripped:
            continue
        start = match.start() + (len(chunk) - len(chunk.lstrip()))
        out.append((start, start + len(stripped), stripped))
    return out


# ------------------------------------------------------------------ actions
def _run(action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run one Store call from a callback; conflicts and errors become messages."""
    try:
        result = action()
    except ConflictError as error:
        flash_conflict(error)
        after_write("codings")
        return False, None
    except FocusqaError as error:
        flash("error", error_text(error))
        return False, None
    after_write("codings")
    return True, result


def _label(codebook: Codebook, code_id: str) -> str:
    try:
        return code_label(codebook.get(code_id))
    except KeyError:
        return code_id


def refresh_turn(segment_id: int) -> None:
    """Read one turn's codings and memos again after a write, for its fragment's rerun.

    A turn's own actions rerun only that turn (``render_turn`` is a fragment), so the
    page's views, built once per full run, would show the turn as it was.
    """
    shown = st.session_state.get(TURNS_KEY) or {}
    view = shown.get(segment_id)
    if view is None:
        return
    store = get_store()
    shown[segment_id] = build_views([view.segment], store.codings(segment_ids=[segment_id]),
                                    store.memos(segment_ids=[segment_id]), require_coder(), blind_mode())[0]


def forget_editor(segment_id: int | None) -> None:
    """Let an open turn editor start again from the saved codes after a write, so that its
    box never holds a state the turn no longer has."""
    st.session_state.pop(f"codes_{segment_id}", None)
    st.session_state.pop(f"codes_{segment_id}_start", None)


def on_review(segment_id: int, code_id: str, decision: str, version: int, label: str) -> None:
    """Accept or reject a machine suggestion; every REFIT_EVERY accepts refit the model."""
    store, me = get_store(), require_coder()
    ok, _ = _run(lambda: store.review(segment_id, code_id, me, decision, expected_version=version))
    refresh_turn(segment_id)
    forget_editor(segment_id)
    if not ok:
        return
    short = label if len(label) <= 32 else label[:31].rstrip() + "…"   # a toast has room for one short line
    st.toast(tr(STRINGS, "accepted" if decision == "accepted" else "rejected", code=md_escape(short)))
    if decision == "accepted":
        count = st.session_state.get(ACCEPTS_KEY, 0) + 1
        st.session_state[ACCEPTS_KEY] = count
        if count >= REFIT_EVERY:
            on_refit(st.session_state.get(DOC_KEY))
            st.rerun()   # new suggestions on every turn: the whole page, not this turn only


def on_refit(document_id: int | None = None) -> None:
    """Refit the model; ``document_id`` re-suggests that document only (the automatic refit)."""
    st.session_state[ACCEPTS_KEY] = 0
    with st.spinner(tr(STRINGS, "refitting")):
        ok, written = _run(lambda: refit_tagger(document_id))
    if ok:
        flash("success", tr(STRINGS, "refitted_doc" if document_id else "refitted", n=fmt_number(written)))


def on_undo() -> None:
    store, me = get_store(), require_coder()
    ok, entry = _run(lambda: store.undo_last(me))
    if not ok:
        return
    if entry is None:
        flash("info", tr(STRINGS, "nothing_to_undo"))
        return
    state = entry.before or entry.after or {}
    # an open editor shows the undone state
    forget_editor(int(entry.entity_id) if entry.action == "code-turn" else state.get("segment_id"))
    flash("success", undo_message(store, entry))


def undo_message(store, entry) -> str:
    """'Fortrudt: accepten af Ad. 2: … på tur 24 i 2017_vest.txt.' – what the undo took back."""
    if entry.action == "code-turn":
        own = [(b, a) for b, a in zip(entry.before["codings"], entry.after["codings"])
               if (b or a)["coder"] == entry.actor]
        if len(own) != 1:
            segment = store.segments(ids=[int(entry.entity_id)])[0]
            return tr(STRINGS, "undone_turn", n=segment.turn_number, doc=md_escape(segment.document))
        before, after = own[0]   # one code saved from the box: say which, as for a single change
        entry = replace(entry, action="code" if before is None else "uncode" if after is None else "recode",
                        before=before, after=after)
    state = entry.before or entry.after or {}
    segments = store.segments(ids=[state["segment_id"]]) if state.get("segment_id") else []
    if not segments or not state.get("code_id"):
        return tr(STRINGS, "undone")
    what, after = entry.action, entry.after or {}
    if what == "review" or (what in ("code", "recode") and after.get("score") is not None):
        what = "rejected" if after.get("status") == "rejected" else "accepted"   # a decision on a suggestion
    elif what in ("code", "recode") and after.get("status") == "rejected":
        what = "rejected"
    code = store.codebook().get(state["code_id"]) if state["code_id"] in store.codebook().ids else None
    return tr(STRINGS, "undone_what", what=tr(STRINGS, f"undo_{what}"),
              code=md_escape(code_label(code) if code else state["code_id"]), n=segments[0].turn_number,
              doc=md_escape(segments[0].document))


def on_toggle_edit(segment_id: int) -> None:
    current = st.session_state.get(ACTIVE_KEY)
    if current is not None:
        save_unsaved_edits(current)
    st.session_state[ACTIVE_KEY] = None if current == segment_id else segment_id
    st.rerun()   # the whole page: the editor that was open on another turn closes


def _memo_key(view: SegmentView, me: str) -> tuple[str, str]:
    """The open editor's memo box and the text the coder's memo has now."""
    own = [m for m in view.memos if m.author == me]
    return f"memo_{view.segment.id}_{own[-1].version if own else 0}", own[-1].text if own else ""


def save_unsaved_edits(segment_id: int) -> None:
    """Save what the coder picked or wrote in a turn editor that closes without a click on
    Gem (another turn's Rediger, Luk, another interview): work is never dropped silently."""
    view = (st.session_state.get(TURNS_KEY) or {}).get(segment_id)
    if view is None:
        return
    codes_key = f"codes_{segment_id}"
    whole = [c.code_id for c in view.accepted if c.start is None]
    codes_changed = codes_key in st.session_state and \
        set(st.session_state[codes_key] or []) != set(st.session_state.get(f"{codes_key}_start", whole))
    memo_key, memo_text = _memo_key(view, require_coder())
    memo_changed = memo_key in st.session_state and \
        str(st.session_state[memo_key] or "").strip() != memo_text.strip()
    if codes_changed:
        on_save_codes(view, codes_key)
    if memo_changed:
        on_save_memo(view, memo_key)
    if codes_changed or memo_changed:
        flash("info", tr(STRINGS, "saved_on_close", n=view.segment.turn_number))


def on_save_codes(view: SegmentView, widget_key: str) -> None:
    """Save what the coder changed in the box, as one step (one undo): the codes ticked since
    it opened are added, those unticked are removed. A code saved on the turn meanwhile (a
    suggestion accepted beside the open box) stays: the box is not the whole truth about the turn."""
    store, me = get_store(), require_coder()
    wanted = set(st.session_state.get(widget_key) or [])
    whole = {c.code_id: c for c in view.accepted if c.start is None}
    shown = set(st.session_state.get(f"{widget_key}_start", whole))
    forget_editor(view.segment.id)
    add = sorted(wanted - shown - set(whole))
    remove = sorted((shown - wanted) & set(whole))
    seen = {(MACHINE_CODER, s.code_id): s.version for s in view.suggestions if s.code_id in add}
    seen |= {(me, c): view.mine[c].version if c in view.mine else 0 for c in add}
    seen |= {(me, c): whole[c].version for c in remove}
    ok, _ = _run(lambda: store.save_turn_codes(view.segment.id, me, add=add, remove=remove, seen=seen))
    refresh_turn(view.segment.id)
    if ok:
        flash("success", tr(STRINGS, "saved"))


def on_save_partial(view: SegmentView, code_key: str, sentences_key: str) -> None:
    store, me = get_store(), require_coder()
    chosen = st.session_state.get(sentences_key) or []
    code_id = st.session_state.get(code_key)
    if not chosen or not code_id:
        flash("warning", tr(STRINGS, "choose_sentences"))
        return
    parts = sentences(view.segment.text)
    start = view.segment.start + min(parts[i][0] for i in chosen)
    end = view.segment.start + max(parts[i][1] for i in chosen)
    if len(set(chosen)) == len(parts):
        start = end = None   # every sentence: the whole turn, not a part of it
    existing = view.mine.get(code_id)
    ok, _ = _run(lambda: store.set_coding(view.segment.id, code_id, me, start=start, end=end,
                                          expected_version=existing.version if existing else 0))
    refresh_turn(view.segment.id)
    forget_editor(view.segment.id)
    if ok:
        flash("success", tr(STRINGS, "partial_saved", code=md_escape(_label(load_codebook(store), code_id))))


def on_span_coded(segment_id: int, component_key: str) -> None:
    """Words selected in a turn and a code chosen: code those words (one step, undoable)."""
    choice = coded_selection(component_key) or {}
    view = (st.session_state.get(TURNS_KEY) or {}).get(segment_id)
    if view is None or not all(isinstance(choice.get(k), int) for k in ("start", "end")):
        return
    store, me = get_store(), require_coder()
    code_id = str(choice.get("code"))
    existing = view.mine.get(code_id)
    ok, _ = _run(lambda: code_selection(store, view.segment, code_id, me, choice["start"], choice["end"],
                                        expected_version=existing.version if existing else 0))
    refresh_turn(segment_id)
    forget_editor(segment_id)
    if not ok:
        return
    label = md_escape(_label(load_codebook(store), code_id))
    if existing is not None and existing.status == "accepted":
        before = tr(STRINGS, "span_whole" if existing.start is None else "span_part")
        st.toast(tr(STRINGS, "span_moved", code=label, before=before))
    else:
        st.toast(tr(STRINGS, "span_saved", code=label))


def on_save_memo(view: SegmentView, memo_key: str) -> None:
    store, me = get_store(), require_coder()
    text = str(st.session_state.get(memo_key) or "").strip()
    own = [m for m in view.memos if m.author == me]
    if not text and not own:
        flash("info", tr(STRINGS, "memo_empty"))
        return
    if own:
        memo = own[-1]
        action = (lambda: store.update_memo(memo.id, text, me, expected_version=memo.version)) if text \
            else (lambda: store.delete_memo(memo.id, me))
    else:
        action = lambda: store.add_memo(me, text, segment_id=view.segment.id)
    ok, _ = _run(action)
    refresh_turn(view.segment.id)
    if ok:
        flash("success", tr(STRINGS, "memo_saved"))


# ------------------------------------------------------------------ rendering
def suggestion_text(coding: Any, codebook: Codebook, *, named: bool = True) -> str:
    """The suggestion in plain words: code (unless ``named`` is False, beside its chip), score and
    evidence (via focusqa.tagging.describe)."""
    try:
        code = codebook.get(coding.code_id)
    except KeyError:
        code = None
    suggestion = CodeSuggestion(coding.code_id, code.number if code else None,
                                code.label(language()) if code else coding.code_id,
                                float(coding.score or 0.0), dict(coding.evidence or {}))
    try:
        from focusqa.tagging import describe
    except ImportError:  # auto-coding not installed: the score alone still helps
        return tr(STRINGS, "score", label=suggestion.label, score=fmt_number(suggestion.score, 2))
    return describe(suggestion, codebook, language(), named=named)


def text_runs(view: SegmentView, codebook: Codebook) -> list[list[Any]]:
    """The turn's text for the turn_text component: ``[start, end, colour, title]`` per stretch.

    Passages coded on part of the turn (yours and, unless blind, the other coders') get
    the first covering code's colour and every covering code's label as the title.
    """
    spans = turn_spans(view.segment, view.accepted + view.others)
    out: list[list[Any]] = []
    for run in runs(len(view.segment.text), spans):
        if not run.keys:
            out.append([run.start, run.end, None, ""])
            continue
        title = ", ".join(_label(codebook, c.code_id) for c in run.keys)
        out.append([run.start, run.end, _colour(codebook, run.keys[0].code_id), title])
    return out


def menu_codes(codebook: Codebook) -> list[dict[str, str]]:
    """The codes offered for selected words, in codebook order (the first nine have keys 1–9)."""
    return [{"id": code.id, "label": code_label(code), "colour": code.color or "#888888"}
            for code in codebook.codes]


def _escape(text: str) -> str:
    return html_escape(text).replace("\n", "<br>")


def _colour(codebook: Codebook, code_id: str) -> str:
    try:
        return codebook.get(code_id).color or "#888888"
    except KeyError:
        return "#888888"


def _tags_html(view: SegmentView, codebook: Codebook) -> str:
    tags = []
    for c in view.accepted:
        code = _safe_code(codebook, c.code_id)
        if code is not None:
            tags.append(code_tag(code, suffix=f"({tr(STRINGS, 'part')})" if c.start is not None else ""))
    for c in view.others:
        code = _safe_code(codebook, c.code_id)
        if code is not None:
            who = tr(STRINGS, "reconciled") if c.coder == FINAL_CODER else tr(STRINGS, "by", coder=c.coder)
            tags.append(code_tag(code, suffix=f"– {who}", faded=True))
    for c in view.mine.values():
        code = _safe_code(codebook, c.code_id) if c.status == "rejected" else None
        if code is not None:
            tags.append(code_tag(code, suffix=f"({tr(STRINGS, 'rejected_tag')})", struck=True))
    return "".join(tags)


def _safe_code(codebook: Codebook, code_id: str):
    try:
        return codebook.get(code_id)
    except KeyError:
        return None


def render_read(shown: list[SegmentView], codebook: Codebook) -> None:
    """"Læs og kod": the keyboard shortcuts and their help, then each turn as its own fragment."""
    st.session_state[TURNS_KEY] = {view.segment.id: view for view in shown}
    coding_keys()
    st.caption(tr(STRINGS, "keys"))
    for view in shown:
        render_turn(view, codebook)


@st.fragment
def render_turn(view: SegmentView, codebook: Codebook) -> None:
    """One speaker turn: who speaks, the codes as coloured tags, the text, the suggestions.

    A fragment: its buttons and the word selection rerun this turn alone, from the view
    ``refresh_turn`` keeps current; messages of those actions are shown in the turn.
    """
    view = (st.session_state.get(TURNS_KEY) or {}).get(view.segment.id, view)
    show_flashes()
    seg = view.segment
    parts = [f"<b>{_escape(seg.speaker or '?')}</b>", tr(STRINGS, f"role_{seg.role}"),
             tr(STRINGS, "turn", n=turn_number(seg.turn))]
    if seg.timestamp:
        parts.append(_escape(seg.timestamp))
    if view.memos:
        parts.append(tr(STRINGS, "memo_count" if len(view.memos) == 1 else "memo_count_plural",
                               n=len(view.memos)))
    tags = _tags_html(view, codebook)
    head = (f'<div style="font-size:0.9em;margin-bottom:0.2em">{" · ".join(parts)}</div>'
            + (f"<div>{tags}</div>" if tags else ""))
    with st.container(border=True, key=f"turn_{seg.id}"):
        left, right = st.columns([9, 1], vertical_alignment="top")
        left.markdown(head, unsafe_allow_html=True)
        with left:
            span_key = f"span_{seg.id}"
            turn_text(span_key, seg.text, text_runs(view, codebook), menu_codes(codebook),
                      muted=seg.role == "moderator",
                      strings={"menu": tr(STRINGS, "span_menu"), "hint": tr(STRINGS, "span_hint")},
                      on_coded=on_span_coded, args=(seg.id, span_key))
        active = st.session_state.get(ACTIVE_KEY) == seg.id
        right.button(tr(STRINGS, "close" if active else "edit"), key=f"edit_{seg.id}",
                     help=tr(STRINGS, "edit_help"), on_click=on_toggle_edit, args=(seg.id,),
                     type="tertiary", icon=":material/expand_less:" if active else ":material/edit:")
        for suggestion in view.suggestions:
            render_suggestion(view, suggestion, codebook)
        if active:
            render_editor(view, codebook)


def render_suggestion(view: SegmentView, suggestion: Any, codebook: Codebook) -> None:
    label = _label(codebook, suggestion.code_id)
    code = _safe_code(codebook, suggestion.code_id)
    cols = st.container(key=f"suggestion_{view.segment.id}_{suggestion.code_id}").columns(
        [5, 2], vertical_alignment="center")
    tag = code_tag(code, dashed=True) if code is not None else html_escape(label)
    cols[0].markdown(f"{tag} <span style='font-size:0.9em;color:#444'>"
                     f"{_escape(suggestion_text(suggestion, codebook, named=code is None))}</span>",
                     unsafe_allow_html=True)
    key = f"{view.segment.id}_{suggestion.code_id}"
    buttons = cols[1].container(horizontal=True, horizontal_alignment="right")
    buttons.button(tr(STRINGS, "accept"), key=f"accept_{key}", icon=":material/check:",
                   help=tr(STRINGS, "accept_help", code=md_escape(label)), on_click=on_review,
                   args=(view.segment.id, suggestion.code_id, "accepted", suggestion.version, label))
    buttons.button(tr(STRINGS, "reject"), key=f"reject_{key}", icon=":material/close:",
                   help=tr(STRINGS, "reject_help", code=md_escape(label)), on_click=on_review,
                   args=(view.segment.id, suggestion.code_id, "rejected", suggestion.version, label))


def render_editor(view: SegmentView, codebook: Codebook) -> None:
    """Tools for one turn: whole-turn codes, codes on chosen sentences, memo."""
    seg = view.segment
    ids = codebook.ids
    st.divider()
    codes_key = f"codes_{seg.id}"
    current = [c.code_id for c in view.accepted if c.start is None]
    if codes_key not in st.session_state:   # the box opens on the saved codes: remember them
        st.session_state[f"{codes_key}_start"] = current
    st.multiselect(tr(STRINGS, "my_codes"), ids, default=current, key=relabelled(codes_key, has_default=True),
                   format_func=lambda c: _label(codebook, c), help=tr(STRINGS, "my_codes_help"),
                   placeholder=tr(STRINGS, "choose_codes"), select_all=False)
    st.button(tr(STRINGS, "save_codes"), key=f"save_codes_{seg.id}", on_click=on_save_codes,
              args=(view, codes_key), type="primary")
    render_anchor_action(seg.id, seg.text, codebook, (current or [None])[0])
    parts = sentences(seg.text)
    if len(parts) > 1:
        st.markdown(f"**{tr(STRINGS, 'partial')}**")
        cols = st.columns([2, 5])
        code_key, sentences_key = f"partial_code_{seg.id}", f"partial_sentences_{seg.id}"
        cols[0].selectbox(tr(STRINGS, "partial_code"), ids, key=relabelled(code_key),
                          format_func=lambda c: _label(codebook, c))
        cols[1].multiselect(tr(STRINGS, "sentences"), list(range(len(parts))), key=sentences_key,
                            format_func=lambda i: parts[i][2], help=tr(STRINGS, "sentences_help"),
                            placeholder=tr(STRINGS, "choose_sentences_ph"), select_all=False)
        st.button(tr(STRINGS, "save_partial"), key=f"save_partial_{seg.id}", on_click=on_save_partial,
                  args=(view, code_key, sentences_key))
    me = require_coder()
    others = [m for m in view.memos if m.author != me]
    memo_key, memo_text = _memo_key(view, me)
    st.text_area(tr(STRINGS, "memo"), value=memo_text, key=memo_key,
                 help=tr(STRINGS, "memo_help"), height=90)
    st.button(tr(STRINGS, "save_memo"), key=f"save_memo_{seg.id}", on_click=on_save_memo,
              args=(view, memo_key))
    if others:
        st.caption(tr(STRINGS, "memos_others"))
        for memo in others:
            st.markdown(f"> {md_escape(memo.text)}  \n— {md_escape(memo.author)}")


# ------------------------------------------------------------------ quick table
def table_frame(views: list[SegmentView], codebook: Codebook) -> pd.DataFrame:
    """One row per segment, one boolean column per code: ticked if accepted or suggested."""
    rows = []
    for view in views:
        ticked = {c.code_id for c in view.accepted} | {c.code_id for c in view.suggestions}
        row = {
            tr(STRINGS, "col_turn"): turn_number(view.segment.turn),
            tr(STRINGS, "col_speaker"): view.segment.speaker or "",
            tr(STRINGS, "col_text"): view.segment.text,
            tr(STRINGS, "col_waiting"): ", ".join(
                f"{_safe_code(codebook, s.code_id).number or s.code_id} ({fmt_number(s.score or 0, 2)})"
                if _safe_code(codebook, s.code_id) else s.code_id for s in view.suggestions),
        }
        for code in codebook.codes:
            row[code_label(code)] = code.id in ticked
        # A coding of a marked stretch is ticked too; this column says it covers part of the turn
        # (after the codes: on a laptop screen the codes' ticks come first).
        row[tr(STRINGS, "col_partly")] = ", ".join(
            str(_safe_code(codebook, c.code_id).number or c.code_id) if _safe_code(codebook, c.code_id)
            else c.code_id for c in view.accepted if c.start is not None)
        rows.append(row)
    return pd.DataFrame(rows)


def table_changes(views: list[SegmentView], codebook: Codebook, before: pd.DataFrame,
                  after: pd.DataFrame, accept_rest: bool) -> list[tuple[SegmentView, str, bool]]:
    """(segment, code, ticked) for each changed cell; with ``accept_rest`` also untouched suggestions."""
    changes = []
    for position, view in enumerate(views):
        for code in codebook.codes:
            column = code_label(code)
            old, new = bool(before.iloc[position][column]), bool(after.iloc[position][column])
            if old != new:
                changes.append((view, code.id, new))
            elif accept_rest and new and any(s.code_id == code.id for s in view.suggestions):
                changes.append((view, code.id, True))
    return changes


def apply_change(view: SegmentView, code_id: str, ticked: bool, me: str) -> bool:
    """Write one cell: review a suggestion, add a coding, or remove the coder's coding."""
    store = get_store()
    suggestion = next((s for s in view.suggestions if s.code_id == code_id), None)
    mine = view.mine.get(code_id)
    if suggestion is not None:
        decision = "accepted" if ticked else "rejected"
        return _run(lambda: store.review(view.segment.id, code_id, me, decision,
                                         expected_version=suggestion.version))[0]
    if ticked:
        return _run(lambda: store.set_coding(view.segment.id, code_id, me,
                                             expected_version=mine.version if mine else 0))[0]
    if mine is not None:
        return _run(lambda: store.remove_coding(mine.id, me, expected_version=mine.version))[0]
    return True


def render_table(views: list[SegmentView], codebook: Codebook, me: str) -> None:
    st.caption(tr(STRINGS, "table_help"))
    before = table_frame(views, codebook)
    generation = st.session_state.get(EDITOR_GEN_KEY, 0)
    text_columns = [tr(STRINGS, k) for k in ("col_turn", "col_speaker", "col_text", "col_waiting", "col_partly")]
    config = {
        tr(STRINGS, "col_turn"): st.column_config.NumberColumn(width=50, pinned=True),
        tr(STRINGS, "col_speaker"): st.column_config.TextColumn(width=110, pinned=True),
        # narrow enough that seven codes' ticks fit beside it on a 1280 px screen
        tr(STRINGS, "col_text"): st.column_config.TextColumn(width=240),
        tr(STRINGS, "col_waiting"): st.column_config.TextColumn(width=90, help=tr(STRINGS, "col_waiting_help")),
        tr(STRINGS, "col_partly"): st.column_config.TextColumn(width=90, help=tr(STRINGS, "col_partly_help")),
    }
    for code in codebook.codes:
        config[code_label(code)] = st.column_config.CheckboxColumn(
            f"{code.number}" if code.number else code.label(language()),
            help=md_escape(code_label(code)), width=44)
    st.caption(" · ".join(f"**{c.number}** {md_escape(c.label(language()))}" if c.number
                          else md_escape(c.label(language()))
                          for c in codebook.codes))
    with st.form(f"table_form_{generation}", border=False):
        after = st.data_editor(before, key=f"table_{generation}", hide_index=True, width="stretch",
                               disabled=text_columns, column_config=config, num_rows="fixed",
                               height=min(38 + 35 * len(before), 900))
        cols = st.columns([1, 3, 2])
        save = cols[0].form_submit_button(tr(STRINGS, "save_table"), type="primary")
        waiting = sum(len(view.suggestions) for view in views)
        save_rest = cols[1].form_submit_button(tr(STRINGS, "save_accept_rest", n=fmt_number(waiting)),
                                               help=tr(STRINGS, "save_accept_rest_help"), disabled=not waiting)
    if not (save or save_rest):
        return
    changes = table_changes(views, codebook, before, after, accept_rest=save_rest)
    written = 0
    for view, code_id, ticked in changes:
        if not apply_change(view, code_id, ticked, me):
            break
        written += 1
    accepted = sum(1 for _, _, ticked in changes[:written] if ticked)
    st.session_state[ACCEPTS_KEY] = st.session_state.get(ACCEPTS_KEY, 0) + accepted
    flash("success" if written else "info",
          tr(STRINGS, "table_saved" if written == 1 else "table_saved_plural", n=fmt_number(written))
          if written else tr(STRINGS, "table_nothing"))
    if st.session_state[ACCEPTS_KEY] >= REFIT_EVERY:
        on_refit(st.session_state.get(DOC_KEY))
    st.session_state[EDITOR_GEN_KEY] = generation + 1
    st.rerun()


# ------------------------------------------------------------------ page
def open_turn(document_id: int, segment_id: int) -> None:
    """Show a turn the learning panel offers: its interview, every turn (no filter hides it),
    its page, scrolled to and marked, with its editor open."""
    if st.session_state.get(ACTIVE_KEY) is not None:
        save_unsaved_edits(st.session_state[ACTIVE_KEY])
    st.session_state[DOC_KEY] = document_id
    st.session_state[FOCUS_KEY] = segment_id
    st.session_state.update({FILTER_KEYS["codes"]: [], FILTER_KEYS["statuses"]: [], FILTER_KEYS["role"]: "all",
                             FILTER_KEYS["view"]: "read"})


def _on_document_change() -> None:
    if st.session_state.get(ACTIVE_KEY) is not None:
        save_unsaved_edits(st.session_state[ACTIVE_KEY])
    st.session_state[DOC_KEY] = st.session_state["_coding_document_widget"]
    st.session_state[ACTIVE_KEY] = None
    st.session_state[HIGHLIGHT_KEY] = None


def restore_place(docs: list, codebook: Codebook) -> None:
    """Take Kodning's place from the address (a link, a reload) or, back from another page, the session.

    The address wins when it names a place this session did not write itself; a visit
    through the sidebar (no parameters) gets the filters and page the coder left.
    """
    url = Place.from_params(st.query_params)
    last = st.session_state.get(PLACE_KEY)
    if url is not None and url != last:
        _apply_place(url, docs, codebook, force=True)
        st.session_state[SCROLL_KEY] = url.turn is not None
    elif last is not None and any(key not in st.session_state for key in FILTER_KEYS.values()):
        _apply_place(last, docs, codebook, force=False)
    st.session_state.setdefault(FILTER_KEYS["view"], "read")


def _apply_place(place: Place, docs: list, codebook: Codebook, *, force: bool) -> None:
    """Set the page's widgets to ``place`` (only the ones not drawn yet, unless ``force``)."""
    if place.document_id in {d.id for d in docs} and place.document_id != st.session_state.get(DOC_KEY):
        st.session_state[DOC_KEY] = place.document_id
        st.session_state[ACTIVE_KEY] = None
    values = {"codes": [c for c in place.codes if c in codebook.ids],
              "statuses": [s for s in place.statuses if s in STATUS_KEYS],
              "role": place.role if place.role in ROLES else "all",
              "view": place.view if place.view in ("read", "table") else "read"}
    for name, key in FILTER_KEYS.items():
        if force or key not in st.session_state:
            st.session_state[key] = values[name]
    st.session_state[WANTED_PAGE_KEY] = (place.page, force)
    if force or HIGHLIGHT_KEY not in st.session_state:
        st.session_state[HIGHLIGHT_KEY] = place.turn


def choose_document(docs: list, where: Any = st) -> Any:
    """The document selector; the choice survives visits to other pages."""
    ids = [d.id for d in docs]
    if st.session_state.get(DOC_KEY) not in ids:
        st.session_state[DOC_KEY] = ids[0]
    by_id = {d.id: d for d in docs}
    st.session_state["_coding_document_widget"] = st.session_state[DOC_KEY]
    where.selectbox(tr(STRINGS, "document"), ids, key="_coding_document_widget",
                 on_change=_on_document_change,
                 format_func=lambda i: " · ".join(x for x in (by_id[i].round, by_id[i].district,
                                                              by_id[i].group, by_id[i].name) if x))
    return by_id[st.session_state[DOC_KEY]]


def render_toolbar(codebook: Codebook) -> tuple[str, list[str], list[str], str]:
    cols = st.columns([4, 3, 2], vertical_alignment="bottom")
    view = st.session_state.get("coding_view") or "read"
    codes = cols[0].multiselect(tr(STRINGS, "filter_code"), codebook.ids, key=relabelled("coding_filter_codes"),
                                format_func=lambda c: _label(codebook, c),
                                placeholder=tr(STRINGS, "filter_code_ph"), select_all=False)
    statuses = cols[1].pills(tr(STRINGS, "filter_status"), list(STATUS_KEYS), selection_mode="multi", wrap=True,
                             key=relabelled("coding_filter_status"), format_func=lambda s: tr(STRINGS, f"st_{s}"))
    role = cols[2].selectbox(tr(STRINGS, "filter_role"), list(ROLES),
                             key=relabelled("coding_filter_role"), format_func=lambda r: tr(STRINGS, r))
    return view, codes or [], statuses or [], role


def render_view_choice(where: Any = st) -> None:
    where.segmented_control(tr(STRINGS, "view"), ["read", "table"], key=relabelled("coding_view"),
                         format_func=lambda v: tr(STRINGS, v), required=True)


def on_finished(document_id: int, name: str, widget_key: str) -> None:
    """Mark the open interview as finished by this coder, or take the mark back."""
    store, me = get_store(), require_coder()
    finished = bool(st.session_state.get(widget_key))
    try:
        store.set_finished(document_id, me, finished)
    except FocusqaError as error:
        flash("error", error_text(error))
        return
    after_write("codings")
    flash("success", tr(STRINGS, "finished_on" if finished else "finished_off", doc=md_escape(name)))
    waiting = sum(len(v.suggestions) for v in build_views(store.segments(document_id), store.codings(
        document_id=document_id), [], me, blind_mode())) if finished else 0
    if waiting:   # the mark is the coder's call; the count says what it leaves undecided
        flash("warning", tr(STRINGS, "finished_waiting" if waiting == 1 else "finished_waiting_plural",
                            n=fmt_number(waiting)))


def render_actions(doc: Any, me: str) -> None:
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(tr(STRINGS, "undo"), key="coding_undo", icon=":material/undo:", on_click=on_undo,
               help=tr(STRINGS, "undo_help"))
    row.button(tr(STRINGS, "refit"), key="coding_refit", icon=":material/refresh:", on_click=on_refit,
               args=(None,), help=tr(STRINGS, "refit_help", n=REFIT_EVERY))
    finished_key = f"coding_finished_{doc.id}"
    st.session_state[finished_key] = doc.id in get_store().finished_documents().get(me, set())
    row.toggle(tr(STRINGS, "finished"), key=finished_key, help=tr(STRINGS, "finished_help"),
               on_change=on_finished, args=(doc.id, doc.name, finished_key))


def paginate(views: list[SegmentView], total: int, scope: str) -> tuple[list[SegmentView], int]:
    """The turns of the current page and its number; a new document or filter (``scope``) starts at page 1.

    A page from the address (or the session, back from another page) is shown instead,
    and a linked turn's page before that.
    """
    pages = max(1, math.ceil(len(views) / PAGE_SIZE))
    page = 1
    key = f"{PAGE_KEY}_{zlib.crc32(f'{scope}|{pages}'.encode())}"
    focus = st.session_state.pop(FOCUS_KEY, None)   # a turn chosen in the learning panel
    position = next((i for i, v in enumerate(views) if v.segment.id == focus), None)
    if position is not None:
        st.session_state[ACTIVE_KEY] = focus
        st.session_state[HIGHLIGHT_KEY] = views[position].segment.turn_number
        st.session_state[SCROLL_KEY] = True
        if pages > 1:
            st.session_state[key] = position // PAGE_SIZE + 1
    wanted = st.session_state.pop(WANTED_PAGE_KEY, None)
    highlight = st.session_state.get(HIGHLIGHT_KEY)
    if wanted is not None and position is None and pages > 1 and (wanted[1] or key not in st.session_state):
        linked = next((i for i, v in enumerate(views) if v.segment.turn_number == highlight), None)
        st.session_state[key] = linked // PAGE_SIZE + 1 if linked is not None and wanted[1] \
            else min(wanted[0], pages)
    if pages > 1:
        page = st.pagination(pages, key=key)
    shown = views[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    if highlight is not None and not any(v.segment.turn_number == highlight for v in shown):
        st.session_state[HIGHLIGHT_KEY] = None     # the coder paged away from the linked turn
    st.caption(tr(STRINGS, "shown", n=fmt_number(len(views)), total=fmt_number(total), page=page,
                  pages=pages))
    return shown, page


def render_highlight(shown: list[SegmentView]) -> None:
    """Mark the linked turn with a gold tint and edge; right after a link or a reload, scroll to it.

    No outline: the turn chosen by keyboard or click has the blue outline (coding_keys.js),
    and both must show when they are the same turn.
    """
    turn = st.session_state.get(HIGHLIGHT_KEY)
    selectors = ", ".join(f".st-key-turn_{v.segment.id}" for v in shown if v.segment.turn_number == turn)
    if not selectors:
        st.session_state.pop(SCROLL_KEY, None)
        return
    st.html(f"<style>{selectors} {{ background: #fff8e1; box-shadow: inset 5px 0 0 #f2b705; "
            f"border-radius: 0.4rem; }}</style>")
    if st.session_state.pop(SCROLL_KEY, False):
        first = selectors.split(",")[0]
        st.html("<script>(() => { let tries = 0; const go = () => { "
                f"const turn = document.querySelector('{first}'); "
                "if (turn) turn.scrollIntoView({block: 'center'}); "
                "else if (tries++ < 50) setTimeout(go, 100); }; go(); })();</script>",
                unsafe_allow_javascript=True)


def main() -> None:
    st.title(tr(STRINGS, "title"))
    show_flashes()
    store = get_store()
    docs = load_documents(store)
    require_documents(store)
    me = require_coder()
    codebook = load_codebook(store)
    restore_place(docs, codebook)
    top = st.columns([2, 1], vertical_alignment="bottom")   # the view choice whole on a laptop
    doc = choose_document(docs, top[0])
    render_view_choice(top[1])
    view_mode, codes, statuses, role = render_toolbar(codebook)
    render_actions(doc, me)
    render_learning_panel(codebook, open_turn)
    blind = blind_mode()
    st.caption(tr(STRINGS, "blind_on") if blind else tr(STRINGS, "legend"))
    segments = load_segments(store, doc.id)
    views = build_views(segments, load_codings(store, doc.id), load_memos(store, doc.id), me, blind)
    matching = filter_views(views, codes, statuses, role)
    shown, page = paginate(matching, len(views), f"{doc.id}|{codes}|{statuses}|{role}") if matching else ([], 1)
    place = Place(document_id=doc.id, page=page, turn=st.session_state.get(HIGHLIGHT_KEY), codes=tuple(codes),
                  statuses=tuple(statuses), role=role, view=view_mode)
    write_place(place)
    st.session_state[PLACE_KEY] = place
    if not matching:
        st.info(tr(STRINGS, "none"))
        return
    if view_mode == "table":
        render_table(shown, codebook, me)
        return
    render_read(shown, codebook)
    render_highlight(shown)


main()
