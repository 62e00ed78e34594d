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
