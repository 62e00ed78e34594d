"""Shared fixtures. Tests never touch the user's own database (FOCUSQA_HOME is a temp dir)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "socialraadgivere"
SHARED = ROOT.parent / "shared"            # real public documents; only CI has them beside the clone
BACKGROUND = SHARED / "background"


def require_program(*names: str, package: str) -> str:
    """The path of the first of ``names`` on PATH; skip (fail in CI) when none is installed.

    ``make test`` installs the system packages where it can (scripts/system-deps.sh); where it
    cannot (no root, no sudo), the tests that need them skip with this one-line reason.
    ``FOCUSQA_REQUIRE_SYSTEM=1`` (CI) turns the skip into a failure.
    """
    for name in names:
        found = shutil.which(name) or (name if name.startswith("/") and Path(name).exists() else None)
        if found:
            return found
    reason = f"{names[0]} is missing (Debian package {package}; scripts/system-deps.sh installs it)"
    if os.environ.get("FOCUSQA_REQUIRE_SYSTEM") == "1":
        pytest.fail("FOCUSQA_REQUIRE_SYSTEM=1 but " + reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _shared_documents(request):
    """Tests marked ``shared`` read ``../shared``: skip them when it is absent, fail in CI.

    A user's clone has no ``../shared``; CI sets ``FOCUSQA_REQUIRE_SHARED=1`` so that a
    missing folder can never turn the real-document tests into silent skips.
    """
    if request.node.get_closest_marker("shared") is None or SHARED.is_dir():
        return
    reason = f"../shared is not beside the project ({SHARED}): real-document test not run"
    if os.environ.get("FOCUSQA_REQUIRE_SHARED") == "1":
        pytest.fail("FOCUSQA_REQUIRE_SHARED=1 but " + reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("FOCUSQA_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("FOCUSQA_DATABASE_URL", raising=False)


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("FOCUSQA_TEST_POSTGRES_URL"):
        params.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    return params


@pytest.fixture
def db_url(tmp_path) -> str:
    """A fresh, empty SQLite database file."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=_backends())
def any_db_url(request, tmp_path) -> str:
    """A fresh empty database on each backend CI provides (SQLite, and PostgreSQL in CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    from sqlalchemy import create_engine, text

    base = os.environ["FOCUSQA_TEST_POSTGRES_URL"]
    name = f"fqa_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**8}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def store(any_db_url):
    from focusqa.store import Store

    s = Store(any_db_url)
    yield s
    s.dispose()


def sign_in(at, name: str, password: str = ""):
    """Sign an AppTest session in from the sidebar, as a person would: pick ``name`` from the
    coder list (with ``password`` if they have one), or add oneself when not on the list."""
    pickers = [s for s in at.sidebar.selectbox if s.key == "_focusqa_pick_coder"]
    if pickers and name in pickers[0].options:
        pickers[0].set_value(name).run()
        if password:
            at.sidebar.text_input(key="_focusqa_coder_password").input(password)
        at.sidebar.button(key="_focusqa_sign_in").click().run()
    else:
        at.sidebar.text_input(key="_focusqa_new_coder").input(name)
        if password:
            at.sidebar.text_input(key="_focusqa_new_coder_password").input(password)
        at.sidebar.button(key="_focusqa_add_coder").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at
