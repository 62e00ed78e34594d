"""The app's own two Streamlit components (``st.components.v2``), plain JS and CSS in this folder.

- :func:`turn_text`: a speaker turn's text; selecting words opens a menu of codes, and
  the chosen code comes back with the selection's offsets (trigger ``coded``).
- :func:`coding_keys`: keyboard shortcuts for Kodning; it presses the page's own buttons.

Nothing is fetched at run time: the files are read here and sent inline with the page.
Both are mounted without a shadow root (``isolate_styles=False``) so that the browser's
selection and the page's buttons are reachable; their CSS classes start with ``fq-``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import streamlit as st

HERE = Path(__file__).resolve().parent


def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


_turn_text = st.components.v2.component("focusqa_turn_text", js=_read("turn_text.js"),
                                         css=_read("turn_text.css"), isolate_styles=False)
_coding_keys = st.components.v2.component("focusqa_coding_keys", js=_read("coding_keys.js"),
                                          isolate_styles=False)


def turn_text(key: str, text: str, runs: list[list[Any]], codes: list[dict[str, str]], *,
              muted: bool, strings: dict[str, str], on_coded: Callable[[], None],
              args: tuple = ()) -> Any:
    """Mount a turn's text; ``on_coded(*args)`` runs when words were selected and a code chosen.

    ``runs`` are ``[start, end, colour or None, title]`` in code-point offsets of
    ``text``; in the callback ``coded_selection(key)`` gives the choice.
    """
    return _turn_text(key=key, data={"text": text, "runs": runs, "codes": codes, "muted": muted,
                                     "strings": strings},
                      on_coded_change=lambda: on_coded(*args), width="stretch")


def coded_selection(key: str) -> dict[str, Any] | None:
    """The ``{"start", "end", "code"}`` the turn mounted under ``key`` just sent, or None."""
    result = st.session_state.get(key)
    value = result.get("coded") if result is not None else None
    return value if isinstance(value, dict) else None


def coding_keys() -> None:
    """Mount the keyboard shortcuts (once per page; the listeners live in the browser tab)."""
    _coding_keys(key="coding_keys", height=0)
