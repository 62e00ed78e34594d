"""The sidebar's coder sign-in: pick yourself from the project's coders, or add yourself.

The signed-in coder lives in ``st.session_state[CODER_KEY]`` and is set only here, after
``Store.authenticate`` or ``Store.enroll`` succeeded; no widget and no URL parameter can
set it, so the name on every coding and audit entry is one that signed in. With an OIDC
login the signed-in account (its e-mail) is the coder and cannot be switched.
"""

from __future__ import annotations

import streamlit as st

from focusqa.errors import FocusqaError
from views.common import CODER_KEY, get_store, md_escape, tr

PICK_KEY = "_focusqa_pick_coder"
PASSWORD_KEY = "_focusqa_coder_password"
NEW_NAME_KEY = "_focusqa_new_coder"
NEW_PASSWORD_KEY = "_focusqa_new_coder_password"
ERROR_KEY = "_focusqa_signin_error"

STRINGS = {
    "da": {
        "coder": "Koder",
        "signed_in": "Du koder som **{name}**",
        "role_reviewer": "reviewer: kan også rette andres kodninger og afstemme",
        "role_coder": "koder: kan rette dine egne kodninger og memoer",
        "switch": "Skift koder",
        "who": "Hvem er du?",
        "who_help": "Projektets kodere. Dit navn står ved hver kodning og i loggen, så det altid kan "
                    "ses, hvem der har kodet hvad.",
        "who_placeholder": "Vælg dit navn",
        "password": "Din adgangskode",
        "sign_in": "Log ind som koder",
        "first": "Projektet har ingen kodere endnu. Tilføj dig selv for at kode – "
                 "en adgangskode er ikke nødvendig på din egen maskine.",
        "add_title": "Ny koder? Tilføj dig selv",
        "new_name": "Dit navn eller dine initialer",
        "new_name_placeholder": "fx Anne eller AKJ",
        "new_password": "Adgangskode (valgfri)",
        "new_password_help": "Med en adgangskode kan ingen andre logge ind som dig.",
        "add": "Tilføj mig",
        "closed": "Er du ikke på listen? Bed teamlederen om at tilføje dig (`focusqa coders add`).",
        "missing": "Vælg dig selv for at kunne kode.",
        "wrong_password": "Forkert adgangskode til {name}.",
        "refused": "Det lykkedes ikke: {message}",
    },
    "en": {
        "coder": "Coder",
        "signed_in": "You code as **{name}**",
        "role_reviewer": "reviewer: may also change others' codings and reconcile",
        "role_coder": "coder: may change your own codings and memos",
        "switch": "Switch coder",
        "who": "Who are you?",
        "who_help": "The project's coders. Your name is stored with every coding and in the log, so it "
                    "is always clear who coded what.",
        "who_placeholder": "Choose your name",
        "password": "Your password",
        "sign_in": "Sign in as coder",
        "first": "The project has no coders yet. Add yourself to code – no password is needed on "
                 "your own machine.",
        "add_title": "New coder? Add yourself",
        "new_name": "Your name or initials",
        "new_name_placeholder": "e.g. Anne or AKJ",
        "new_password": "Password (optional)",
        "new_password_help": "With a password nobody else can sign in as you.",
        "add": "Add me",
        "closed": "Not on the list? Ask the team lead to add you (`focusqa coders add`).",
        "missing": "Choose yourself to be able to code.",
        "wrong_password": "Wrong password for {name}.",
        "refused": "That did not work: {message}",
    },
}


def sign_in_verified(identity: str) -> None:
    """Make the OIDC-signed-in account the coder (added to the list on first sign-in)."""
    if not identity or st.session_state.get(CODER_KEY) == identity:
        return
    try:
        st.session_state[CODER_KEY] = get_store().enroll(identity, verified=True).name
    except FocusqaError as error:
        st.error(tr(STRINGS, "refused", message=md_escape(str(error))))
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
        st.session_state[ERROR_KEY] = tr(STRINGS, "refused", message=md_escape(str(error)))
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
