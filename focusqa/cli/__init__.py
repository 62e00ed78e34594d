"""The ``focusqa`` command line. Each feature area registers its own sub-commands."""

from __future__ import annotations

import argparse
import sys
import traceback
from importlib import import_module

from ..errors import FocusqaError

# Modules with a ``register(subparsers)`` function, in the order --help lists them.
COMMAND_MODULES = [
    "focusqa.cli.ingest_cmds",
    "focusqa.cli.codebook_cmds",
    "focusqa.cli.tagging_cmds",
    "focusqa.cli.analysis_cmds",
    "focusqa.cli.search_cmds",
    "focusqa.cli.export_cmds",
    "focusqa.cli.refi_cmds",
    "focusqa.cli.admin_cmds",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="focusqa",
        description="Qualitative analysis of focus-group transcripts: import, code, explore, export. "
                    "Everything runs on this machine; nothing is sent anywhere.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"focusqa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="database URL or SQLite file (default: $FOCUSQA_DATABASE_URL, "
                             "else focusqa.db in your user data folder)")


# Exit codes: 0 done; 1 some files were refused (the others are in); 2 the command was
# refused (bad arguments or input, nothing changed); 70 focusqa crashed (a bug), 130 Ctrl-C.
EXIT_CRASHED = 70


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FocusqaError as exc:
        print(f"focusqa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("focusqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception:  # noqa: BLE001 - a bug: say so, distinctly from a refused file
        traceback.print_exc()
        print("focusqa: internal error (a bug in focusqa, not in your files); please report it "
              "with the lines above", file=sys.stderr)
        return EXIT_CRASHED
