"""Where things live: database URL, data folder, bundled codebook and corpus."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DEFAULT_CODEBOOK = PROJECT_DIR / "codebooks" / "interview_guide.yaml"
DEMO_CORPUS = PROJECT_DIR / "corpora" / "socialraadgivere"
MACHINE_CODER = "focusqa"


def data_dir() -> Path:
    """The per-user folder for the default database (``FOCUSQA_HOME`` overrides it).

    Linux: ``$XDG_DATA_HOME/focusqa`` (``~/.local/share/focusqa``);
    Windows: ``%APPDATA%\\focusqa``; macOS: ``~/Library/Application Support/focusqa``.
    """
    if os.environ.get("FOCUSQA_HOME"):
        return Path(os.environ["FOCUSQA_HOME"])
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "focusqa"
    home = Path.home()
    if (home / "Library" / "Application Support").is_dir():
        return home / "Library" / "Application Support" / "focusqa"
    return Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share")) / "focusqa"


def database_url(explicit: str | None = None) -> str:
    """``--db`` beats ``FOCUSQA_DATABASE_URL`` beats SQLite in :func:`data_dir`.

    A bare file path is accepted and turned into a SQLite URL.
    """
    url = explicit or os.environ.get("FOCUSQA_DATABASE_URL")
    if not url:
        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'focusqa.db'}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _host_name(value: str) -> str:
    """The host part of a ``Host`` header or an ``Origin`` URL, without scheme or port."""
    value = value.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def request_is_local(host: str | None, origin: str | None) -> bool:
    """Whether a browser request was addressed to this machine by name or loopback address.

    A web page elsewhere can point its own name at 127.0.0.1 (DNS rebinding); the browser
    then sends that name as ``Host``/``Origin``, and the request is refused. A team server
    (``focusqa serve --allow-remote``) adds its address via ``FOCUSQA_ALLOWED_HOSTS``.
    Without a ``Host`` header (Streamlit's AppTest) there is no browser to protect.
    """
    allowed = LOCAL_HOSTS | {h.strip().lower() for h in os.environ.get("FOCUSQA_ALLOWED_HOSTS", "").split(",")
                             if h.strip()}
    if host and _host_name(host) not in allowed:
        return False
    return not origin or _host_name(origin) in allowed
