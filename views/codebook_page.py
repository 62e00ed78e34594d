"""Kodebog: view the codes and edit one at a time; every saved edit is a new codebook version.

Saving goes through :meth:`focusqa.store.Store.save_code`, which validates the code the
same way a codebook file is validated and writes a new version with the coder's name.
The cached tables are cleared afterwards, so the tagger (cached per codebook version in
``views.common``) is rebuilt from the new version the next time a page asks for it.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from focusqa.codebook import Code, Codebook, slugify, split_examples, split_terms
from focusqa.errors import CodebookError, FocusqaError
from focusqa.export.codebook_files import preview_codebook_upload
from focusqa.i18n import messages
from views.common import (after_write, choice_within, code_label, code_tag, coder_name, error_text, flash, get_store,
                          language, load_codebook, local_time, refit_tagger, relabelled, show_error, show_flashes, tr)

SELECT_KEY = "codebook_code"
LOADED_KEY = "_codebook_loaded"
NEW = "__new__"
FIELDS = ("id", "number", "label_da", "label_en", "question", "definition", "include", "exclude",
          "terms", "color", "parent", "examples")

STRINGS = messages("codebook_page")

# The codebook validator's messages (English, for files) -> the page's own words.
_ERRORS = [
    (re.compile(r"missing required field 'label_da'"), "err_label_da"),
    (re.compile(r"missing required field 'id'"), "err_id_missing"),
    (re.compile(r"id must be lower-case"), "err_slug"),
    (re.compile(r"number (?P<number>\d+) is already used by '(?P<other>[^']+)'"), "err_number"),
    (re.compile(r"parent chain loops"), "err_parent_loop"),
    (re.compile(r"colour .* is not #RRGGBB"), "err_colour"),
]


def explain(error: CodebookError) -> str:
    """The validator's message in the UI language (the original when it is not a known one)."""
    for pattern, key in _ERRORS:
        match = pattern.search(error.message)
        if match:
            return tr(STRINGS, key, **match.groupdict())
    return error_text(error)


def _field_key(name: str) -> str:
    return f"codebook_{name}"


def _load_fields(codebook: Codebook, code_id: str) -> None:
    """Put a code's values (or an empty new code) into the form's widgets."""
    code = codebook.get(code_id) if code_id != NEW else Code(id="", label_da="")
    values = {
        "id": code.id, "number": code.number, "label_da": code.label_da, "label_en": code.label_en,
        "question": code.question, "definition": code.definition, "include": code.include,
        "exclude": code.exclude, "terms": "\n".join(code.terms), "color": _six_digit(code.color),
        "parent": code.parent or "", "examples": "\n\n".join(code.examples),
    }
    for name, value in values.items():
        st.session_state[_field_key(name)] = value
    st.session_state[LOADED_KEY] = code_id


def _six_digit(colour: str) -> str:
    """'#abc' -> '#aabbcc' (the colour picker only takes the long form)."""
    value = (colour or "#888888").lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    return f"#{value.lower()}"


def _code_from_fields() -> Code:
    get = lambda name: st.session_state.get(_field_key(name))  # noqa: E731
    terms = split_terms(str(get("terms") or ""))
    number = get("number")
    label_da = str(get("label_da") or "").strip()
    code_id = str(get("id") or "").strip() or (slugify(label_da) if label_da else "")
    return Code(id=code_id, number=int(number) if number is not None else None,
                label_da=label_da, label_en=str(get("label_en") or "").strip(),
                question=str(get("question") or "").strip(), definition=str(get("definition") or "").strip(),
                include=str(get("include") or "").strip(), exclude=str(get("exclude") or "").strip(),
                terms=terms, color=str(get("color") or "#888888"), parent=get("parent") or None,
                examples=split_examples(str(get("examples") or "")))


def _save() -> None:
    """Save button callback: validate and store the edited code, then select it."""
    store = get_store()
    codebook = store.codebook()
    code = _code_from_fields()
    selected = st.session_state.get(SELECT_KEY)
    if selected == NEW and code.id in codebook.ids:
        flash("error", tr(STRINGS, "not_saved", reason=tr(STRINGS, "exists", id=code.id)))
        return
    try:
        version = store.save_code(code, actor=coder_name())
    except CodebookError as error:
        flash("error", tr(STRINGS, "not_saved", reason=explain(error)))
        return
    except FocusqaError as error:
        flash("error", tr(STRINGS, "not_saved", reason=error_text(error)))
        return
    if version == codebook.version:
        flash("info", tr(STRINGS, "unchanged"))
        return
    after_write()
    st.session_state[SELECT_KEY] = code.id
    st.session_state[LOADED_KEY] = code.id
    st.session_state["_codebook_saved_version"] = version
    flash("success", tr(STRINGS, "saved", version=version))


def summary(store, codebook: Codebook) -> None:
    versions = store.codebook_versions()
    when, who = (versions[-1][1], versions[-1][2]) if versions else (None, None)
    st.markdown(tr(STRINGS, "summary", version=codebook.version, codes=len(codebook.codes),
                   when=local_time(when, "–"), who=who or "–"))


def overview(codebook: Codebook) -> None:
    st.subheader(tr(STRINGS, "overview"))
    st.markdown(" ".join(code_tag(c) for c in codebook.codes), unsafe_allow_html=True)
    lang = language()
    frame = pd.DataFrame({
        tr(STRINGS, "col_number"): [c.number for c in codebook.codes],
        tr(STRINGS, "col_label"): [c.label(lang) for c in codebook.codes],
        tr(STRINGS, "col_definition"): [c.definition for c in codebook.codes],
        tr(STRINGS, "col_terms"): [", ".join(c.terms) for c in codebook.codes],
    })
    st.table(frame, hide_index=True)       # a static table wraps the definitions: read whole, not cut


def editor(codebook: Codebook) -> None:
    """One code's fields and the save button (needs the coder's name: it goes into the version)."""
    st.subheader(tr(STRINGS, "edit"))
    if not coder_name():
        st.info(tr(STRINGS, "need_coder"))
        return
    options = codebook.ids + [NEW]
    names = {c.id: code_label(c) for c in codebook.codes} | {NEW: tr(STRINGS, "new_code")}
    selected = st.selectbox(tr(STRINGS, "choose"), options,
                            key=relabelled(choice_within(SELECT_KEY, options, options[0])), format_func=names.get)
    if st.session_state.get(LOADED_KEY) != selected:
        _load_fields(codebook, selected)
    is_new = selected == NEW
    cols = st.columns([2, 1, 1] if is_new else [1, 1])
    if is_new:   # an existing code's id cannot change, so it is not shown as a field
        cols[0].text_input(tr(STRINGS, "id"), key=_field_key("id"), help=tr(STRINGS, "id_help"),
                           placeholder=tr(STRINGS, "id_ph"))
    cols[-2].number_input(tr(STRINGS, "number"), key=_field_key("number"), min_value=1, step=1,
                          help=tr(STRINGS, "number_help"))
    cols[-1].color_picker(tr(STRINGS, "color"), key=_field_key("color"))
    cols = st.columns(2)
    cols[0].text_input(tr(STRINGS, "label_da"), key=_field_key("label_da"))
    cols[1].text_input(tr(STRINGS, "label_en"), key=_field_key("label_en"))
    st.text_area(tr(STRINGS, "question"), key=_field_key("question"), height=80)
    st.text_area(tr(STRINGS, "definition"), key=_field_key("definition"), height=100,
                 help=tr(STRINGS, "definition_help"))
    cols = st.columns(2)
    cols[0].text_area(tr(STRINGS, "include"), key=_field_key("include"), height=90)
    cols[1].text_area(tr(STRINGS, "exclude"), key=_field_key("exclude"), height=90)
    cols = st.columns([2, 1])
    cols[0].text_area(tr(STRINGS, "terms"), key=_field_key("terms"), height=180, help=tr(STRINGS, "terms_help"))
    parents = [""] + [c for c in codebook.ids if c != selected]
    parent_names = {"": tr(STRINGS, "no_parent")} | {c.id: code_label(c) for c in codebook.codes}
    cols[1].selectbox(tr(STRINGS, "parent"), parents,
                      key=relabelled(choice_within(_field_key("parent"), parents, "")),
                      format_func=parent_names.get)
    st.text_area(tr(STRINGS, "examples"), key=_field_key("examples"), height=140,
                 help=tr(STRINGS, "examples_help"))
    st.button(tr(STRINGS, "save"), key="codebook_save", type="primary", on_click=_save,
              icon=":material/save:")


def refit_offer(codebook: Codebook) -> None:
    """After a save: offer to redo the open suggestions with the new version."""
    if st.session_state.get("_codebook_saved_version") != codebook.version:
        return
    if st.button(tr(STRINGS, "refit"), key="codebook_refit", help=tr(STRINGS, "refit_help"),
                 icon=":material/sync:"):
        try:
            with st.spinner(tr(STRINGS, "refit") + " …"):
                written = refit_tagger()
            st.session_state.pop("_codebook_saved_version", None)
            st.success(tr(STRINGS, "refitted", n=written, version=codebook.version))
        except FocusqaError as error:
            show_error(error)


def history(store) -> None:
    versions = store.codebook_versions()
    with st.expander(f"{tr(STRINGS, 'history')} ({len(versions)})"):
        st.dataframe(pd.DataFrame({
            tr(STRINGS, "version"): [v for v, _w, _b in reversed(versions)],
            tr(STRINGS, "col_created"): [local_time(w, "–") for _v, w, _b in reversed(versions)],
            tr(STRINGS, "col_by"): [b or "" for _v, _w, b in reversed(versions)],
        }), hide_index=True, width="stretch")


IMPORT_KEY = "codebook_import_file"
LEAVE_OUT_KEY = "codebook_import_leave_out"


def _apply_import(name: str, data: bytes, leave_out: list[str]) -> None:
    """Import button callback: the previewed merge, computed again from the same file, is written."""
    store = get_store()
    try:
        merge = preview_codebook_upload(store, name, data, leave_out=frozenset(leave_out))
        version = store.apply_codebook_merge(merge, actor=coder_name())
    except FocusqaError as error:
        flash("error", error_text(error))
        return
    after_write()
    flash("success", tr(STRINGS, "imported", file=name, version=version))


def import_section(store) -> None:
    """Upload a codebook file, see what it would add and change, then import it."""
    st.subheader(tr(STRINGS, "import"))
    st.caption(tr(STRINGS, "import_intro"))
    upload = st.file_uploader(tr(STRINGS, "import_file"), type=["qdc", "csv", "yaml", "yml"], key=IMPORT_KEY)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        offered = preview_codebook_upload(store, upload.name, data)
        new_labels = [c.code.label_da for c in offered.changes if c.kind == "added"]
        leave_out = [label for label in st.session_state.get(LEAVE_OUT_KEY, []) if label in new_labels]
        merge = preview_codebook_upload(store, upload.name, data, leave_out=frozenset(leave_out))
    except FocusqaError as error:
        show_error(error)
        return
    st.markdown(tr(STRINGS, "import_summary", added=merge.count("added"), changed=merge.count("changed"),
                   unchanged=merge.count("unchanged"), kept=merge.kept))
    kinds = {"added": tr(STRINGS, "added"), "changed": tr(STRINGS, "changed"), "unchanged": tr(STRINGS, "kept_same")}
    st.dataframe(pd.DataFrame({
        tr(STRINGS, "col_label"): [c.code.label_da for c in merge.changes],
        tr(STRINGS, "col_change"): [kinds[c.kind] for c in merge.changes],
        tr(STRINGS, "col_fields"): [", ".join(tr(STRINGS, f) for f in c.fields) for c in merge.changes],
    }), hide_index=True, width="stretch")
    for line in merge.not_taken:
        st.caption(tr(STRINGS, "not_taken", line=line))
    if new_labels:
        st.multiselect(tr(STRINGS, "leave_out"), new_labels, key=LEAVE_OUT_KEY,
                       placeholder=tr(STRINGS, "leave_out_ph"), select_all=False)
    if not coder_name():
        st.info(tr(STRINGS, "need_coder"))
    elif merge.writes:
        st.button(tr(STRINGS, "import_apply"), key="codebook_import_apply", type="primary", on_click=_apply_import,
                  args=(upload.name, data, leave_out), icon=":material/upload:")
    else:
        st.info(tr(STRINGS, "import_nothing"))


def main() -> None:
    st.title(tr(STRINGS, "title"))
    st.caption(tr(STRINGS, "intro"))
    show_flashes()
    store = get_store()
    codebook = load_codebook(store)
    refit_offer(codebook)
    summary(store, codebook)
    overview(codebook)
    editor(codebook)
    import_section(store)
    history(store)


main()
