"""Import: upload transcripts, set round/district/group, check the parsed turns, commit."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from focusqa.errors import FocusqaError
from focusqa.i18n import explain_error, messages
from focusqa.ingest import read_transcript
from focusqa.ingest.metadata import edited_metadata
from focusqa.types import DocumentMetadata, ParsedDocument, turn_number
from views.common import (after_write, coder_name, error_text, flash, fmt_number, get_store, get_tagger, language,
                          load_documents, md_escape, require_coder, show_flashes, suggest_document, tr)

UPLOADER_KEY = "_import_uploader_generation"
PREVIEW_TURNS = 200

STRINGS = messages("import_page")


@dataclass
class Candidate:
    """One uploaded file after parsing: the document, or why it cannot be imported."""

    name: str
    parsed: ParsedDocument | None = None
    error: str | None = None
    existing: str | None = None
    twin: str | None = None      # an earlier file of the same upload with the same text


def parse_upload(name: str, data: bytes, metadata: DocumentMetadata) -> ParsedDocument:
    """Parse uploaded bytes with the same reader as the command line (via a temp file)."""
    with tempfile.TemporaryDirectory(prefix="focusqa-upload-") as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(data)
        return read_transcript(path, metadata)


def _metadata_inputs(store) -> DocumentMetadata:
    docs = load_documents(store)
    cols = st.columns(4)
    values = {}
    for col, field, attr in zip(cols, ("round", "district", "group"), ("round", "district", "group")):
        known = sorted({getattr(d, attr) for d in docs if getattr(d, attr)})
        values[field] = col.text_input(tr(STRINGS, field), key=f"import_{field}",
                                       placeholder=tr(STRINGS, f"{field}_ph"),
                                       help=tr(STRINGS, "known", values=", ".join(known)) if known else None)
    moderators = cols[3].text_input(tr(STRINGS, "moderators"), key="import_moderators",
                                    help=tr(STRINGS, "moderators_help"))
    return DocumentMetadata(round=values["round"].strip() or None,
                            district=values["district"].strip() or None,
                            group=values["group"].strip() or None,
                            moderators=[m.strip() for m in moderators.split(",") if m.strip()])


def _without_temp_path(error: FocusqaError) -> str:
    """The reader's message without the temporary folder the upload was parsed in."""
    where = tr(STRINGS, "line", line=error.line) + ": " if error.line is not None else ""
    return where + explain_error(error.message, language())


def candidates(store, uploads: list, metadata: DocumentMetadata) -> list[Candidate]:
    """Parse every upload; each failure or duplicate is kept with its own message."""
    names = {d.id: d.name for d in load_documents(store)}
    out: list[Candidate] = []
    first_with: dict[str, str] = {}
    for upload in uploads:
        try:
            parsed = parse_upload(upload.name, upload.getvalue(), metadata)
        except FocusqaError as error:
            out.append(Candidate(upload.name, error=_without_temp_path(error)))
            continue
        if parsed.content_hash in first_with:
            out.append(Candidate(upload.name, parsed, twin=first_with[parsed.content_hash]))
            continue
        first_with[parsed.content_hash] = upload.name
        existing = store.find_document(parsed.content_hash)
        out.append(Candidate(upload.name, parsed, existing=names.get(existing, str(existing))
                             if existing is not None else None))
    return out


def _present_message(candidate: Candidate) -> str:
    if candidate.existing == candidate.name:
        return tr(STRINGS, "present_same", name=md_escape(candidate.name))
    return tr(STRINGS, "present", name=md_escape(candidate.name), existing=md_escape(candidate.existing))


def render_preview(candidate: Candidate) -> None:
    parsed = candidate.parsed
    segments = parsed.segments
    participants = sum(1 for s in segments if s.role == "participant")
    unset = tr(STRINGS, "unset")
    meta = parsed.metadata
    with st.expander(md_escape(candidate.name), expanded=False, icon=":material/description:"):
        st.caption(tr(STRINGS, "meta", round=meta.round or unset, district=meta.district or unset,
                      group=meta.group or unset))
        st.write(tr(STRINGS, "turns", n=fmt_number(len(segments)), p=fmt_number(participants),
                    m=fmt_number(len(segments) - participants), w=fmt_number(parsed.word_count)))
        if not meta.round or not meta.district:
            st.warning(tr(STRINGS, "no_meta"))
        shown = segments[:PREVIEW_TURNS]
        st.dataframe(pd.DataFrame({
            tr(STRINGS, "col_turn"): [turn_number(s.turn) for s in shown],
            tr(STRINGS, "col_speaker"): [s.speaker or "" for s in shown],
            tr(STRINGS, "col_role"): [tr(STRINGS, s.role) for s in shown],
            tr(STRINGS, "col_text"): [s.text for s in shown],
        }), hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 400))
        if len(segments) > PREVIEW_TURNS:
            st.caption(tr(STRINGS, "more_turns", shown=PREVIEW_TURNS, n=fmt_number(len(segments))))


def suggest_after_import(store, document_id: int, name: str) -> None:
    """The machine's suggestions for a new interview at once, as ``make run`` gives the demo."""
    try:
        with st.spinner(tr(STRINGS, "suggesting")):
            written = suggest_document(store, get_tagger(), document_id)
    except FocusqaError as error:  # the import stands; "Opdater forslag" on Kodning can retry
        flash("warning", error_text(error))
        return
    flash("info", tr(STRINGS, "suggested", name=md_escape(name), n=fmt_number(written)))


def commit(store, ready: list[Candidate]) -> None:
    """Import each file on its own (one file failing does not stop the others)."""
    actor = coder_name() or "import"
    for candidate in ready:
        try:
            status, document_id = store.import_document(candidate.parsed, actor=actor)
        except FocusqaError as error:
            flash("error", tr(STRINGS, "failed", name=md_escape(candidate.name), message=md_escape(error_text(error))))
            continue
        if status == "imported":
            turns = len(candidate.parsed.segments)
            flash("success", tr(STRINGS, "imported", name=md_escape(candidate.name), turns=tr(
                STRINGS, "turn_count" if turns == 1 else "turn_count_plural", n=fmt_number(turns))))
            suggest_after_import(store, document_id, candidate.name)
        else:
            flash("info", tr(STRINGS, "import_present", name=md_escape(candidate.name)))
    after_write()
    st.session_state[UPLOADER_KEY] = st.session_state.get(UPLOADER_KEY, 0) + 1


METADATA_FIELDS = ("round", "district", "group", "date")


def _metadata_table(docs: list) -> pd.DataFrame:
    frame = pd.DataFrame({"name": [d.name for d in docs], "segments": [d.segments for d in docs],
                          **{f: [getattr(d, f) or "" for d in docs] for f in METADATA_FIELDS}},
                         index=[d.id for d in docs])
    return frame[["name", *METADATA_FIELDS, "segments"]]


def metadata_changes(docs: list, edited: pd.DataFrame) -> dict[int, DocumentMetadata]:
    """The interviews whose round, district, group or date the table changed, with the new values."""
    changes = {}
    for doc in docs:
        if doc.id in edited.index:
            after = edited_metadata(doc.metadata, {f: edited.at[doc.id, f] for f in METADATA_FIELDS})
            if after is not None:
                changes[doc.id] = after
    return changes


def render_interviews(store, docs: list) -> None:
    """Correct an interview's metadata, or delete it, after import."""
    st.subheader(tr(STRINGS, "interviews"))
    st.caption(tr(STRINGS, "interviews_intro"))
    generation = st.session_state.get(UPLOADER_KEY, 0)
    column = {f: st.column_config.TextColumn(tr(STRINGS, f), max_chars=200) for f in METADATA_FIELDS}
    edited = st.data_editor(
        _metadata_table(docs), hide_index=True, width="stretch", num_rows="fixed",
        disabled=["name", "segments"], key=f"import_metadata_{generation}",
        column_config={"name": st.column_config.TextColumn(tr(STRINGS, "col_file")),
                       "segments": st.column_config.NumberColumn(tr(STRINGS, "col_turns"), width="small"),
                       **column})
    changes = metadata_changes(docs, edited)
    label = ("save_metadata" if len(changes) == 1 else "save_metadata_plural") if changes else "save_none"
    if st.button(tr(STRINGS, label, n=fmt_number(len(changes))), disabled=not changes,
                 type="primary" if changes else "secondary", key="import_metadata_save"):
        actor = require_coder()
        names = {d.id: d.name for d in docs}
        for document_id, metadata in changes.items():
            try:
                store.update_document_metadata(document_id, metadata, actor)
            except FocusqaError as error:
                flash("error", tr(STRINGS, "save_failed", name=md_escape(names[document_id]),
                                  message=md_escape(error_text(error))))
                continue
            flash("success", tr(STRINGS, "metadata_saved", name=md_escape(names[document_id])))
        after_write()
        st.session_state[UPLOADER_KEY] = generation + 1
        st.rerun()
    with st.expander(tr(STRINGS, "delete"), icon=":material/delete:"):
        render_delete(store, docs)


def render_delete(store, docs: list) -> None:
    by_id = {d.id: d for d in docs}
    chosen = st.selectbox(tr(STRINGS, "delete_which"), list(by_id), index=None, key="import_delete_doc",
                          format_func=lambda i: by_id[i].name, placeholder=tr(STRINGS, "delete_pick"))
    if chosen is None:
        return
    work = store.document_work(chosen)
    doc = by_id[chosen]
    st.warning(tr(STRINGS, "delete_loses", name=md_escape(doc.name), turns=fmt_number(doc.segments),
                  n=fmt_number(sum(work.values())),
                  coders=md_escape(", ".join(sorted(work))) or tr(STRINGS, "delete_nobody")))
    sure = st.checkbox(tr(STRINGS, "delete_sure", name=md_escape(doc.name)), key=f"import_delete_sure_{chosen}")
    if st.button(tr(STRINGS, "delete_button"), disabled=not sure, key="import_delete_go"):
        actor = require_coder()
        try:
            store.delete_document(chosen, actor, as_coder=True)
        except FocusqaError as error:
            st.error(tr(STRINGS, "delete_failed", name=md_escape(doc.name), message=md_escape(error_text(error))))
            return
        flash("success", tr(STRINGS, "deleted", name=md_escape(doc.name)))
        st.session_state.pop("import_delete_doc", None)
        after_write()
        st.rerun()


def main() -> None:
    st.title(tr(STRINGS, "title"))
    show_flashes()
    st.caption(tr(STRINGS, "intro"))
    store = get_store()
    uploads = st.file_uploader(tr(STRINGS, "files"), type=["docx", "txt", "md"],
                               accept_multiple_files=True, help=tr(STRINGS, "files_help"),
                               key=f"import_files_{st.session_state.get(UPLOADER_KEY, 0)}")
    metadata = _metadata_inputs(store)
    if uploads:
        render_uploads(store, uploads, metadata)
    docs = load_documents(store)
    if docs:
        if not uploads:
            st.page_link("views/coding.py", label=tr(STRINGS, "next"), icon=":material/edit_note:")
        st.divider()
        render_interviews(store, docs)


def render_uploads(store, uploads: list, metadata: DocumentMetadata) -> None:
    found = candidates(store, uploads, metadata)
    st.subheader(tr(STRINGS, "preview"))
    for candidate in found:
        if candidate.error:
            st.error(tr(STRINGS, "failed", name=md_escape(candidate.name), message=md_escape(candidate.error)))
        elif candidate.existing:
            st.info(_present_message(candidate))
        elif candidate.twin:
            st.info(tr(STRINGS, "twice", name=md_escape(candidate.name), twin=md_escape(candidate.twin)))
    ready = [c for c in found if c.parsed is not None and not c.existing and not c.twin]
    for candidate in ready:
        render_preview(candidate)
    if not ready:
        st.caption(tr(STRINGS, "nothing"))
        return
    if st.button(tr(STRINGS, "commit" if len(ready) == 1 else "commit_plural", n=fmt_number(len(ready))), type="primary", key="import_commit"):
        commit(store, ready)
        st.rerun()


main()
