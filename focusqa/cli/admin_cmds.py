"""``focusqa serve``: the browser app, bound to this machine only by default."""

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
    add_db_option(p)
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.address not in LOOPBACK and not args.allow_remote:
        raise FocusqaError(f"refusing to listen on {args.address}: other machines could reach the data. "
                           "Set up a login (README, 'Team server') and add --allow-remote")
    env = dict(os.environ)
    if args.db:
        env["FOCUSQA_DATABASE_URL"] = args.db
    cmd = [sys.executable, "-m", "streamlit", "run", str(PROJECT_DIR / "app.py"),
           "--server.address", args.address, "--server.port", str(args.port),
           "--browser.gatherUsageStats", "false"]
    return subprocess.call(cmd, cwd=PROJECT_DIR, env=env)
