"""The interface texts: one gettext catalogue per language, for every page of the app.

``focusqa/locale/<lang>/LC_MESSAGES/focusqa.po`` holds each text under a context (the
page or module it belongs to) and a key, so translators work in the usual tools (Poedit,
Weblate, ``pybabel``) instead of Python dicts. Danish is the interface's first language
and the fallback for a text that has no translation yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "focusqa"
FALLBACK = "da"


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[tuple[str, str], str]:
    """(context, key) -> text of one language's catalogue; empty for an unknown language."""
    path = catalogue_path(language)
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        messages = read_po(handle, locale=language, domain=DOMAIN)
    return {(m.context or "", m.id): m.string for m in messages if m.id and m.string}


@dataclass(frozen=True)
class Messages:
    """The texts of one page (one msgctxt of the catalogue)."""

    context: str

    def text(self, key: str, language: str) -> str:
        """The text for ``key`` in ``language``, else in Danish, else the key itself."""
        for lang in (language, FALLBACK):
            found = catalogue(lang).get((self.context, key))
            if found is not None:
                return found
        return key

    def keys(self, language: str = FALLBACK) -> set[str]:
        return {key for context, key in catalogue(language) if context == self.context}


def messages(context: str) -> Messages:
    """The texts of page ``context`` (its module name: "coding", "overview", "app" …)."""
    return Messages(context)


# The package's error messages are English; this context of the catalogue holds the
# reasons a user meets most (a file that cannot be read, a coder's name), keyed by the
# English template with its {placeholders}.
ERRORS = "errors"


@lru_cache(maxsize=None)
def _error_templates(language: str) -> list[tuple[re.Pattern, str]]:
    """The catalogue's error templates of ``language`` as patterns over the English text."""
    out = []
    for (context, template), text in catalogue(language).items():
        if context == ERRORS:
            parts = re.split(r"\{(\w+)\}", template)
            pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
            out.append((re.compile(f"^{pattern}$", re.S), text))
    return out


def explain_error(message: str, language: str) -> str:
    """An error's reason in the interface language; the English message where the
    catalogue does not know it (a translation is never a guess)."""
    for pattern, text in _error_templates(language):
        match = pattern.match(message)
        if match:
            return text.format(**match.groupdict())
    return message
