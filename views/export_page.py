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
UNSURE_KEY = "export_unsure_pick"
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
        "kind_institution": "institution",
        "col_count": "Antal",
        "found_intro": "Det her erstattes i de valgte uddrag (i alt {n} steder i {excerpts} uddrag):",
        "all_places": "Alle steder med sammenhæng",
        "unsure": "Måske navne – tjek dem",
        "unsure_intro": "Ord med stort begyndelsesbogstav midt i en sætning – og navne, der også er almindelige "
                        "ord (Bo, Hans), i starten af en sætning – bliver ikke maskeret. Er nogle af dem navne på "
                        "personer, steder eller institutioner, så føj dem til navnelisten.",
        "col_word": "Ord",
        "col_example": "Eksempel",
        "unsure_pick": "Føj disse ord til navnelisten",
        "unsure_add": "Tilføj til navnelisten",
        "unsure_added": "{n} ord er føjet til navnelisten og maskeres nu. Gem listen for at bruge den næste gang.",
        "unsure_none": "Ingen ord med stort midt i en sætning, som ikke bliver maskeret.",
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
        "qdpx_masking": "Maskér projektfilen (den forlader teamet)",
        "qdpx_masking_help": "Som i Word-eksporten: navne, CPR-numre, telefonnumre og e-mails maskeres i "
                             "teksterne, memoerne og variablerne, og talere vises ved rolle; kodningerne peger "
                             "stadig på de samme ord. Slå kun fra, når filen bliver i teamet (fx kodning i "
                             "QualCoder og import af koderne igen): en maskeret fil bliver til nye dokumenter, "
                             "hvis den importeres igen.",
        "qdpx_masked": "Projektfilen er maskeret med navnelisten ovenfor.",
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
        "kind_institution": "institution",
        "col_count": "Count",
        "found_intro": "This is replaced in the chosen excerpts ({n} places in {excerpts} excerpts):",
        "all_places": "Every place, with context",
        "unsure": "Maybe names – check them",
        "unsure_intro": "Words with a capital letter mid-sentence – and names that are also ordinary words (Bo, "
                        "Hans) at the start of a sentence – are not masked. If some are names of people, places "
                        "or institutions, add them to the name list.",
        "col_word": "Word",
        "col_example": "Example",
        "unsure_pick": "Add these words to the name list",
        "unsure_add": "Add to the name list",
        "unsure_added": "{n} words were added to the name list and are masked now. Save the list to keep it.",
        "unsure_none": "No capitalised words mid-sentence that are left unmasked.",
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
        "qdpx_masking": "Mask the project file (it leaves the team)",
        "qdpx_masking_help": "As in the Word export: names, CPR numbers, phone numbers and e-mails are masked in "
                             "the texts, memos and variables, and speakers are shown by role; the codings still "
                             "point at the same words. Turn off only when the file stays in the team (e.g. coding "
                             "in QualCoder and importing the codes back): a masked file imported again becomes "
                             "new documents.",
        "qdpx_masked": "The project file is masked with the name list above.",
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


def _qdpx(store: Store, masking: bool, names: tuple[str, ...] | None) -> tuple[bytes, str]:
    """The project file; ``names`` None is the saved name list."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "projekt.qdpx"
        summary = export_qdpx(store, path, name="focusqa", masking=masking,
                              names=list(names) if names is not None else None)
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
        picked = cols[0].multiselect(tr(STRINGS, "unsure_pick"), [w for w, _n, _e in preview.unsure], key=UNSURE_KEY)
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
    with st.expander(tr(STRINGS, "all_places")):
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


def refi_section(store: Store, codebook, names: tuple[str, ...] | None) -> None:
    """Codebook (.qdc) straight away; the whole project (.qdpx) on request, masked unless switched off
    (with the name box above, or the saved name list when the box is hidden)."""
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
    masking = cols[1].toggle(tr(STRINGS, "qdpx_masking"), value=True, key="export_qdpx_masking",
                             help=tr(STRINGS, "qdpx_masking_help"))
    signature = (masking, names if masking else None)
    if st.session_state.get("export_qdpx_signature") != signature:
        st.session_state.pop("export_qdpx", None)      # a file made with other settings is not offered
    if cols[1].button(tr(STRINGS, "qdpx_make"), key="export_make_qdpx", icon="🗜️"):
        try:
            with st.spinner(tr(STRINGS, "qdpx_make") + " …"):
                data, summary = _qdpx(store, masking, names)
            st.session_state["export_qdpx"] = (data, summary)
            st.session_state["export_qdpx_signature"] = signature
        except FocusqaError as error:
            show_error(error)
    if not masking:
        st.warning(tr(STRINGS, "qdpx_warning"))
    if "export_qdpx" in st.session_state:
        data, summary = st.session_state["export_qdpx"]
        cols[2].download_button(tr(STRINGS, "qdpx"), data=data, file_name="projekt.qdpx",
                                mime="application/zip", key="export_download_qdpx",
                                icon="⬇️", on_click="ignore")
        st.caption(tr(STRINGS, "qdpx_made", summary=summary, size=fmt_number(len(data) / 1024)))
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
    st.markdown(tr(STRINGS, "count", n=fmt_number(len(selection.excerpts)),
                   docs=fmt_number(len({e.segment.document_id for e in selection.excerpts}))))
    if not selection.excerpts:
        st.info(tr(STRINGS, "nothing"))
    else:
        downloads(store, selection_filters, masking, names)
    st.divider()
    refi_section(store, codebook, names if masking else None)


main()
