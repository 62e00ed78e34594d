"""The sidebar's coder sign-in: pick yourself from the project's coders, or add yourself.

The signed-in coder lives in ``st.session_state[CODER_KEY]`` and is set only here, after
``Store.authenticate`` or ``Store.enroll`` succeeded; no widget and no URL parameter can
set it, so the name on every coding and audit entry is one that signed in. With an OIDC
login the signed-in account (its e-mail) is the coder and cannot be switched.
"""

from __future__ import annotations

import streamlit as st

from focusqa.errors import FocusqaError
from focusqa.i18n import messages
from views.common import CODER_KEY, error_text, get_store, md_escape, tr

PICK_KEY = "_focusqa_pick_coder"
PASSWORD_KEY = "_focusqa_coder_password"
NEW_NAME_KEY = "_focusqa_new_coder"
NEW_PASSWORD_KEY = "_focusqa_new_coder_password"
ERROR_KEY = "_focusqa_signin_error"

STRINGS = messages("coder_signin")


def sign_in_verified(identity: str) -> None:
    """Make the OIDC-signed-in account the coder (added to the list on first sign-in)."""
    if not identity or st.session_state.get(CODER_KEY) == identity:
        return
    try:
        st.session_state[CODER_KEY] = get_store().enroll(identity, verified=True).name
    except FocusqaError as error:
        st.error(tr(STRINGS, "refused", message=md_escape(error_text(error))))
        st.stop()


def _sign_in() -> None:
    name = st.session_state.get(PICK_KEY)
    if not name:
        return
    try:
        coder = get_store().authenticate(name, st.session_state.get(PASSWORD_KEY) or "")
    except FocusqaError:
        st.session_state[ERROR_KEY] = tr(STRINGS, "wrong_password", name=md_escape(name))
        return
    finally:
        st.session_state.pop(PASSWORD_KEY, None)
    st.session_state[CODER_KEY] = coder.name


def _enroll() -> None:
    try:
        coder = get_store().enroll(str(st.session_state.get(NEW_NAME_KEY) or ""),
                                   st.session_state.get(NEW_PASSWORD_KEY) or None)
    except FocusqaError as error:
        st.session_state[ERROR_KEY] = tr(STRINGS, "refused", message=md_escape(error_text(error)))
        return
    finally:
        st.session_state.pop(NEW_PASSWORD_KEY, None)
    st.session_state.pop(NEW_NAME_KEY, None)
    st.session_state[CODER_KEY] = coder.name


def _sign_out() -> None:
    st.session_state.pop(CODER_KEY, None)
    st.session_state.pop(PICK_KEY, None)


def render_coder_signin(*, fixed: bool = False) -> None:
    """The signed-in coder and a switch button, or the sign-in (``fixed``: an OIDC account)."""
    store = get_store()
    name = st.session_state.get(CODER_KEY)
    coder = store.project_coder(name) if name else None
    if name and coder is None:       # taken off the list since signing in
        st.session_state.pop(CODER_KEY, None)
    st.markdown(f"**{tr(STRINGS, 'coder')}**")
    if coder is not None:
        st.caption(tr(STRINGS, "signed_in", name=md_escape(coder.name)) + " · "
                   + tr(STRINGS, f"role_{coder.role}"))
        if not fixed:
            st.button(tr(STRINGS, "switch"), key="_focusqa_switch_coder", on_click=_sign_out)
        return
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error)
    coders = store.project_coders()
    if coders:
        st.selectbox(tr(STRINGS, "who"), [c.name for c in coders], index=None, key=PICK_KEY,
                     placeholder=tr(STRINGS, "who_placeholder"), help=tr(STRINGS, "who_help"))
        picked = next((c for c in coders if c.name == st.session_state.get(PICK_KEY)), None)
        if picked is not None and picked.has_password:
            st.text_input(tr(STRINGS, "password"), type="password", key=PASSWORD_KEY)
        st.button(tr(STRINGS, "sign_in"), key="_focusqa_sign_in", on_click=_sign_in, type="primary",
                  disabled=picked is None)
    else:
        st.caption(tr(STRINGS, "first"))
    if store.project_is_open():
        with st.expander(tr(STRINGS, "add_title"), expanded=not coders):
            st.text_input(tr(STRINGS, "new_name"), key=NEW_NAME_KEY, max_chars=60,
                          placeholder=tr(STRINGS, "new_name_placeholder"))
            st.text_input(tr(STRINGS, "new_password"), type="password", key=NEW_PASSWORD_KEY,
                          help=tr(STRINGS, "new_password_help"))
            st.button(tr(STRINGS, "add"), key="_focusqa_add_coder", on_click=_enroll)
    else:
        st.caption(tr(STRINGS, "closed"))
    st.caption(tr(STRINGS, "missing"))
