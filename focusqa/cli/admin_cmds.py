"""``focusqa serve`` (the browser app, bound to this machine only by default), ``backup`` and ``restore``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from ..config import PROJECT_DIR
from ..errors import FocusqaError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(sub) -> None:
    from . import add_db_option

    p = sub.add_parser("serve", help="open the app in the browser (http://127.0.0.1:8501)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on; anything but this machine needs --allow-remote")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow listening on a network address (set up a login first, see README)")
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser window (the default opens one when a desktop is present)")
    add_db_option(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("backup", help="copy the database to a file, safely while others work",
                       description="SQLite: a consistent copy made with SQLite's online-backup API while the "
                                   "app may keep running. PostgreSQL: a pg_dump custom-format file (or the "
                                   "pg_dump command to run, when the client tools are not installed).")
    p.add_argument("out", metavar="OUT", help="backup file to write, e.g. focusqa-2026-11-25.db")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    add_db_option(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database by a backup made with 'focusqa backup'",
                       description="Stop the app first. An existing database is only replaced with --force, "
                                   "and a copy of it is kept next to it (SQLite) or in the data folder "
                                   "(PostgreSQL). The schema is brought up to date afterwards.")
    p.add_argument("backup_file", metavar="IN", help="a file written by 'focusqa backup'")
    p.add_argument("--force", action="store_true", help="replace a database that already holds data")
    add_db_option(p)
    p.set_defaults(func=cmd_restore)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.address not in LOOPBACK and not args.allow_remote:
        raise FocusqaError(f"refusing to listen on {args.address}: other machines could reach the data. "
                           "Set up a login (README, 'Team server') and add --allow-remote")
    env = dict(os.environ)
    if args.db:
        env["FOCUSQA_DATABASE_URL"] = args.db
    open_browser = not args.no_browser and desktop_available()
    if args.address not in LOOPBACK:
        env["FOCUSQA_ALLOWED_HOSTS"] = ",".join(filter(None, [env.get("FOCUSQA_ALLOWED_HOSTS"), args.address]))
    cmd = [sys.executable, "-m", "streamlit", "run", str(PROJECT_DIR / "app.py"),
           "--server.address", args.address, "--server.port", str(args.port),
           "--server.headless", "false" if open_browser else "true",
           "--browser.gatherUsageStats", "false"]
    host = "127.0.0.1" if args.address in LOOPBACK else args.address
    print(f"focusqa: the app is at http://{host}:{args.port}"
          + (" (opening it in your browser)" if open_browser else " (open it in your browser)")
          + "; Ctrl+C stops it.", flush=True)
    return subprocess.call(cmd, cwd=PROJECT_DIR, env=env)


def desktop_available() -> bool:
    """True where a browser window can be opened: Windows, macOS, or a Linux/BSD desktop session."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..store.backup import backup

    if Path(args.out).exists() and not args.force:
        raise FocusqaError("exists already; choose a new name or add --force", path=args.out)
    report = backup(args.out, args.db)
    print(f"backup written: {report.summary()}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..store.backup import restore

    report = restore(args.backup_file, args.db, force=args.force)
    if report.previous is not None:
        print(f"the database it replaced is kept as {report.previous}")
    print(f"restored from {args.backup_file}: {report.summary()}")
    return 0
