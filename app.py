"""focusqa in the browser: the frame (login, sidebar, navigation) around the pages.

Run it with ``focusqa serve`` (or ``streamlit run app.py``). Every page is listed
explicitly below with ``st.navigation``. The page files live in ``views/``, not ``pages/``, so that
Streamlit does not also discover them on its own (it would flash a raw file list at start).
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

import streamlit as st

from focusqa.config import request_is_local
from focusqa.i18n import messages
from views.coder_signin import render_coder_signin, sign_in_verified
from views.common import (BLIND_KEY, LANGUAGE_KEY, LANGUAGES, current_database_url, danish_widget_texts,
                          relabel_widgets, tr, warm_up)

HERE = Path(__file__).resolve().parent
AUTH_KEY = "_focusqa_authenticated"
OLD_CODER_PARAM = "koder"   # the coder used to be named in the address; it no longer signs anyone in

STRINGS = messages("app")

# (section, file, title key, icon, url path); files that do not exist yet are left out.
PAGES = [
    ("work", "views/overview.py", "overview", ":material/dashboard:", "oversigt"),
    ("work", "views/import_page.py", "import", ":material/upload_file:", "import"),
    ("work", "views/coding.py", "coding", ":material/edit_note:", "kodning"),
    ("work", "views/search_page.py", "search", ":material/search:", "soeg"),
    ("analysis", "views/themes.py", "themes", ":material/grid_view:", "temaer"),
    ("analysis", "views/rounds.py", "rounds", ":material/compare_arrows:", "runder"),
    ("analysis", "views/agreement_page.py", "agreement", ":material/handshake:", "enighed"),
    ("project", "views/codebook_page.py", "codebook", ":material/menu_book:", "kodebog"),
    ("project", "views/export_page.py", "export", ":material/download:", "eksport"),
]


def _auth_settings() -> dict[str, Any]:
    """The ``[auth]`` section of the Streamlit secrets, or ``{}`` when there is none."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get("auth")
    except (FileNotFoundError, KeyError):
        return {}
    return dict(section) if section else {}


def _logged_in() -> bool:
    """Whether Streamlit's OIDC login (``st.login``) has signed this browser in."""
    return bool(st.user.get("is_logged_in", False))


def login_gate() -> None:
    """Require a login when the secrets ask for one; stop the run until it succeeds.

    ``[auth] password = "..."`` asks for a shared password; an OIDC ``[auth]`` section
    (``client_id``, ``server_metadata_url``, ...) uses Streamlit's ``st.login``.
    """
    settings = _auth_settings()
    if not settings:
        return
    if "password" in settings:
        if st.session_state.get(AUTH_KEY):
            return
        st.title(tr(STRINGS, "login_title"))
        with st.form("login"):
            password = st.text_input(tr(STRINGS, "password"), type="password", key="_focusqa_password")
            submitted = st.form_submit_button(tr(STRINGS, "login"), type="primary")
        if submitted:
            if hmac.compare_digest(password.encode("utf-8"), str(settings["password"]).encode("utf-8")):
                st.session_state[AUTH_KEY] = True
                st.session_state.pop("_focusqa_password", None)
                st.rerun()
            st.error(tr(STRINGS, "wrong_password"))
        st.stop()
    if not _logged_in():
        st.title(tr(STRINGS, "login_title"))
        st.write(tr(STRINGS, "oidc_intro"))
        providers = [k for k, v in settings.items() if isinstance(v, dict) or hasattr(v, "keys")]
        if providers and "client_id" not in settings:
            for provider in providers:
                st.button(f"{tr(STRINGS, 'login')} ({provider})", on_click=st.login, args=(provider,))
        else:
            st.button(tr(STRINGS, "login"), on_click=st.login, type="primary")
        st.stop()


def _persistent(key: str) -> str:
    """A widget key mirroring ``key``, so the value survives page switches.

    Streamlit forgets a widget's value when a run does not draw it (e.g. the login
    screen, or a page switch that interrupts a run); the plain session-state key
    ``key`` keeps it, and the widget is re-seeded from it on every run.
    """
    widget_key = f"_widget_{key}"
    if key in st.session_state:
        st.session_state[widget_key] = st.session_state[key]
    return widget_key


def _copy(key: str) -> None:
    st.session_state[key] = st.session_state[f"_widget_{key}"]


def _on_language_change() -> None:
    _copy(LANGUAGE_KEY)
    relabel_widgets()


def sidebar() -> None:
    """Cross-page settings: language, the signed-in coder, blind mode, and which database is open."""
    with st.sidebar:
        st.segmented_control(tr(STRINGS, "language"), list(LANGUAGES), format_func=LANGUAGES.get,
                             key=_persistent(LANGUAGE_KEY), required=True, on_change=_on_language_change)
        render_coder_signin(fixed=_oidc())
        st.toggle(tr(STRINGS, "blind"), key=_persistent(BLIND_KEY), help=tr(STRINGS, "blind_help"),
                  on_change=_copy, args=(BLIND_KEY,))
        st.caption(f"{tr(STRINGS, 'database')}: `{_display_url(current_database_url())}`")
        if _oidc():
            st.button(tr(STRINGS, "logout"), on_click=st.logout)


def _oidc() -> bool:
    """Whether this browser is signed in through the OIDC login (its account is the coder)."""
    settings = _auth_settings()
    return bool(settings) and "password" not in settings and _logged_in()


def _display_url(url: str) -> str:
    """The database URL without a password, shortened to the file name for SQLite."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).name
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# Pages that never import spaCy: they may run while the warm-up still imports it.
WITHOUT_NLP = {"views/overview.py"}


def navigation() -> tuple[Any, bool]:
    """The chosen page, and whether it may run before the warm-up's imports are done.

    The page list is in sections; pages whose file is not there are left out.
    """
    sections: dict[str, list] = {}
    light = []
    for index, (section, path, title, icon, url_path) in enumerate(PAGES):
        if not (HERE / path).exists():
            continue
        page = st.Page(path, title=tr(STRINGS, title), icon=icon, url_path=url_path, default=index == 0)
        sections.setdefault(tr(STRINGS, section), []).append(page)
        if path in WITHOUT_NLP:
            light.append(page)
    chosen = st.navigation(sections)
    return chosen, any(chosen is page for page in light)


def main() -> None:
    # The favicon stays an emoji: a Material icon favicon is fetched from fonts.gstatic.com.
    st.set_page_config(page_title="focusqa", page_icon="💬", layout="wide")
    if not request_is_local(st.context.headers.get("Host"), st.context.headers.get("Origin")):
        st.error("focusqa answers only requests addressed to this machine (localhost or 127.0.0.1).")
        st.stop()
    if st.session_state.get(LANGUAGE_KEY) not in LANGUAGES:
        st.session_state[LANGUAGE_KEY] = "da"
    st.session_state.setdefault(BLIND_KEY, False)
    danish_widget_texts()
    if OLD_CODER_PARAM in st.query_params:  # old bookmarks: a name in the address signs nobody in
        del st.query_params[OLD_CODER_PARAM]
    login_gate()
    if _oidc():
        sign_in_verified(str(st.user.get("email") or st.user.get("name") or "").strip())
    warming = warm_up()
    page, light = navigation()
    sidebar()
    if not light:
        # Two threads importing spaCy at once can meet one of its modules half-initialised
        # ("cannot import name 'Language' from partially initialized module").
        warming.join()
    page.run()


main()
