"""``focusqa serve`` (the browser app, bound to this machine only by default), ``backup``, ``restore``
and ``coders`` (the project's coder list, for a team lead)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from ..config import PROJECT_DIR
from ..errors import FocusqaError
from ..store.coders import ROLES

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

    p = sub.add_parser("coders", help="the project's coders: list, add, set a password or a role",
                       description="Coders are the people who may code in the app. A coder changes only their "
                                   "own codings and memos; a reviewer may also change others' and reconcile. "
                                   "Passwords are asked for without echo and stored as salted scrypt hashes.")
    actions = p.add_subparsers(dest="coders_command", metavar="ACTION", required=True)
    q = actions.add_parser("list", help="every coder, their role and whether they have a password")
    add_db_option(q)
    q.set_defaults(func=cmd_coders_list)
    q = actions.add_parser("add", help="add a coder")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--role", choices=ROLES, default="coder")
    q.add_argument("--password", action="store_true", help="ask for a password for the coder")
    add_db_option(q)
    q.set_defaults(func=cmd_coders_add)
    q = actions.add_parser("passwd", help="set (or with --remove, remove) a coder's password")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--remove", action="store_true", help="remove the password (anyone can then sign in as NAME)")
    add_db_option(q)
    q.set_defaults(func=cmd_coders_passwd)
    q = actions.add_parser("role", help="make a coder a reviewer, or a reviewer a coder")
    q.add_argument("name", metavar="NAME")
    q.add_argument("role", choices=ROLES)
    add_db_option(q)
    q.set_defaults(func=cmd_coders_role)


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
    return launch(cmd, cwd=PROJECT_DIR, env=env)


def launch(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> int:
    """Run the server so that stopping `focusqa serve` stops it and frees the port.

    On POSIX this process becomes Streamlit (``os.execve``): a SIGTERM from a service
    manager or ``kill`` reaches the server itself. Elsewhere Streamlit runs as a child
    that gets every Ctrl+C/termination signal forwarded, and is waited for.
    """
    if os.name == "posix":
        os.chdir(cwd)
        os.execve(cmd[0], cmd, env)
    child = subprocess.Popen(cmd, cwd=cwd, env=env)

    def forward(signum, _frame) -> None:
        child.send_signal(signum)

    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), forward)
    return child.wait()


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


ADMIN = "focusqa coders"   # the audit actor of the command line's coder changes


def _ask_password(name: str) -> str:
    """A new password for ``name``, typed twice without echo."""
    import getpass

    first = getpass.getpass(f"password for {name}: ")
    if not first:
        raise FocusqaError("an empty password; use 'focusqa coders passwd NAME --remove' to remove one")
    if getpass.getpass("again: ") != first:
        raise FocusqaError("the two passwords differ; nothing was changed")
    return first


def cmd_coders_list(args: argparse.Namespace) -> int:
    from ..store import Store

    store = Store(args.db)
    coders = store.project_coders()
    if not coders:
        print("no coders yet: the first person to open the app adds themselves")
    for coder in coders:
        print(f"{coder.name}\t{coder.role}\t{'password' if coder.has_password else 'no password'}")
    if coders and store.project_is_open():
        print("open project: nobody has a password, so anyone using the app can sign in as any coder "
              "or add themselves")
    return 0


def cmd_coders_add(args: argparse.Namespace) -> int:
    from ..store import Store

    password = _ask_password(args.name) if args.password else None
    coder = Store(args.db).add_coder(args.name, role=args.role, password=password, actor=ADMIN)
    print(f"added {coder.name} ({coder.role}{', with a password' if coder.has_password else ''})")
    return 0


def cmd_coders_passwd(args: argparse.Namespace) -> int:
    from ..store import Store

    store = Store(args.db)
    if store.project_coder(args.name) is None:
        raise FocusqaError(f"'{args.name}' is not a coder in this project ('focusqa coders list' shows them)")
    password = None if args.remove else _ask_password(args.name)
    store.set_coder_password(args.name, password, actor=ADMIN)
    print(f"{args.name}: password {'removed' if args.remove else 'set'}")
    return 0


def cmd_coders_role(args: argparse.Namespace) -> int:
    from ..store import Store

    coder = Store(args.db).set_coder_role(args.name, args.role, actor=ADMIN)
    print(f"{coder.name} is now a {coder.role}")
    return 0
