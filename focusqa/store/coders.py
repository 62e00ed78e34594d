"""Who may do what: the project's coder list, password hashes and the ownership rules.

The store calls these inside its own transactions, so a refused action changes nothing.
A coder changes only their own codings and memos and undoes only their own actions; a
reviewer may also change others' work and reconcile. The machine's suggestions belong to
nobody: every coder may review them (the decision becomes the coder's own coding).

A project is *open* while no coder has a password: then anyone using the app may add
themselves, and a name that writes for the first time is added to the list (role coder),
which keeps a single evaluator's first run and scripts simple. Once a coder has a password
the project is *closed*: only listed coders may write, and the list is managed with
``focusqa coders``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import MACHINE_CODER
from ..errors import FocusqaError
from .models import AuditEntry, CoderRow

ROLES = ("coder", "reviewer")
FINAL_CODER = "final"          # the reconciled version's coder (see reconcile.py)
RESERVED = (MACHINE_CODER, FINAL_CODER)
MAX_NAME = 60

# scrypt, as recommended by OWASP for password storage: 2**14 x 8 x 1 costs ~16 MB and
# a few tens of milliseconds per check
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2 ** 14, 8, 1, 32


@dataclass(frozen=True)
class CoderInfo:
    name: str
    role: str
    has_password: bool

    @property
    def is_reviewer(self) -> bool:
        return self.role == "reviewer"


class NotAllowedError(FocusqaError):
    """The signed-in coder may not do this (someone else's work, or not a coder here)."""


def hash_password(password: str) -> str:
    """A salted scrypt hash in one string: ``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` gives ``stored`` (compared in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                                   p=int(p), dklen=len(bytes.fromhex(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


def coder_info(row: CoderRow) -> CoderInfo:
    return CoderInfo(row.name, row.role, row.password_hash is not None)


def clean_name(name: str) -> str:
    """The name as stored: stripped; refused when empty, too long or the machine's own."""
    name = " ".join((name or "").split())
    if not name:
        raise FocusqaError("a coder needs a name")
    if len(name) > MAX_NAME:
        raise FocusqaError(f"a coder's name has at most {MAX_NAME} characters")
    if name in RESERVED:
        raise FocusqaError(f"'{name}' is reserved for focusqa itself; choose another name")
    return name


def find(s: Session, name: str) -> CoderRow | None:
    return s.scalar(select(CoderRow).where(CoderRow.name == name))


def project_is_open(s: Session) -> bool:
    """True while no coder has a password (see the module docstring)."""
    return not s.scalar(select(func.count()).select_from(CoderRow).where(CoderRow.password_hash.is_not(None)))


def has_reviewer(s: Session) -> bool:
    return bool(s.scalar(select(func.count()).select_from(CoderRow).where(CoderRow.role == "reviewer")))


def add(s: Session, name: str, actor: str, *, role: str = "coder", password: str | None = None) -> CoderRow:
    """Put a new coder on the list (audited); refused if the name is taken."""
    name = clean_name(name)
    if role not in ROLES:
        raise FocusqaError(f"a role is one of {', '.join(ROLES)}")
    if find(s, name) is not None:
        raise FocusqaError(f"'{name}' is already a coder in this project")
    return _insert(s, name, actor, role, hash_password(password) if password else None)


def _insert(s: Session, name: str, actor: str, role: str = "coder", password_hash: str | None = None) -> CoderRow:
    row = CoderRow(name=name, role=role, password_hash=password_hash)
    s.add(row)
    s.flush()
    s.add(AuditEntry(actor=actor, action="add-coder", entity="coder", entity_id=name[:64],
                     after={"name": name, "role": role, "password": password_hash is not None}))
    return row


def register_names(s: Session, names, actor: str) -> None:
    """Put the coders named in imported work on the list (role coder, no password).

    Names are kept exactly as the codings spell them, so they keep matching.
    """
    for name in sorted({n for n in names if n and n.strip() and n not in RESERVED}):
        if find(s, name) is None:
            _insert(s, name, actor)


def acting(s: Session, actor: str) -> CoderRow:
    """The coder behind a write; a new name joins an open project, a closed one refuses it."""
    if not actor or not actor.strip():
        raise FocusqaError("a coder name is required before coding")
    row = find(s, actor)
    if row is not None:
        return row
    if actor in RESERVED:
        raise NotAllowedError(f"'{actor}' is reserved for focusqa itself, not a coder")
    if not project_is_open(s):
        raise NotAllowedError(f"'{actor}' is not a coder in this project; sign in as a coder on the list "
                              "(a team lead adds coders with 'focusqa coders add')")
    return _insert(s, actor, actor)


def require_owner_or_reviewer(s: Session, actor: str, owner: str, what: str) -> CoderRow:
    """Refuse unless ``actor`` is ``owner`` or a reviewer (the machine's rows: any coder)."""
    row = acting(s, actor)
    if actor != owner and owner != MACHINE_CODER and row.role != "reviewer":
        raise NotAllowedError(f"{what} belongs to {owner}; only {owner} or a reviewer can change it")
    return row


def require_reviewer(s: Session, actor: str, what: str) -> CoderRow:
    row = acting(s, actor)
    if row.role != "reviewer":
        raise NotAllowedError(f"only a reviewer can {what}; {actor} is a coder "
                              f"(a team lead gives the role with 'focusqa coders role NAME reviewer')")
    return row
