"""Kodning's learning tools: what to confirm next, how far to trust each code, anchor examples.

Rendered by views/coding.py; the work is done by ``focusqa.tagging.active`` and the Store.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd
import streamlit as st

from focusqa.codebook import Codebook
from focusqa.errors import FocusqaError
from focusqa.i18n import messages
from focusqa.types import turn_number
from views.common import (after_write, breakable, cached, code_label, error_text, flash, fmt_number, get_store,
                          get_tagger, md_escape, relabelled, require_coder, tr)

NEXT_COUNT = 8

STRINGS = messages("learning_panel")

MIN_DECISIONS = 10


SKIPPED_KEY = "coding_skipped_offers"   # turns the evaluator passed over in this session


@cached
def _next_turns(_store, url: str, version: int, decided: int, finished: int,
                skipped: tuple[int, ...]) -> list[Any]:
    from focusqa.tagging.active import next_to_confirm

    return next_to_confirm(_store, get_tagger(), limit=NEXT_COUNT, skip=skipped)


@cached
def _trust(_store, url: str, version: int, decided: int) -> list[Any]:
    from focusqa.tagging import shipped_documents
    from focusqa.tagging.active import project_trust
    from focusqa.tagging.tagger import Tagger

    codebook = _store.codebook()
    return project_trust(_store, lambda: Tagger(codebook), base=shipped_documents(codebook))


def _decided_count(store) -> int:
    from focusqa.config import MACHINE_CODER

    return len({c.segment_id for c in store.codings(origin="human") if c.coder != MACHINE_CODER})


def _on_skip(segment_id: int) -> None:
    st.session_state[SKIPPED_KEY] = (*st.session_state.get(SKIPPED_KEY, ()), segment_id)


def offer_reason(offer: Any, codebook: Codebook) -> str:
    """Why a turn is offered (:class:`focusqa.tagging.active.NextTurn`), in the evaluator's words."""
    labels = [md_escape(code_label(codebook.get(c))) for c in offer.codes if codebook.get(c) is not None]
    if offer.reason == "code" and labels:
        return tr(STRINGS, "why_code" if offer.confirmed else "why_code_none", code=labels[0])
    if offer.reason == "unsure" and len(labels) == 2:
        return tr(STRINGS, "why_unsure", first=labels[0], second=labels[1])
    return tr(STRINGS, "why_blind")


def verdict(kappa: float | None, low: float | None) -> str:
    """A plain-words reading of a code's κ and the low end of its interval."""
    if kappa is None or low is None:
        return "v_none"
    if kappa >= 0.6 and low >= 0.4:
        return "v_good"
    if kappa >= 0.4:
        return "v_some"
    return "v_bad"


def trust_frame(trust: list[Any], codebook: Codebook) -> pd.DataFrame:
    """The per-code agreement as the table Kodning shows."""
    rows = []
    for t in trust:
        interval = (f"{fmt_number(t.low, 2)} – {fmt_number(t.high, 2)}" if t.low is not None else "–")
        rows.append({tr(STRINGS, "col_code"): code_label(codebook.get(t.code_id)),
                     tr(STRINGS, "col_confirmed"): t.confirmations,
                     tr(STRINGS, "col_kappa"): fmt_number(t.kappa, 2),
                     tr(STRINGS, "col_interval"): interval,
                     tr(STRINGS, "col_verdict"): tr(STRINGS, verdict(t.kappa, t.low))})
    return pd.DataFrame(rows)


def render_learning_panel(codebook: Codebook, open_turn: Callable[[int, int], None]) -> None:
    """The expander above the turns: the next turns to confirm, and trust per code.

    ``open_turn(document_id, segment_id)`` shows a turn with its editor open (coding.py).
    """
    store = get_store()
    decided = _decided_count(store)
    finished = sum(len(docs) for docs in store.finished_documents().values())
    with st.expander(tr(STRINGS, "panel"), key="learning_panel"):
        st.caption(tr(STRINGS, "panel_help"))
        offers = _next_turns(store, store.url, codebook.version, decided, finished,
                             tuple(st.session_state.get(SKIPPED_KEY, ())))
        if not offers:
            st.info(tr(STRINGS, "next_none"))
        segments = {s.id: s for s in store.segments(ids=[o.segment_id for o in offers])} if offers else {}
        for offer in offers:
            seg = segments[offer.segment_id]
            row = st.columns([2, 7, 2], vertical_alignment="center")
            where = tr(STRINGS, "turn", document=md_escape(breakable(seg.document)), n=turn_number(seg.turn))
            row[0].markdown(f"**{where}**")
            row[1].text(seg.text[:160] + ("…" if len(seg.text) > 160 else ""))
            row[1].caption(offer_reason(offer, codebook))
            buttons = row[2].container(horizontal=True, gap="small")
            buttons.button(tr(STRINGS, "open"), key=f"next_open_{seg.id}", on_click=open_turn,
                           args=(seg.document_id, seg.id), help=tr(STRINGS, "open_help"))
            buttons.button(tr(STRINGS, "skip"), key=f"next_skip_{seg.id}", on_click=_on_skip,
                           args=(seg.id,), help=tr(STRINGS, "skip_help"))
        st.markdown(f"**{tr(STRINGS, 'trust')}**", help=tr(STRINGS, "trust_help"))
        if decided < MIN_DECISIONS:
            st.caption(tr(STRINGS, "trust_few", n=decided))
        elif st.button(tr(STRINGS, "trust_button"), key="coding_trust") or st.session_state.get("_trust_shown"):
            st.session_state["_trust_shown"] = True
            with st.spinner(tr(STRINGS, "trust_computing")):
                trust = _trust(store, store.url, codebook.version, decided)
            st.dataframe(trust_frame(trust, codebook), hide_index=True, width="stretch")


def _on_anchor(segment_id: int, text: str, code_key: str) -> None:
    store, me = get_store(), require_coder()
    code_id = st.session_state.get(code_key)
    try:
        version = store.add_anchor_example(code_id, text, me)
    except FocusqaError as exc:  # a refused text or a code gone meanwhile: shown, nothing changed
        flash("error", error_text(exc))
        return
    after_write()
    label = md_escape(code_label(store.codebook().get(code_id)))
    st.toast(tr(STRINGS, "anchored", code=label, version=version))   # by the button, wherever the page is


def render_anchor_action(segment_id: int, text: str, codebook: Codebook, default: str | None) -> None:
    """In a turn's editor: make the turn an anchor example of a code, in one click once the
    code is chosen. ``default`` is a code the coder gave the turn; a mere suggestion is not
    offered, because an anchor example teaches the model from the first run."""
    cols = st.columns([3, 2], vertical_alignment="bottom")
    code_key = f"anchor_code_{segment_id}"
    ids = codebook.ids
    if st.session_state.get(code_key) not in ids:
        st.session_state[code_key] = default if default in ids else None
    chosen = cols[0].selectbox(tr(STRINGS, "anchor_code"), ids, key=relabelled(code_key),
                               format_func=lambda c: code_label(codebook.get(c)),
                               placeholder=tr(STRINGS, "anchor_choose"))
    cols[1].button(tr(STRINGS, "anchor"), key=f"anchor_{segment_id}", help=tr(STRINGS, "anchor_help"),
                   on_click=_on_anchor, args=(segment_id, text, code_key), disabled=chosen is None)
