"""Backup and restore of a project database.

SQLite: a consistent copy taken with SQLite's own online-backup API, so coders may
keep working while it runs; the copy is one self-contained file (no -wal/-shm).
PostgreSQL: ``pg_dump``/``pg_restore`` in their custom format when the client tools
are installed, otherwise the exact commands to run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ..config import database_url
from ..errors import FocusqaError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
REQUIRED_TABLES = {"documents", "segments", "codes", "codings", "audit_log", "alembic_version"}


class BackupError(FocusqaError):
    """A backup or restore cannot be made; the message says why and what to do."""


@dataclass
class BackupReport:
    """What a backup or restore did, for the command's output."""

    path: Path
    kind: str  # "sqlite" | "pg_dump"
    size: int
    documents: int | None = None
    codings: int | None = None
    previous: Path | None = None  # where restore kept the database it replaced

    def summary(self) -> str:
        counts = ""
        if self.documents is not None:
            counts = f", {self.documents} documents, {self.codings} codings"
        return f"{self.path} ({self.kind}, {self.size / 1_048_576:.1f} MB{counts})"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up or restored")
    return Path(url.database).expanduser().resolve()


def _is_postgres(url: URL) -> bool:
    return url.get_backend_name() in ("postgresql", "postgres")


def _check_sqlite_file(path: Path) -> tuple[int, int]:
    """Raise unless ``path`` is an intact focusqa SQLite database; return (documents, codings)."""
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        hint = " (it is a PostgreSQL pg_dump file)" if head.startswith(PGDUMP_MAGIC) else ""
        raise BackupError(f"is not a SQLite database{hint}", path=path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            raise BackupError(f"fails SQLite's integrity check: {result[0][0]}", path=path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = REQUIRED_TABLES - tables
        if missing:
            raise BackupError(f"is not a focusqa database (no table {', '.join(sorted(missing))})", path=path)
        documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        codings = conn.execute("SELECT count(*) FROM codings").fetchone()[0]
        return documents, codings
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot be read as a database ({exc})", path=path) from None
    finally:
        conn.close()


def _copy_sqlite(source: sqlite3.Connection, target_path: Path) -> None:
    """Copy ``source`` into a new file in one step and make it a single-file database.

    ``pages=-1`` copies everything while holding one read transaction, so writers
    in other connections neither corrupt the copy nor restart it.
    """
    target = sqlite3.connect(target_path)
    try:
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")
        target.commit()
    finally:
        target.close()


def _copy_into_place(source_path: Path, target: Path, what: str) -> tuple[int, int]:
    """Copy the SQLite file ``source_path`` to ``target`` through a checked partial file.

    ``target`` is replaced only by a complete copy that passes the integrity check, so
    a failure or a kill half-way leaves it as it was. Returns (documents, codings).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        _copy_sqlite(source, partial)
        counts = _check_sqlite_file(partial)
        for suffix in ("-wal", "-shm"):  # stale journal files would be replayed onto the new file
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(partial, target)
        return counts
    except sqlite3.Error as exc:
        raise BackupError(f"{what} failed ({exc})", path=target) from None
    finally:
        source.close()
        partial.unlink(missing_ok=True)


def backup_sqlite(db_path: Path, out: Path) -> BackupReport:
    """A consistent online copy of the SQLite database at ``db_path`` written to ``out``."""
    if not db_path.exists():
        raise BackupError("no database here yet; import something first", path=db_path)
    _check_sqlite_file(db_path)
    documents, codings = _copy_into_place(db_path, out, "backup")
    return BackupReport(out, "sqlite", out.stat().st_size, documents, codings)


def restore_sqlite(backup: Path, db_path: Path, *, force: bool = False) -> BackupReport:
    """Make ``db_path`` a copy of ``backup``; an existing database is kept next to it first."""
    if not backup.is_file():
        raise BackupError("backup file not found", path=backup)
    documents, codings = _check_sqlite_file(backup)
    previous: Path | None = None
    if db_path.exists() and db_path.stat().st_size > 0:
        if not force:
            raise BackupError("a database already exists here; close the app and add --force to "
                              "replace it (a copy of it is kept next to it)", path=db_path)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        previous = db_path.with_name(f"{db_path.stem}.before-restore-{stamp}{db_path.suffix}")
        backup_sqlite(db_path, previous)
    _copy_into_place(backup, db_path, "restore")
    return BackupReport(db_path, "sqlite", db_path.stat().st_size, documents, codings, previous)


# ------------------------------------------------------------------ PostgreSQL
def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection options for ``url``; the password goes in the environment, not argv."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _pg_shell(url: URL) -> str:
    parts = []
    if url.host:
        parts.append(f"--host {url.host}")
    if url.port:
        parts.append(f"--port {url.port}")
    if url.username:
        parts.append(f"--username {url.username}")
    return " ".join(parts)


def pg_guidance(url: URL, path: Path, action: str) -> str:
    """The commands to run by hand when the PostgreSQL client tools are not installed."""
    opts = _pg_shell(url)
    if action == "backup":
        return (f"pg_dump is not installed here. On a machine with the PostgreSQL client tools run:\n"
                f"  pg_dump {opts} --format=custom --file {path} {url.database}\n"
                "(Debian/Ubuntu: apt install postgresql-client; the password is asked for or read "
                "from PGPASSWORD / ~/.pgpass)")
    return (f"pg_restore is not installed here. On a machine with the PostgreSQL client tools run:\n"
            f"  pg_restore {opts} --clean --if-exists --no-owner --single-transaction "
            f"--dbname {url.database} {path}\n"
            "(stop the app first so no one codes while the database is replaced)")


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {message[-1] if message else f'exit code {done.returncode}'}")


def backup_postgres(url: URL, out: Path) -> BackupReport:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise BackupError(pg_guidance(url, out, "backup"))
    args, env = _pg_args(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        # pg_dump runs in one snapshot: a consistent copy while others keep coding.
        _run([tool, *args, "--format=custom", "--no-owner", "--file", str(partial), str(url.database)],
             env, "pg_dump")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(out, "pg_dump", out.stat().st_size)


def _pg_documents(url: URL) -> int:
    """How many documents the PostgreSQL database holds (0 when it has no focusqa schema)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("documents"):
            return 0
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM documents")).scalar_one())
    finally:
        engine.dispose()


def restore_postgres(backup: Path, url: URL, *, force: bool = False) -> BackupReport:
    if not backup.is_file():
        raise BackupError("backup file not found", path=backup)
    with open(backup, "rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if not head.startswith(PGDUMP_MAGIC):
        hint = " (it is a SQLite backup; restore it with --db pointing to a .db file)" \
            if head == SQLITE_MAGIC else ""
        raise BackupError(f"is not a pg_dump custom-format file{hint}", path=backup)
    tool = shutil.which("pg_restore")
    if tool is None:
        raise BackupError(pg_guidance(url, backup, "restore"))
    previous: Path | None = None
    if _pg_documents(url):
        if not force:
            raise BackupError(f"database {url.database} already holds documents; stop the app and add "
                              "--force to replace it (a pg_dump of it is kept first)")
        from ..config import data_dir

        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        previous = data_dir() / f"{url.database}.before-restore-{stamp}.dump"
        backup_postgres(url, previous)
    args, env = _pg_args(url)
    _run([tool, *args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--dbname", str(url.database), str(backup)], env, "pg_restore")
    return BackupReport(backup, "pg_dump", backup.stat().st_size, previous=previous)


# ---------------------------------------------------------------- verification
def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every focusqa table, sorted: two databases with equal snapshots hold
    the same work. Used to check a restore against its source and that a failed
    import changed nothing."""
    from sqlalchemy import create_engine, select

    from .models import Base

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            out: dict[str, list[tuple]] = {}
            for table in Base.metadata.sorted_tables:
                rows = conn.execute(select(table)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
            return out
    finally:
        engine.dispose()


# ---------------------------------------------------------------- entry points
def backup(out: str | Path, url: str | None = None) -> BackupReport:
    """Back up the project database (``url`` or the configured one) to ``out``."""
    parsed = make_url(database_url(url))
    out = Path(out).expanduser().resolve()
    if _is_postgres(parsed):
        return backup_postgres(parsed, out)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(f"backups of {parsed.get_backend_name()} databases are not supported")
    db_path = _sqlite_path(parsed)
    if out == db_path:
        raise BackupError("the backup must be a different file from the database", path=out)
    return backup_sqlite(db_path, out)


def restore(backup_file: str | Path, url: str | None = None, *, force: bool = False) -> BackupReport:
    """Replace the project database (``url`` or the configured one) by ``backup_file``.

    Afterwards the schema is brought up to date, so an older backup opens in a newer focusqa.
    """
    from .db import make_engine, migrate

    target = database_url(url)
    parsed = make_url(target)
    backup_file = Path(backup_file).expanduser().resolve()
    if _is_postgres(parsed):
        report = restore_postgres(backup_file, parsed, force=force)
    elif parsed.get_backend_name() == "sqlite":
        db_path = _sqlite_path(parsed)
        if backup_file == db_path:
            raise BackupError("the backup and the database are the same file", path=backup_file)
        report = restore_sqlite(backup_file, db_path, force=force)
    else:
        raise BackupError(f"restoring {parsed.get_backend_name()} databases is not supported")
    engine = make_engine(target)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return report
