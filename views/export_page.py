"""Eksport: the coded excerpts as a Word memo draft, Excel and CSV; the project as REFI-QDA.

The filters are those of :func:`focusqa.export.select` (the same for every format and
for ``focusqa export``); the files are written by :mod:`focusqa.export.docx`,
:mod:`focusqa.export.tables` and :mod:`focusqa.export.refi`. Masking is on by default,
for the .qdpx too; the review lists what :class:`focusqa.privacy.Masker` will replace in
the chosen excerpts (with counts) and the capitalised words it is unsure of
(:func:`focusqa.privacy.masking_preview`), which one click adds to the name list.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from focusqa.analysis import round_order
from focusqa.config import MACHINE_CODER
from focusqa.errors import FocusqaError
from focusqa.export import Selection, select
from focusqa.export.docx import LAYOUTS, file_name, write_selection
from focusqa.export.codebook_files import taguette_csv
from focusqa.export.memo import memo_draft
from focusqa.export.refi import export_qdpx, write_qdc
from focusqa.export.tables import csv_bytes, xlsx_bytes
from focusqa.i18n import messages
from focusqa.privacy import load_names, names_file, save_names
from focusqa.store import Store
from focusqa.store.reconcile import FINAL_CODER
from views.common import (SCORE_STEPS, cached, code_label, error_text, flash, fmt_number, get_store, language,
                          load_codebook, load_coders, md_escape, relabelled, require_documents, show_error,
                          show_flashes, tr)

FILES_KEY = "export_files"
NAMES_KEY = "export_names"
UNSURE_KEY = "export_unsure_pick"
REVIEW_PAGE_ROWS = 500
CONTEXT = 40

STRINGS = messages("export_page")


# ------------------------------------------------------------------ cached work
@cached
def _selection(_store: Store, url: str, filters: tuple) -> Selection:
    return select(_store, **dict(filters))


@cached
def _qdc_bytes(_store: Store, url: str, version: int) -> bytes:
    """The codebook as .qdc (written to a temporary file by the REFI writer, then read back)."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_qdc(_store.codebook(), Path(folder) / "kodebog.qdc", guids=_store.code_guids())
        return path.read_bytes()


def _qdpx(store: Store, masking: bool, names: tuple[str, ...] | None) -> bytes:
    """The project file; ``names`` None is the saved name list."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "projekt.qdpx"
        export_qdpx(store, path, name="focusqa", masking=masking,
                    names=list(names) if names is not None else None)
        return path.read_bytes()


# ------------------------------------------------------------------ widgets
def _listed(values: list) -> tuple | None:
    return tuple(values) if values else None


def export_options(selection_filters: dict, masking: bool, names: tuple) -> dict:
    """Keyword arguments for :func:`focusqa.export.select` and the table writers."""
    return dict(selection_filters, masking=masking, names=tuple(names) if masking else None)


def _key(options: dict) -> tuple:
    return tuple(sorted(options.items()))


def filters(store: Store, docs: list, codebook) -> dict:
    """The export filters as keyword arguments for :func:`focusqa.export.select`."""
    st.subheader(tr(STRINGS, "filters"))
    rounds = round_order(d.round for d in docs)
    districts = sorted({d.district for d in docs if d.district})
    groups = sorted({d.group for d in docs if d.group})
    coders = [c for c in load_coders(store) if c != MACHINE_CODER]
    if FINAL_CODER in coders:  # the reconciled coding first: it is the team's answer
        coders = [FINAL_CODER] + [c for c in coders if c != FINAL_CODER]
    labels = {c.id: code_label(c) for c in codebook.codes}
    cols = st.columns(3)
    picked_rounds = cols[0].multiselect(tr(STRINGS, "rounds"), rounds, key="export_rounds",
                                        placeholder=tr(STRINGS, "all"), select_all=False)
    picked_districts = cols[1].multiselect(tr(STRINGS, "districts"), districts, key="export_districts",
                                           placeholder=tr(STRINGS, "all"), select_all=False)
    picked_groups = cols[2].multiselect(tr(STRINGS, "groups"), groups, key="export_groups",
                                        placeholder=tr(STRINGS, "all"), select_all=False)
    cols = st.columns([2, 1])
    picked_codes = cols[0].multiselect(tr(STRINGS, "codes"), codebook.ids, key=relabelled("export_codes"),
                                       format_func=labels.get, placeholder=tr(STRINGS, "all"), select_all=False)
    picked_coders = cols[1].multiselect(tr(STRINGS, "coders"), coders, key=relabelled("export_coders"),
                                        placeholder=tr(STRINGS, "all"),
                                        format_func=lambda c: tr(STRINGS, "reconciled") if c == FINAL_CODER else c,
                                        select_all=False)
    cols = st.columns([2, 1, 2])
    status_names = {"accepted": tr(STRINGS, "accepted"), "all": tr(STRINGS, "with_suggestions")}
    status = cols[0].radio(tr(STRINGS, "status"), list(status_names), format_func=status_names.get,
                           key=relabelled("export_status"), help=tr(STRINGS, "status_help"), horizontal=True)
    min_score = cols[1].select_slider(tr(STRINGS, "min_score"), SCORE_STEPS, value=0.0, key="export_min_score",
                                      format_func=lambda v: fmt_number(v, 2), help=tr(STRINGS, "min_score_help"))
    layout_names = {name: tr(STRINGS, f"layout_{name}") for name in LAYOUTS}
    cols[2].radio(tr(STRINGS, "layout"), list(LAYOUTS), format_func=layout_names.get, key=relabelled("export_layout"))
    if st.session_state.get("export_layout", LAYOUTS[0]) == "memo":
        cols[2].checkbox(tr(STRINGS, "appendix"), key="export_appendix")
    st.text_input(tr(STRINGS, "evaluation"), key="export_evaluation",
                  placeholder=tr(STRINGS, "evaluation_placeholder"))
    return {"rounds": _listed(picked_rounds), "districts": _listed(picked_districts),
            "groups": _listed(picked_groups), "codes": _listed(picked_codes), "coders": _listed(picked_coders),
            "statuses": status, "min_score": min_score or None}


def _save_names() -> None:
    names = _names_from_box()
    try:
        path = save_names(names)
    except OSError as error:
        flash("error", error_text(error))
        return
    flash("success", tr(STRINGS, "names_saved", n=len(names), path=path))


def _names_from_box() -> list[str]:
    return [line.strip() for line in str(st.session_state.get(NAMES_KEY) or "").splitlines() if line.strip()]


def privacy() -> tuple[bool, tuple[str, ...]]:
    """The masking switch and the extra name list (kept in navne.txt when saved)."""
    st.subheader(tr(STRINGS, "privacy"))
    masking = st.toggle(tr(STRINGS, "masking"), value=True, key="export_masking", help=tr(STRINGS, "masking_help"))
    if not masking:
        st.warning(tr(STRINGS, "masking_off"))
        return False, ()
    if NAMES_KEY not in st.session_state:
        try:
            st.session_state[NAMES_KEY] = "\n".join(load_names())
        except FocusqaError as error:
            show_error(error)
            st.session_state[NAMES_KEY] = ""
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].text_area(tr(STRINGS, "names"), key=NAMES_KEY, height=110, help=tr(STRINGS, "names_help"))
    cols[1].button(tr(STRINGS, "save_names"), key="export_save_names", on_click=_save_names,
                   help=str(names_file()))
    return True, tuple(_names_from_box())


def _add_to_names(words: list[str]) -> None:
    current = _names_from_box()
    added = [w for w in words if w not in current]
    st.session_state[NAMES_KEY] = "\n".join(current + added)
    st.session_state[UNSURE_KEY] = []
    flash("success", tr(STRINGS, "unsure_added", n=len(added)))


def review_table(selection: Selection) -> None:
    """What masking replaces (with counts), the words it is unsure of, and every place in context."""
    preview = selection.masking_preview()
    if preview is None:
        return
    masker = selection.masker
    st.markdown(f"#### {tr(STRINGS, 'review')}")
    kinds = {k: tr(STRINGS, f"kind_{k}") for k in ("name", "institution", "cpr", "phone", "email")}
    if preview.speakers:
        st.caption(tr(STRINGS, "speakers_masked", names=", ".join(map(md_escape, preview.speakers))))
    if preview.found:
        st.caption(tr(STRINGS, "found_intro", n=fmt_number(preview.total),
                      excerpts=fmt_number(len(selection.excerpts))))
        st.dataframe(pd.DataFrame([{tr(STRINGS, "col_kind"): kinds.get(kind, kind), tr(STRINGS, "col_found"): text,
                                    tr(STRINGS, "col_count"): n} for kind, text, n in preview.found]),
                     hide_index=True, width="stretch", key="export_found")
    else:
        st.caption(tr(STRINGS, "review_none"))
    st.markdown(f"##### {tr(STRINGS, 'unsure')}")
    if not preview.unsure:
        st.caption(tr(STRINGS, "unsure_none"))
    else:
        st.caption(tr(STRINGS, "unsure_intro"))
        st.dataframe(pd.DataFrame([{tr(STRINGS, "col_word"): word, tr(STRINGS, "col_count"): n,
                                    tr(STRINGS, "col_example"): example} for word, n, example in preview.unsure]),
                     hide_index=True, width="stretch", key="export_unsure", column_config={
                         tr(STRINGS, "col_example"): st.column_config.TextColumn(width="large")})
        cols = st.columns([3, 1], vertical_alignment="bottom")
        picked = cols[0].multiselect(tr(STRINGS, "unsure_pick"), [w for w, _n, _e in preview.unsure], key=UNSURE_KEY,
                                     placeholder=tr(STRINGS, "unsure_pick_ph"), select_all=False)
        cols[1].button(tr(STRINGS, "unsure_add"), key="export_unsure_add", on_click=_add_to_names, args=(picked,),
                       disabled=not picked)
    rows = []
    for item in selection.excerpts:
        text = item.text
        for f in masker.findings(text):
            before = text[max(0, f.start - CONTEXT):f.start]
            after = text[f.end:f.end + CONTEXT]
            rows.append({
                tr(STRINGS, "col_kind"): kinds.get(f.kind, f.kind),
                tr(STRINGS, "col_found"): f.text,
                tr(STRINGS, "col_replacement"): f.replacement,
                tr(STRINGS, "col_document"): item.segment.document,
                tr(STRINGS, "col_turn"): item.segment.index + 1,
                tr(STRINGS, "col_context"): f"…{before}[{f.text}]{after}…",
            })
    if not rows:
        return
    with st.expander(tr(STRINGS, "all_places"), key="export_all_places"):
        st.caption(tr(STRINGS, "review_intro", n=fmt_number(len(rows)), excerpts=fmt_number(len(selection.excerpts))))
        if len(rows) > REVIEW_PAGE_ROWS:
            st.caption(tr(STRINGS, "review_truncated", shown=REVIEW_PAGE_ROWS, n=fmt_number(len(rows))))
        st.dataframe(pd.DataFrame(rows[:REVIEW_PAGE_ROWS]), hide_index=True, width="stretch", column_config={
            tr(STRINGS, "col_context"): st.column_config.TextColumn(width="large")})


def _file_name(suffix: str) -> str:
    return f"kodede_uddrag_{date.today().isoformat()}.{suffix}"


def make_files(store: Store, selection_filters: dict, masking: bool, names: tuple, signature: tuple) -> None:
    """Write Word, Excel and CSV for the current filters and keep them for the download buttons."""
    options = export_options(selection_filters, masking, names)
    selection = _selection(store, store.url, _key(options))
    lang = language()
    layout = st.session_state.get("export_layout", LAYOUTS[0])
    evaluation = str(st.session_state.get("export_evaluation") or "").strip() or None
    buffer = io.BytesIO()
    draft = memo_draft(store, selection.excerpts, selection.rounds) if layout == "memo" else None
    write_selection(selection, buffer, layout=layout, evaluation_name=evaluation, language=lang, draft=draft,
                    appendix=bool(st.session_state.get("export_appendix")))
    files = {
        "docx": (file_name(layout), buffer.getvalue()),
        "xlsx": (_file_name("xlsx"), xlsx_bytes(store, language=lang, **options)),
        "csv": (_file_name("csv"), csv_bytes(store, language=lang, **options)),
    }
    st.session_state[FILES_KEY] = {"signature": signature, "files": files, "excerpts": len(selection.excerpts)}


def downloads(store: Store, selection_filters: dict, masking: bool, names: tuple) -> None:
    """The make button, then one download button per format (only for files matching the filters)."""
    # what the files contain, not the interface language: switching it keeps the made files
    signature = (tuple(sorted(selection_filters.items())), masking, names,
                 st.session_state.get("export_layout"), st.session_state.get("export_appendix"),
                 st.session_state.get("export_evaluation"))
    made = st.session_state.get(FILES_KEY)
    current = made is not None and made.get("signature") == signature
    if made is not None and not current:
        st.info(tr(STRINGS, "stale"))
    if st.button(tr(STRINGS, "make"), key="export_make", type="primary" if not current else "secondary",
                 icon=":material/description:"):
        try:
            with st.spinner(tr(STRINGS, "making")):
                make_files(store, selection_filters, masking, names, signature)
        except FocusqaError as error:
            show_error(error)
            return
        made, current = st.session_state[FILES_KEY], True
    if not current:
        return
    st.success(tr(STRINGS, "made", n=fmt_number(made["excerpts"])))
    files = made["files"]
    cols = st.columns(3)
    mimes = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv"}
    for col, (kind, label, icon) in zip(cols, (("docx", "word", ":material/description:"),
                                                ("xlsx", "excel", ":material/table_chart:"),
                                                ("csv", "csv", ":material/csv:"))):
        name, data = files[kind]
        col.download_button(tr(STRINGS, label), data=data, file_name=name, mime=mimes[kind],
                            key=f"export_download_{kind}", icon=icon, on_click="ignore")


def refi_section(store: Store, codebook, names: tuple[str, ...] | None) -> None:
    """Codebook (.qdc) straight away; the whole project (.qdpx) on request, masked unless switched off
    (with the name box above, or the saved name list when the box is hidden)."""
    st.subheader(tr(STRINGS, "refi"))
    st.caption(tr(STRINGS, "refi_intro"))
    # the codebook on one row, the project on the next: each label whole on a laptop screen
    codebook_row = st.container(horizontal=True)
    try:
        qdc = _qdc_bytes(store, store.url, codebook.version)
        codebook_row.download_button(tr(STRINGS, "qdc"), data=qdc, file_name="kodebog.qdc",
                                     mime="application/xml", key="export_download_qdc",
                                     icon=":material/menu_book:", on_click="ignore")
        codebook_row.download_button(tr(STRINGS, "taguette"), data=taguette_csv(codebook),
                                     file_name="kodebog_taguette.csv", mime="text/csv",
                                     key="export_download_taguette", icon=":material/sell:", on_click="ignore")
    except FocusqaError as error:
        show_error(error)
    masking = st.toggle(tr(STRINGS, "qdpx_masking"), value=True, key="export_qdpx_masking",
                        help=tr(STRINGS, "qdpx_masking_help"))
    signature = (masking, names if masking else None)
    if st.session_state.get("export_qdpx_signature") != signature:
        st.session_state.pop("export_qdpx", None)      # a file made with other settings is not offered
    project_row = st.container(horizontal=True)
    if project_row.button(tr(STRINGS, "qdpx_make"), key="export_make_qdpx", icon=":material/folder_zip:"):
        try:
            with st.spinner(tr(STRINGS, "qdpx_make") + " …"):
                st.session_state["export_qdpx"] = _qdpx(store, masking, names)
            st.session_state["export_qdpx_signature"] = signature
        except FocusqaError as error:
            show_error(error)
    if not masking:
        st.warning(tr(STRINGS, "qdpx_warning"))
    if "export_qdpx" in st.session_state:
        data = st.session_state["export_qdpx"]
        project_row.download_button(tr(STRINGS, "qdpx"), data=data, file_name="projekt.qdpx",
                                    mime="application/zip", key="export_download_qdpx",
                                    icon=":material/download:", on_click="ignore")
        st.caption(tr(STRINGS, "qdpx_made", size=fmt_number(len(data) / 1024)))
        if masking:
            st.caption(tr(STRINGS, "qdpx_masked"))


def main() -> None:
    st.title(tr(STRINGS, "title"))
    st.caption(tr(STRINGS, "intro"))
    show_flashes()
    store = get_store()
    docs = require_documents(store)
    codebook = load_codebook(store)
    selection_filters = filters(store, docs, codebook)
    masking, names = privacy()
    try:
        selection = _selection(store, store.url, _key(export_options(selection_filters, masking, names)))
    except FocusqaError as error:
        show_error(error)
        return
    review_table(selection)
    st.divider()
    docs = len({e.segment.document_id for e in selection.excerpts})
    st.markdown(tr(STRINGS, "count_one_doc" if docs == 1 else "count", n=fmt_number(len(selection.excerpts)),
                   docs=fmt_number(docs)))
    if not selection.excerpts:
        st.info(tr(STRINGS, "nothing"))
    else:
        downloads(store, selection_filters, masking, names)
    st.divider()
    refi_section(store, codebook, names if masking else None)


main()
