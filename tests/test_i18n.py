"""The one message catalogue of the app: every text a page asks for exists, in both languages."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from focusqa.i18n import FALLBACK, catalogue, catalogue_path

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "views").glob("*.py")) + [ROOT / "app.py"]


def _asked_keys(path: Path) -> set[tuple[str, str]]:
    """(context, key) of every ``tr(NAME, "key")`` with a literal key, NAME a ``messages(...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    contexts = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "messages"):
            contexts[node.targets[0].id] = node.value.args[0].value
    asked = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "tr" and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name) and node.args[0].id in contexts
                and isinstance(node.args[1], ast.Constant)):
            asked.add((contexts[node.args[0].id], node.args[1].value))
    return asked


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_a_page_asks_for_is_in_the_danish_catalogue():
    danish = catalogue(FALLBACK)
    asked = set().union(*(_asked_keys(p) for p in PAGES))
    assert len(asked) > 400, "the scan found the pages' texts"
    missing = sorted(key for key in asked if key not in danish)
    assert not missing, f"texts a page asks for but the catalogue lacks: {missing}"


def test_english_has_every_danish_text_with_the_same_placeholders():
    danish, english = catalogue("da"), catalogue("en")
    assert set(english) == set(danish)
    differ = [key for key, text in danish.items() if _fields(text) != _fields(english[key])]
    assert not differ, f"placeholders differ between da and en: {differ}"


@pytest.mark.parametrize("language", ["da", "en"])
def test_catalogues_are_valid_gettext_files(language):
    with catalogue_path(language).open("rb") as handle:
        parsed = read_po(handle, locale=language)
    assert str(parsed.locale) == language and not parsed.fuzzy
    assert all(m.context for m in parsed if m.id), "every text names its page (msgctxt)"
    assert list(parsed.check()) == []


def test_no_page_keeps_a_dict_of_texts():
    pattern = re.compile(r'^\w+\s*(?::[^=]+)?=\s*\{\s*\n\s*"da"\s*:\s*\{', re.M)
    offenders = [p.name for p in PAGES if pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders


def test_no_multiselect_offers_the_untranslated_select_all():
    """Streamlit's multiselect adds an English "Select all" option unless told not to."""
    offenders = []
    for path in sorted(PAGES):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "multiselect":
                if not any(k.arg == "select_all" and getattr(k.value, "value", True) is False for k in node.keywords):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders
