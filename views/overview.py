"""Oversigt: what is in the project, how far the coding is, and what to do next."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from focusqa.config import MACHINE_CODER
from focusqa.errors import FocusqaError
from focusqa.i18n import messages
from focusqa.store import Store
from views.common import (column_width, fmt_number, fmt_percent, get_store, load_codings, load_documents, load_progress,
                          load_segments, md_escape, refit_tagger, show_error, show_flashes, flash, table_height, tr)
from views.place import CODING_PAGE, coding_link

PAGES_DIR = Path(__file__).resolve().parent

STRINGS = messages("overview")


def first_waiting_turn(store: Store, document_id: int) -> int | None:
    """The turn number of the document's first participant turn with a suggestion waiting."""
    waiting = {c.segment_id for c in load_codings(store, document_id)
               if c.coder == MACHINE_CODER and c.status == "suggested"}
    return next((s.turn_number for s in load_segments(store, document_id) if s.id in waiting), None)


def documents_frame(docs: list, progress: dict[int, dict[str, int]]) -> pd.DataFrame:
    """One row per document with its metadata, coding progress and size."""
    rows = []
    missing = tr(STRINGS, "missing")
    for d in docs:
        p = progress.get(d.id, {"suggested": 0, "accepted": 0, "rejected": 0, "uncoded": 0})
        total = sum(p.values()) or 1
        rows.append({
            tr(STRINGS, "col_round"): d.round or missing,
            tr(STRINGS, "col_district"): d.district or missing,
            tr(STRINGS, "col_group"): d.group or missing,
            tr(STRINGS, "col_name"): d.name,
            # progress beside the name: on a laptop the last columns are scrolled to
            tr(STRINGS, "col_done"): round(100 * (p["accepted"] + p["rejected"]) / total),
            tr(STRINGS, "col_segments"): d.segments,
            tr(STRINGS, "col_accepted"): p["accepted"],
            tr(STRINGS, "col_suggested"): p["suggested"],
            tr(STRINGS, "col_rejected"): p["rejected"],
            tr(STRINGS, "col_uncoded"): p["uncoded"],
            tr(STRINGS, "col_words"): d.words,
        })
    return pd.DataFrame(rows)


def render_metrics(docs: list, progress: dict[int, dict[str, int]]) -> None:
    totals = {k: sum(p.get(k, 0) for p in progress.values())
              for k in ("suggested", "accepted", "rejected", "uncoded")}
    segments = sum(sum(p.values()) for p in progress.values()) or 1
    cols = st.columns(5)
    cols[0].metric(tr(STRINGS, "documents"), fmt_number(len(docs)))
    cols[1].metric(tr(STRINGS, "words"), fmt_number(sum(d.words for d in docs)))
    cols[2].metric(tr(STRINGS, "segments"), fmt_number(sum(d.segments for d in docs)))
    cols[3].metric(tr(STRINGS, "reviewed"), fmt_percent((totals["accepted"] + totals["rejected"]) / segments),
                   help=tr(STRINGS, "reviewed_help"))
    cols[4].metric(tr(STRINGS, "open"), fmt_number(totals["suggested"]))


def render_next_steps(docs: list, progress: dict[int, dict[str, int]]) -> None:
    """Concrete next steps: review waiting suggestions, let focusqa suggest, code the rest."""
    st.subheader(tr(STRINGS, "next"))
    count = lambda d, key: progress.get(d.id, {}).get(key, 0)  # noqa: E731
    waiting = [d for d in sorted(docs, key=lambda d: -count(d, "suggested")) if count(d, "suggested")][:3]
    for doc in waiting:
        _hint(tr(STRINGS, "hint_suggestions", doc=md_escape(doc.name), n=fmt_number(count(doc, "suggested"))), doc,
              waiting=True)
    uncoded = sum(count(d, "uncoded") for d in docs)
    if uncoded and not any(count(d, "suggested") for d in docs):
        cols = st.columns([3, 1], vertical_alignment="center")
        cols[0].markdown(tr(STRINGS, "hint_uncoded", n=fmt_number(uncoded)))
        if cols[1].button(tr(STRINGS, "suggest"), key="suggest_codes"):
            try:
                with st.spinner(tr(STRINGS, "suggest") + " …"):
                    written = refit_tagger()
                flash("success", tr(STRINGS, "suggested", n=fmt_number(written)))
                st.rerun()
            except FocusqaError as error:
                show_error(error)
    elif uncoded and not waiting:
        most = max(docs, key=lambda d: count(d, "uncoded"))
        _hint(tr(STRINGS, "hint_uncoded_left", n=fmt_number(uncoded)), most, statuses=("uncoded",))
    if not waiting and not uncoded:
        cols = st.columns([3, 1], vertical_alignment="center")
        cols[0].markdown(tr(STRINGS, "hint_done"))
        if (PAGES_DIR / "themes.py").exists() and cols[1].button(tr(STRINGS, "themes"), key="go_themes"):
            st.switch_page("views/themes.py")
    no_meta = [d for d in docs if not d.round or not d.district]
    if no_meta:
        st.caption(tr(STRINGS, "hint_metadata", n=fmt_number(len(no_meta))))


def _hint(text: str, doc, *, waiting: bool = False, statuses: tuple[str, ...] = ()) -> None:
    """A hint with a button that opens ``doc`` in Kodning (at its first waiting suggestion)."""
    cols = st.columns([3, 1], vertical_alignment="center")
    cols[0].markdown(text)
    if cols[1].button(tr(STRINGS, "open_coding"), key=f"open_{doc.id}"):
        turn = first_waiting_turn(get_store(), doc.id) if waiting else None
        st.switch_page(CODING_PAGE, query_params=coding_link(doc.id, turn, statuses=statuses))


def render_finished(docs: list, finished: dict[str, set[int]]) -> None:
    """Per coder: the interviews they marked as finished (what Enighed counts in full)."""
    st.markdown(f"**{tr(STRINGS, 'finished')}**", help=tr(STRINGS, "finished_help"))
    names = {d.id: d.name for d in docs}
    lines = [tr(STRINGS, "finished_line", coder=md_escape(coder), n=fmt_number(len(ids & names.keys())),
                total=fmt_number(len(docs)), docs=", ".join(md_escape(names[i]) for i in sorted(ids) if i in names))
             for coder, ids in sorted(finished.items()) if ids & names.keys()]
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
    else:
        st.caption(tr(STRINGS, "finished_none"))


def render_round_matrix(frame: pd.DataFrame) -> None:
    """Round and group × district: number of interviews, words in brackets."""
    st.subheader(tr(STRINGS, "by_round"), help=tr(STRINGS, "by_round_help"))
    r, g, d, w = (tr(STRINGS, k) for k in ("col_round", "col_group", "col_district", "col_words"))
    grouped = frame.groupby([r, g, d]).agg(n=(w, "size"), words=(w, "sum")).reset_index()
    grouped["cell"] = [f"{n} ({fmt_number(words)} {tr(STRINGS, 'words').lower()})"
                       for n, words in zip(grouped["n"], grouped["words"])]
    matrix = grouped.pivot(index=[r, g], columns=d, values="cell").fillna("–")
    st.dataframe(matrix, width="stretch")


def main() -> None:
    st.title(tr(STRINGS, "title"))
    show_flashes()
    store = get_store()
    docs = load_documents(store)
    if not docs:
        st.info(tr(STRINGS, "empty"))
        st.page_link("views/import_page.py", label=tr(STRINGS, "go_import"), icon=":material/upload_file:")
        return
    st.caption(tr(STRINGS, "intro"))
    progress = load_progress(store)
    render_metrics(docs, progress)
    frame = documents_frame(docs, progress)
    render_next_steps(docs, progress)
    render_round_matrix(frame)
    st.subheader(tr(STRINGS, "table"))
    st.caption(tr(STRINGS, "participants_only"))
    narrow = {key: st.column_config.NumberColumn(width=58) for key in
              ("col_segments", "col_accepted", "col_suggested", "col_rejected", "col_uncoded")}
    narrow["col_words"] = st.column_config.NumberColumn(width=70, format="localized")   # 12.345 in a Danish browser
    st.dataframe(frame, hide_index=True, width="stretch", height=table_height(len(frame)), column_config={
        **{tr(STRINGS, key): config for key, config in narrow.items()},
        tr(STRINGS, "col_round"): st.column_config.TextColumn(width=55),
        tr(STRINGS, "col_district"): st.column_config.TextColumn(width=95),
        tr(STRINGS, "col_group"): st.column_config.TextColumn(width=100),
        tr(STRINGS, "col_name"): st.column_config.TextColumn(width=column_width(frame[tr(STRINGS, "col_name")],
                                                                                least=200)),
        tr(STRINGS, "col_done"): st.column_config.ProgressColumn(
            tr(STRINGS, "col_done"), help=tr(STRINGS, "col_done_help"), min_value=0, max_value=100,
            format="%d %%", width=110),
    })
    render_finished(docs, store.finished_documents())


main()
