"""Eksport: the coded excerpts as a Word memo draft, Excel and CSV; the project as REFI-QDA.

The filters are those of :func:`focusqa.export.select` (the same for every format and
for ``focusqa export``); the files are written by :mod:`focusqa.export.docx`,
:mod:`focusqa.export.tables` and :mod:`focusqa.export.refi`. Masking is on by default;
the review table lists everything :class:`focusqa.privacy.Masker` will replace in the
chosen excerpts, so the evaluator can check it before sharing the file.
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
from focusqa.export.docx import LAYOUTS, write_selection
from focusqa.export.codebook_files import taguette_csv
from focusqa.export.memo import memo_draft
from focusqa.export.refi import export_qdpx, write_qdc
from focusqa.export.tables import csv_bytes, xlsx_bytes
from focusqa.privacy import load_names, names_file, save_names
from focusqa.store import Store
from focusqa.store.reconcile import FINAL_CODER
from views.common import (SCORE_STEPS, cached, code_label, flash, fmt_number, get_store, language, load_codebook,
                          load_coders, md_escape, require_documents, show_error, show_flashes, tr)

FILES_KEY = "export_files"
NAMES_KEY = "export_names"
REVIEW_PAGE_ROWS = 500
CONTEXT = 40

STRINGS = {
    "da": {
        "title": "Eksport",
        "intro": "De kodede uddrag som et første udkast til evalueringsnotatet i Word – ordnet efter "
                 "interviewguidens punkter, distrikter og grupper, med kildeangivelse ved hvert citat – og "
                 "som Excel og CSV til egne opgørelser.",
        "filters": "Hvad skal med",
        "rounds": "Runder",
        "districts": "Distrikter",
        "groups": "Respondentgrupper",
        "codes": "Koder",
        "coders": "Kodere",
        "empty_all": "Tom = alle.",
        "status": "Kodninger",
        "accepted": "Kun bekræftede",
        "with_suggestions": "Bekræftede og maskinens forslag",
        "status_help": "Forslag, der ikke er gennemset, markeres som forslag i filerne.",
        "min_score": "Mindste score",
        "min_score_help": "Udelad forslag (og bekræftede forslag) med lavere score. 0 = ingen grænse. "
                          "Koder, som en koder selv har sat, har ingen score og kommer altid med.",
        "layout": "Opstilling i Word",
        "layout_memo": "Notatudkast (synteser og udvalgte udsagn)",
        "reconciled": "afstemt (teamets afgørelse)",
        "appendix": "Bilag med alle uddrag",
        "layout_code-district": "Alle uddrag: kode → distrikt",
        "layout_district-code": "Distrikt → kode",
        "layout_rounds": "Runderne side om side",
        "evaluation": "Evalueringens navn (forsiden)",
        "evaluation_placeholder": "fx Socialrådgivere i skoler og dagtilbud – opfølgning 2017",
        "privacy": "Beskyttelse af personoplysninger",
        "masking": "Maskér navne, CPR-numre, telefonnumre og e-mails",
        "masking_help": "Talere vises ved deres rolle. Slå kun fra til internt brug.",
        "masking_off": "Maskering er slået fra: filerne indeholder navne og andre personoplysninger. "
                       "Brug dem kun internt.",
        "names": "Ekstra navne, der skal maskeres (ét pr. linje)",
        "names_help": "Fx navne på børn, forældre og kolleger, der nævnes i interviewene. Talernes navne "
                      "fra transskriptionerne maskeres automatisk.",
        "save_names": "Gem navnelisten",
        "names_saved": "Navnelisten er gemt ({n} navne) i {path}.",
        "review": "Det her bliver maskeret",
        "review_intro": "{n} steder i {excerpts} uddrag bliver erstattet. Kig listen igennem, før filen "
                        "deles – mangler et navn, så tilføj det ovenfor.",
        "review_none": "Intet i de valgte uddrag bliver maskeret.",
        "review_truncated": "Viser de første {shown} af {n}.",
        "speakers_masked": "Talere, der vises ved rolle i stedet for navn: {names}.",
        "col_kind": "Type",
        "col_found": "Fundet",
        "col_replacement": "Erstattes med",
        "col_document": "Interview",
        "col_turn": "Tur",
        "col_context": "Sammenhæng",
        "kind_name": "navn",
        "kind_cpr": "CPR-nr.",
        "kind_phone": "telefon",
        "kind_email": "e-mail",
        "count": "**{n}** uddrag fra {docs} interviews med de valgte filtre.",
        "nothing": "Ingen uddrag passer til filtrene. Tjek runder, koder og status.",
        "make": "Lav filerne",
        "making": "Skriver Word, Excel og CSV …",
        "stale": "Filtrene er ændret, siden filerne blev lavet. Lav dem igen.",
        "made": "Filerne er klar: {n} uddrag.",
        "word": "Hent Word (.docx)",
        "excel": "Hent Excel (.xlsx)",
        "csv": "Hent CSV",
        "refi": "Til andre QDA-programmer (REFI-QDA)",
        "refi_intro": "Kodebogen og hele projektet i det fælles format, som NVivo, ATLAS.ti, MAXQDA og "
                      "QualCoder kan læse.",
        "qdc": "Hent kodebogen (.qdc)",
        "taguette": "Hent kodebogen til Taguette (.csv)",
        "qdpx_make": "Lav projektfil (.qdpx)",
        "qdpx": "Hent projektet (.qdpx)",
        "qdpx_warning": "Projektfilen indeholder de fulde transskriptioner uden maskering. Del den kun med "
                        "personer, der må se materialet.",
        "qdpx_made": "Projektfilen er klar ({size} kB): alle interviews, kodebogen, koderes bekræftede koder, "
                     "runde/distrikt/gruppe og memoer. Maskinens forslag og afviste koder kommer ikke med – "
                     "de andre programmer har ingen plads til dem.",
        "all": "alle",
    },
    "en": {
        "title": "Export",
        "intro": "The coded excerpts as a first draft of the evaluation memo in Word – ordered by the "
                 "interview guide's points, districts and groups, with a source line under every quote – "
                 "and as Excel and CSV for your own tables.",
        "filters": "What to include",
        "rounds": "Rounds",
        "districts": "Districts",
        "groups": "Respondent groups",
        "codes": "Codes",
        "coders": "Coders",
        "empty_all": "Empty = all.",
        "status": "Codings",
        "accepted": "Confirmed only",
        "with_suggestions": "Confirmed and the machine's suggestions",
        "status_help": "Suggestions not yet reviewed are marked as suggestions in the files.",
        "min_score": "Minimum score",
        "min_score_help": "Leave out suggestions (and confirmed suggestions) scoring lower. 0 = no limit. "
                          "Codes a coder set by hand have no score and are always included.",
        "layout": "Word layout",
        "layout_memo": "Memo draft (syntheses and chosen statements)",
        "reconciled": "reconciled (the team's decision)",
        "appendix": "Appendix with every excerpt",
        "layout_code-district": "Every excerpt: code → district",
        "layout_district-code": "District → code",
        "layout_rounds": "Rounds side by side",
        "evaluation": "Name of the evaluation (title page)",
        "evaluation_placeholder": "e.g. Social workers in schools and daycare – follow-up 2017",
        "privacy": "Personal data",
        "masking": "Mask names, CPR numbers, phone numbers and e-mails",
        "masking_help": "Speakers are shown by their role. Turn off for internal use only.",
        "masking_off": "Masking is off: the files contain names and other personal data. Use them "
                       "internally only.",
        "names": "Extra names to mask (one per line)",
        "names_help": "E.g. names of children, parents and colleagues mentioned in the interviews. The "
                      "speakers' names from the transcripts are masked automatically.",
        "save_names": "Save the name list",
        "names_saved": "The name list is saved ({n} names) in {path}.",
        "review": "What will be masked",
        "review_intro": "{n} places in {excerpts} excerpts will be replaced. Check the list before sharing "
                        "the file – if a name is missing, add it above.",
        "review_none": "Nothing in the chosen excerpts will be masked.",
        "review_truncated": "Showing the first {shown} of {n}.",
        "speakers_masked": "Speakers shown by role instead of name: {names}.",
        "col_kind": "Kind",
        "col_found": "Found",
        "col_replacement": "Replaced by",
        "col_document": "Interview",
        "col_turn": "Turn",
        "col_context": "Context",
        "kind_name": "name",
        "kind_cpr": "CPR no.",
        "kind_phone": "phone",
        "kind_email": "e-mail",
        "count": "**{n}** excerpts from {docs} interviews with the chosen filters.",
        "nothing": "No excerpts match the filters. Check rounds, codes and status.",
        "make": "Make the files",
        "making": "Writing Word, Excel and CSV …",
        "stale": "The filters changed since the files were made. Make them again.",
        "made": "The files are ready: {n} excerpts.",
        "word": "Download Word (.docx)",
        "excel": "Download Excel (.xlsx)",
        "csv": "Download CSV",
        "refi": "For other QDA programs (REFI-QDA)",
        "refi_intro": "The codebook and the whole project in the exchange format NVivo, ATLAS.ti, MAXQDA and "
                      "QualCoder read.",
        "qdc": "Download the codebook (.qdc)",
        "taguette": "Download the codebook for Taguette (.csv)",
        "qdpx_make": "Make project file (.qdpx)",
        "qdpx": "Download the project (.qdpx)",
        "qdpx_warning": "The project file holds the full transcripts without masking. Share it only with "
                        "people allowed to see the material.",
        "qdpx_made": "The project file is ready ({size} kB): {summary}.",
        "all": "all",
    },
}


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


def _qdpx(store: Store) -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "projekt.qdpx"
        summary = export_qdpx(store, path, name="focusqa")
        return path.read_bytes(), summary


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
                                        placeholder=tr(STRINGS, "all"))
    picked_districts = cols[1].multiselect(tr(STRINGS, "districts"), districts, key="export_districts",
                                           placeholder=tr(STRINGS, "all"))
    picked_groups = cols[2].multiselect(tr(STRINGS, "groups"), groups, key="export_groups",
                                        placeholder=tr(STRINGS, "all"))
    cols = st.columns([2, 1])
    picked_codes = cols[0].multiselect(tr(STRINGS, "codes"), codebook.ids, key="export_codes",
                                       format_func=labels.get, placeholder=tr(STRINGS, "all"))
    picked_coders = cols[1].multiselect(tr(STRINGS, "coders"), coders, key="export_coders",
                                        placeholder=tr(STRINGS, "all"),
                                        format_func=lambda c: tr(STRINGS, "reconciled") if c == FINAL_CODER else c)
    cols = st.columns([2, 1, 2])
    status_names = {"accepted": tr(STRINGS, "accepted"), "all": tr(STRINGS, "with_suggestions")}
    status = cols[0].radio(tr(STRINGS, "status"), list(status_names), format_func=status_names.get,
                           key="export_status", help=tr(STRINGS, "status_help"), horizontal=True)
    min_score = cols[1].select_slider(tr(STRINGS, "min_score"), SCORE_STEPS, value=0.0, key="export_min_score",
                                      format_func=lambda v: fmt_number(v, 2), help=tr(STRINGS, "min_score_help"))
    layout_names = {name: tr(STRINGS, f"layout_{name}") for name in LAYOUTS}
    cols[2].radio(tr(STRINGS, "layout"), list(LAYOUTS), format_func=layout_names.get, key="export_layout")
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
        flash("error", str(error))
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


def review_table(selection: Selection) -> None:
    """Every finding of the masker in the chosen excerpts, with a little context around it."""
    masker = selection.masker
    if masker is None:
        return
    st.markdown(f"#### {tr(STRINGS, 'review')}")
    kinds = {k: tr(STRINGS, f"kind_{k}") for k in ("name", "cpr", "phone", "email")}
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
    if masker.name_speakers:
        st.caption(tr(STRINGS, "speakers_masked", names=", ".join(map(md_escape, masker.name_speakers))))
    if not rows:
        st.caption(tr(STRINGS, "review_none"))
        return
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
        "docx": (_file_name("docx"), buffer.getvalue()),
        "xlsx": (_file_name("xlsx"), xlsx_bytes(store, language=lang, **options)),
        "csv": (_file_name("csv"), csv_bytes(store, language=lang, **options)),
    }
    st.session_state[FILES_KEY] = {"signature": signature, "files": files, "excerpts": len(selection.excerpts)}


def downloads(store: Store, selection_filters: dict, masking: bool, names: tuple) -> None:
    """The make button, then one download button per format (only for files matching the filters)."""
    signature = (tuple(sorted(selection_filters.items())), masking, names,
                 st.session_state.get("export_layout"), st.session_state.get("export_appendix"),
                 st.session_state.get("export_evaluation"), language())
    made = st.session_state.get(FILES_KEY)
    current = made is not None and made.get("signature") == signature
    if made is not None and not current:
        st.info(tr(STRINGS, "stale"))
    if st.button(tr(STRINGS, "make"), key="export_make", type="primary" if not current else "secondary",
                 icon="📄"):
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
    for col, (kind, label, icon) in zip(cols, (("docx", "word", "📄"),
                                                ("xlsx", "excel", "📋"),
                                                ("csv", "csv", "🧾"))):
        name, data = files[kind]
        col.download_button(tr(STRINGS, label), data=data, file_name=name, mime=mimes[kind],
                            key=f"export_download_{kind}", icon=icon, on_click="ignore")


def refi_section(store: Store, codebook) -> None:
    """Codebook (.qdc) straight away; the whole project (.qdpx) on request."""
    st.subheader(tr(STRINGS, "refi"))
    st.caption(tr(STRINGS, "refi_intro"))
    cols = st.columns([1, 1, 2], vertical_alignment="center")
    try:
        qdc = _qdc_bytes(store, store.url, codebook.version)
        cols[0].download_button(tr(STRINGS, "qdc"), data=qdc, file_name="kodebog.qdc", mime="application/xml",
                                key="export_download_qdc", icon="📖", on_click="ignore")
        cols[0].download_button(tr(STRINGS, "taguette"), data=taguette_csv(codebook), file_name="kodebog_taguette.csv",
                                mime="text/csv", key="export_download_taguette", icon="🏷️",
                                on_click="ignore")
    except FocusqaError as error:
        show_error(error)
    if cols[1].button(tr(STRINGS, "qdpx_make"), key="export_make_qdpx", icon="🗜️"):
        try:
            with st.spinner(tr(STRINGS, "qdpx_make") + " …"):
                data, summary = _qdpx(store)
            st.session_state["export_qdpx"] = (data, summary)
        except FocusqaError as error:
            show_error(error)
    if "export_qdpx" in st.session_state:
        data, summary = st.session_state["export_qdpx"]
        cols[2].download_button(tr(STRINGS, "qdpx"), data=data, file_name="projekt.qdpx",
                                mime="application/zip", key="export_download_qdpx",
                                icon="⬇️", on_click="ignore")
        st.caption(tr(STRINGS, "qdpx_made", summary=summary, size=fmt_number(len(data) / 1024)))
        st.warning(tr(STRINGS, "qdpx_warning"))


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
    st.markdown(tr(STRINGS, "count", n=fmt_number(len(selection.excerpts)),
                   docs=fmt_number(len({e.segment.document_id for e in selection.excerpts}))))
    if not selection.excerpts:
        st.info(tr(STRINGS, "nothing"))
    else:
        downloads(store, selection_filters, masking, names)
    st.divider()
    refi_section(store, codebook)


main()
