"""Søg: find words in the transcripts (inflections and compounds too), read them in context, code the hits.

The page reads the query and filters, calls :func:`focusqa.analysis.search.search`, and
shows the hits as keyword-in-context lines (ticked hits can be coded) beside the district ×
round counts. Coding, undo, saved searches and seed terms go through the Store.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from focusqa.analysis.search import SearchFilters, SearchResult, code_hits, hit_codes, search, seed_terms
from focusqa.errors import FocusqaError
from focusqa.i18n import messages
from focusqa.store import Store
from views.common import (after_write, code_label, coder_name, flash, fmt_number, get_store, load_codebook,
                          md_escape, paginate, relabelled, require_documents, show_error, show_flashes, tr)
from views.place import open_in_coding_link

TICKED_KEY = "search_ticked"
TICKED_FOR_KEY = "search_ticked_for"
FILTER_KEYS = {"rounds": "search_rounds", "districts": "search_districts", "groups": "search_groups",
               "codes": "search_codes", "states": "search_states"}
PAGE_SIZE = 25
PAGE_KEY = "search_page"

STRINGS = messages("search_page")


def _filters() -> SearchFilters:
    values = {name: tuple(st.session_state.get(key) or ()) or None for name, key in FILTER_KEYS.items()}
    return SearchFilters(role=st.session_state.get("search_role") or "participant", **values)


def render_inputs(docs: list, codebook: Any) -> None:
    st.text_input(tr(STRINGS, "query"), key="search_query", help=tr(STRINGS, "query_help"),
                  placeholder=tr(STRINGS, "query_ph"))
    options = {"rounds": sorted({d.round for d in docs if d.round}),
               "districts": sorted({d.district for d in docs if d.district}),
               "groups": sorted({d.group for d in docs if d.group}),
               "codes": list(codebook.ids), "states": ["accepted", "suggested", "rejected", "uncoded"]}
    labels = {"codes": lambda c: code_label(codebook.get(c)), "states": lambda s: tr(STRINGS, f"st_{s}")}
    with st.expander(tr(STRINGS, "filters"), key="search_filters"):
        cols = st.columns(3)
        for i, (name, key) in enumerate(FILTER_KEYS.items()):
            cols[i % 3].multiselect(tr(STRINGS, name), options[name], key=relabelled(key),
                                    placeholder=tr(STRINGS, "all_ph"), format_func=labels.get(name, str),
                                    select_all=False)
        cols[2].segmented_control(tr(STRINGS, "role"), ["participant", "moderator", "all"], key="search_role",
                                  default="participant", required=True, format_func=lambda r: tr(STRINGS, r))
    st.segmented_control(tr(STRINGS, "sort"), ["document", "next"], key="search_sort", default="document",
                         required=True, format_func=lambda s: tr(STRINGS, f"sort_{s}"))


def _on_tick(segment_id: int, key: str) -> None:
    ticked: set = st.session_state.setdefault(TICKED_KEY, set())
    (ticked.add if st.session_state[key] else ticked.discard)(segment_id)


def turn_count(n: int) -> str:
    """'1 taletur' / '4 taleture'."""
    return tr(STRINGS, "turn_count" if n == 1 else "turn_count_plural", n=fmt_number(n))


def render_hits(store: Store, result: SearchResult, codebook: Any) -> None:
    """The keyword-in-context lines of the current page, each with a tick box for coding.

    Only the shown page's turns are looked up for their codes, so a frequent word
    (thousands of hits) costs no more than a rare one.
    """
    ticked: set = st.session_state.setdefault(TICKED_KEY, set())
    pages = max(1, -(-len(result.hits) // PAGE_SIZE))
    value = st.session_state.get(PAGE_KEY)
    page = min(max(value if isinstance(value, int) else 1, 1), pages)  # as views.common.paginate
    codes = hit_codes(store, {h.segment_id for h in result.hits[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]})
    for hit in paginate(result.hits, PAGE_KEY, PAGE_SIZE):
        key = f"search_hit_{hit.segment_id}_{hit.start}"
        st.session_state[key] = hit.segment_id in ticked
        label = f"{md_escape(hit.left)}:blue-background[**{md_escape(hit.match)}**]{md_escape(hit.right)}"
        st.checkbox(label, key=key, on_change=_on_tick, args=(hit.segment_id, key))
        where = [hit.document, tr(STRINGS, "turn", n=hit.turn), hit.speaker or "", hit.round or "",
                 hit.district or ""]
        where += [code_label(codebook.get(c)) + ("" if accepted else tr(STRINGS, "suggested_mark"))
                  for c, accepted in codes.get(hit.segment_id, {}).items() if c in codebook.ids]
        where_col, link_col = st.columns([7, 2], vertical_alignment="center")
        where_col.caption(" · ".join(md_escape(w) for w in where if w))
        open_in_coding_link(hit.document_id, hit.turn, tr(STRINGS, "open_coding"), where=link_col)


def hits_table(result: SearchResult, codes: dict[int, dict[str, bool]]) -> pd.DataFrame:
    def shown(segment_id: int) -> str:
        return ", ".join(c + ("" if accepted else tr(STRINGS, "suggested_mark"))
                         for c, accepted in codes.get(segment_id, {}).items())

    rows = [{tr(STRINGS, "col_document"): h.document, tr(STRINGS, "col_turn"): h.turn,
             tr(STRINGS, "col_speaker"): h.speaker or "", tr(STRINGS, "col_before"): h.before,
             tr(STRINGS, "col_match"): h.match, tr(STRINGS, "col_after"): h.after,
             tr(STRINGS, "col_codes"): shown(h.segment_id)} for h in result.hits]
    return pd.DataFrame(rows)


def render_coding(store: Store, result: SearchResult, codebook: Any) -> None:
    """Apply one code to all or the ticked hits' turns, as suggestions or accepted codings; undo."""
    st.subheader(tr(STRINGS, "code_title"))
    me = coder_name()
    if not me:
        st.info(tr(STRINGS, "need_coder"))
        return
    ticked = [i for i in result.segment_ids if i in st.session_state.get(TICKED_KEY, set())]
    cols = st.columns([3, 2, 2], vertical_alignment="bottom")
    code_id = cols[0].selectbox(tr(STRINGS, "code"), list(codebook.ids), key=relabelled("search_code"),
                                format_func=lambda c: code_label(codebook.get(c)))
    mode = cols[1].radio(tr(STRINGS, "mode"), ["suggested", "accepted"], key=relabelled("search_mode"),
                         format_func=lambda m: tr(STRINGS, f"mode_{m}"), help=tr(STRINGS, "mode_help"))
    scope = cols[2].radio(tr(STRINGS, "scope"), ["all", "ticked"], key=relabelled("search_scope"),
                          format_func=lambda s: tr(STRINGS, f"scope_{s}", turns=turn_count(
                              len(result.segment_ids) if s == "all" else len(ticked))))
    row = st.container(horizontal=True)
    if row.button(tr(STRINGS, "apply"), key="search_apply", type="primary", icon=":material/sell:"):
        chosen = result.segment_ids if scope == "all" else ticked
        if not chosen:
            st.warning(tr(STRINGS, "nothing_ticked"))
            return
        try:
            written, skipped = code_hits(store, result, code_id, me, segment_ids=chosen,
                                         as_suggestions=mode == "suggested")
        except FocusqaError as error:
            show_error(error)
            return
        label = md_escape(code_label(codebook.get(code_id)))
        flash("success", tr(STRINGS, "coded_skipped" if skipped else "coded", turns=turn_count(written), code=label,
                            skipped=skipped))
        after_write("codings")
        st.rerun()
    if row.button(tr(STRINGS, "undo"), key="search_undo", icon=":material/undo:"):
        undone = store.undo_last(me)
        flash("success" if undone else "info", tr(STRINGS, "undone" if undone else "nothing_to_undo"))
        after_write("codings")
        st.rerun()


def _load_saved(store: Store) -> None:
    saved = store.saved_search(st.session_state["search_saved"])
    filters = SearchFilters.from_dict(saved.filters)
    st.session_state["search_query"] = saved.query
    for name, key in FILTER_KEYS.items():
        st.session_state[key] = list(getattr(filters, name) or ())
    st.session_state["search_role"] = filters.role


def render_saved(store: Store, result: SearchResult | None, codebook: Any) -> None:
    """Save the current search; rerun a saved one; make it a code's seed terms."""
    st.subheader(tr(STRINGS, "saved_title"))
    me = coder_name() or "app"
    if result is not None:
        row = st.columns([3, 1], vertical_alignment="bottom")
        name = row[0].text_input(tr(STRINGS, "save_name"), key="search_save_name", value=result.query.text)
        if row[1].button(tr(STRINGS, "save"), key="search_save", icon=":material/bookmark_add:"):
            try:
                store.save_search(name, result.query.text, result.filters.as_dict(), me)
                flash("success", tr(STRINGS, "saved", name=md_escape(name.strip())))
                st.rerun()
            except FocusqaError as error:
                show_error(error)
    saved = store.saved_searches()
    if not saved:
        st.caption(tr(STRINGS, "no_saved"))
        return
    names = [s.name for s in saved]
    by_name = {s.name: s for s in saved}
    row = st.columns([3, 1, 1], vertical_alignment="bottom")
    chosen = row[0].selectbox(tr(STRINGS, "saved_list"), names, key="search_saved",
                              format_func=lambda n: f"{n} – {by_name[n].query}")
    row[1].button(tr(STRINGS, "rerun"), key="search_rerun", on_click=_load_saved, args=(store,),
                  icon="▶️")
    if row[2].button(tr(STRINGS, "delete"), key="search_delete", icon=":material/delete:"):
        store.delete_saved_search(chosen, me)
        st.rerun()
    row = st.columns([3, 2], vertical_alignment="bottom")
    code_id = row[0].selectbox(tr(STRINGS, "seed_code"), list(codebook.ids), key=relabelled("search_seed_code"),
                               format_func=lambda c: code_label(codebook.get(c)))
    if row[1].button(tr(STRINGS, "seed"), key="search_seed", help=tr(STRINGS, "seed_help")):
        terms = seed_terms(by_name[chosen].query)
        try:
            version = store.add_seed_terms(code_id, terms, me)
        except FocusqaError as error:
            show_error(error)
            return
        after_write()
        flash("success", tr(STRINGS, "seeded", version=version, code=md_escape(code_label(codebook.get(code_id))),
                            terms=", ".join(terms)))
        st.rerun()


def main() -> None:
    st.title(tr(STRINGS, "title"))
    show_flashes()
    store = get_store()
    docs = require_documents(store)
    codebook = load_codebook(store)
    render_inputs(docs, codebook)
    query = str(st.session_state.get("search_query") or "").strip()
    result = None
    if query:
        try:
            result = search(store, query, _filters(), sort=st.session_state.get("search_sort") or "document")
        except FocusqaError as error:
            show_error(error)
    if result is not None:
        scope = (result.query.text, result.filters)
        if st.session_state.get(TICKED_FOR_KEY) != scope:
            st.session_state[TICKED_FOR_KEY] = scope
            st.session_state[TICKED_KEY] = set()
        st.markdown(tr(STRINGS, "found", hits=fmt_number(len(result.hits)),
                       turns=fmt_number(len(result.segment_ids))))
        if not result.hits:
            st.info(tr(STRINGS, "none"))
        else:
            left, right = st.columns([3, 1])
            with left:
                render_hits(store, result, codebook)
            with right:
                st.caption(tr(STRINGS, "counts"))
                st.dataframe(result.counts())
            if st.toggle(tr(STRINGS, "all_hits"), key="search_show_table"):
                st.dataframe(hits_table(result, hit_codes(store, result.segment_ids)), hide_index=True)
            render_coding(store, result, codebook)
    render_saved(store, result, codebook)


main()
