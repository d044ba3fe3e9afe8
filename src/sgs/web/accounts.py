"""Who may log in: the office's accounts and one account per reporting unit.

Decisions:

- **Where.**  ``<data root>/accounts/accounts.json`` (mode 0600), so that ``$SGS_DATA_DIR``
  isolates accounts as it isolates the store.  Every change takes an exclusive ``flock`` on
  ``accounts/.lock`` and rewrites the file atomically, so two ``sgs users add`` never lose one
  another's account and a server reading meanwhile sees the old file or the new, never half.
- **Tokens.**  ``<id>.<secret>``: the id (12 hex digits, drawn anew at every (re-)key) names
  the account, so checking a token costs one argon2 verification, not one per account; only
  the salted argon2id hash of the secret is stored.  Re-keying draws a new id and secret, so
  the old token — and every session opened with it — stops working at once.
- **Names.**  A unit's account is named by the unit's code (one account per unit); an office
  account by the name given (any text without control characters, not an 18-character code).
- **Roles.**  ``office`` sees everything; ``unit`` sees only its own unit.  The shared
  ``$SGS_WEB_PASSWORD`` remains valid as an office secret (:data:`OFFICE_SECRET_PRINCIPAL`).
- **Cost.**  argon2 takes tens of milliseconds by design; a token already verified is
  remembered (by its SHA-256, next to the stored hash it was checked against) so scripts that
  send it with every request pay once — until the account is re-keyed or removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from starlette.requests import Request

from sgs.clock import office_now
from sgs.files import write_atomically

log = logging.getLogger(__name__)
Role = Literal["office", "unit"]
ACCOUNTS_DIR = "accounts"
ACCOUNTS_FILE = "accounts.json"
ID_LENGTH = 12
_ID = re.compile(rf"[0-9a-f]{{{ID_LENGTH}}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UNIT_CODE = re.compile(r"[0-9A-Z]{18}")


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: an account, or the office's shared secret.

    ``subject`` is what the session names — the account's id, or ``office`` for the shared
    secret: unlike the name, no two principals share it, so what belongs to one account (a
    self-check's problem list) is keyed by it.
    """

    name: str
    role: Role
    unit_code: str | None
    subject: str = ""

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    def may_see(self, unit_code: str) -> bool:
        """Per-unit isolation: the office sees every unit, a unit itself — and a county (or
        zone) its departments too, whose figures count in its own (docs/policy.md section 1)."""
        if self.is_office or self.unit_code == unit_code:
            return True
        if not self.unit_code:
            return False
        from sgs.reference.units import load_units

        units = load_units()
        mine = units.filter((units["code"] == unit_code) & (units["parent"] == self.unit_code))
        return mine.height > 0


OFFICE_SECRET_PRINCIPAL = Principal("信用办", "office", None, "office")
# Where the auth middleware leaves who a request comes from, and how (cookie or bearer).
PRINCIPAL_KEY = "sgs.principal"
VIA_KEY = "sgs.via"


def via_bearer(request: Request) -> bool:
    """Authenticated by an ``Authorization`` header (which no other site can make a browser
    send), not by the session cookie."""
    return request.scope.get(VIA_KEY) == "bearer"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    role: Role
    unit_code: str | None
    created: str  # ISO timestamp in the office's time zone
    hash: str

    @property
    def principal(self) -> Principal:
        return Principal(self.name, self.role, self.unit_code, self.id)

    def public(self) -> dict:
        """What may be shown: everything but the hash."""
        return {"user": self.name, "role": self.role, "unit_code": self.unit_code,
                "created": self.created}  # fmt: skip


class AccountError(ValueError):
    """A refused account change, with a Chinese message for the person asking."""


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def accounts_path(root: Path) -> Path:
    return Path(root) / ACCOUNTS_DIR / ACCOUNTS_FILE


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    folder = Path(root) / ACCOUNTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read(path: Path) -> list[Account]:
    if not path.exists():
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [Account(**a) for a in raw.get("accounts", [])]


def _write(path: Path, accounts: list[Account]) -> None:
    body = {"accounts": [a.__dict__ for a in accounts]}
    text = json.dumps(body, ensure_ascii=False, indent=1) + "\n"

    def write(scratch: Path) -> None:
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)

    write_atomically(path, write)


def list_accounts(root: Path) -> list[Account]:
    """Every account, office first, then units by code."""
    accounts = _read(accounts_path(root))
    return sorted(accounts, key=lambda a: (a.role != "office", a.name))


def office_name(name: str) -> str:
    """An office account's name as stored; refused if empty, odd, or shaped like a unit code."""
    text = unicodedata.normalize("NFKC", name).strip()
    if not text or _CONTROL.search(text) or len(text) > 40:
        raise AccountError("办公室账户名不能为空、不能含控制字符，且不超过 40 个字符。")
    if UNIT_CODE.fullmatch(text.upper()):
        raise AccountError("办公室账户名不能是 18 位代码（单位账户以单位代码命名）。")
    return text


def add_account(root: Path, name: str, role: Role, unit_code: str | None) -> tuple[Account, str]:
    """Create the account, or re-key it if it exists; returns it and its new token (shown once).

    A name held by an account of the other role is refused rather than silently re-roled.
    """
    secret = secrets.token_urlsafe(24)
    new_id = secrets.token_hex(ID_LENGTH // 2)
    digest = _hasher().hash(secret)
    path = accounts_path(root)
    with _locked(root):
        accounts = _read(path)
        old = next((a for a in accounts if a.name == name), None)
        if old is not None and old.role != role:
            raise AccountError(f"账户「{name}」已存在，角色不同，请先删除。")
        created = old.created if old else office_now().isoformat(timespec="seconds")
        account = Account(new_id, name, role, unit_code, created, digest)
        _write(path, [a for a in accounts if a.name != name] + [account])
    return account, f"{new_id}.{secret}"


def remove_account(root: Path, name: str) -> Account:
    """Delete an account (its token and sessions stop working); KeyError if there is none."""
    path = accounts_path(root)
    with _locked(root):
        accounts = _read(path)
        gone = next((a for a in accounts if a.name == name), None)
        if gone is None:
            raise KeyError(name)
        _write(path, [a for a in accounts if a.name != name])
    return gone


class AccountBook:
    """The accounts as the server sees them: re-read when the file changes, tokens checked
    with one argon2 verification each (remembered once verified)."""

    def __init__(self, root: Path) -> None:
        self.path = accounts_path(root)
        self._stamp: tuple[int, int] | None = None
        self._by_id: dict[str, Account] = {}
        self._verified: dict[bytes, tuple[str, str]] = {}  # sha256(token) -> (id, hash)
        self._mutex = threading.Lock()

    def _accounts(self) -> dict[str, Account]:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            stamp = None
        with self._mutex:
            if stamp != self._stamp:
                try:
                    self._by_id = {a.id: a for a in _read(self.path)} if stamp else {}
                except (ValueError, TypeError, KeyError):
                    # A hand-edited, broken file: no account logs in (the office secret still
                    # does), rather than every page failing.
                    log.error("accounts file %s is unreadable; no account can log in", self.path)
                    self._by_id = {}
                self._stamp = stamp
            return self._by_id

    def by_id(self, account_id: str) -> Account | None:
        return self._accounts().get(account_id)

    def check(self, token: str | bytes) -> Account | None:
        """The account whose token this is, or None (malformed, unknown id, wrong secret)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        raw = token if isinstance(token, bytes) else token.encode("utf-8", "replace")
        account_id, dot, secret = raw.partition(b".")
        if not dot or not _ID.fullmatch(account_id.decode("latin-1")) or len(secret) > 200:
            return None
        account = self.by_id(account_id.decode("latin-1"))
        if account is None:
            return None
        key = hashlib.sha256(raw).digest()
        with self._mutex:
            if self._verified.get(key) == (account.id, account.hash):
                return account
        try:
            _hasher().verify(account.hash, secret)
        except (VerificationError, InvalidHashError):
            return None
        with self._mutex:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = (account.id, account.hash)
        return account
