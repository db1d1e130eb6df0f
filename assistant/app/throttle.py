"""Login throttling that an attacker cannot turn against an account's owner, kept across restarts.

The scheme follows the OWASP Authentication Cheat Sheet (account lockout must not become a denial of
service) and its "device cookie" idea, with the client address in place of the cookie:

* **per (account, address)**: the first 3 failures are free, then each attempt waits 1, 2, 4 … 30 s
  after the last failure; 10 failures lock this account *from this address* for 15 minutes. An
  attacker locks only their own address out.
* **known addresses**: an address from which the account has logged in successfully before (the last
  20 per account are remembered) is only subject to the rule above: the owner's usual address is never
  slowed down by failures from elsewhere.
* **per account, from unknown addresses** (the slower path): failures from addresses that never logged
  in to the account add up; after 10, each attempt from any unknown address must wait 1, 2, 4 … 30 s
  after the last one, but is never locked: a guessing attack spread over many addresses is held to
  about two tries a minute, and the owner on a new address still gets in.
* **per address** (one address trying many accounts): 10 free failures, then delays, and 30 lock the
  address for 15 minutes — except for accounts the address is known to.

Refused attempts (waiting, locked) are not counted and cost no password check. The state lives in
``<data_dir>/login_state.json`` (mode 600, replaced atomically under a file lock), so a restart does not
clear a lockout; ``assistant users unlock NAME`` clears an account's records.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

MAX_RECORDS = 10_000  # per kind: bounded under a flood of invented names and addresses
MAX_KNOWN = 20  # addresses remembered per account


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Failed logins per key.

    The first ``free`` failures cost nothing; after them each attempt must wait
    ``base_delay * 2**(n - free)`` seconds (at most ``max_delay``) after the last failure; at
    ``lockout_after`` failures (``None``: never) the key is locked for ``lockout_seconds`` (even the
    right password is refused). Failures older than ``window`` seconds are forgotten. Attempts
    refused for waiting are not counted (so they cannot extend a lockout).
    """

    def __init__(self, free: int = 3, base_delay: float = 1.0, max_delay: float = 30.0,
                 lockout_after: int | None = 10, lockout_seconds: float = 900.0, window: float = 900.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.free, self.base_delay, self.max_delay = free, base_delay, max_delay
        self.lockout_after, self.lockout_seconds, self.window = lockout_after, lockout_seconds, window
        self.clock = clock
        self._records: dict[str, _Failures] = {}
        self._lock = threading.RLock()

    def _live(self, rec: _Failures, now: float) -> bool:
        return rec.locked_until > now or now - rec.last <= self.window

    def _record(self, key: str, now: float) -> _Failures:
        rec = self._records.get(key)
        if rec is not None and not self._live(rec, now):
            rec = None  # forgotten
        if rec is None:
            if len(self._records) > MAX_RECORDS:
                self.prune(now)
            rec = self._records[key] = _Failures()
        return rec

    def prune(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        with self._lock:
            self._records = {k: r for k, r in self._records.items() if self._live(r, now)}

    def delay(self, count: int) -> float:
        if count < self.free:
            return 0.0
        return float(min(self.base_delay * 2 ** (count - self.free), self.max_delay))

    def retry_after(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            rec = self._records.get(key)
            if rec is None or not self._live(rec, now):
                return 0.0
            if rec.locked_until > now:
                return rec.locked_until - now
            return max(0.0, rec.last + self.delay(rec.count) - now) if rec.count else 0.0

    def locked(self, key: str) -> bool:
        with self._lock:
            rec = self._records.get(key)
            return rec is not None and rec.locked_until > self.clock()

    def failure(self, key: str) -> tuple[int, bool]:
        """Count a failure; (failures so far, whether this one started a lockout)."""
        with self._lock:
            now = self.clock()
            rec = self._record(key, now)
            rec.count += 1
            rec.last = now
            if self.lockout_after is not None and rec.count >= self.lockout_after and rec.locked_until <= now:
                rec.locked_until = now + self.lockout_seconds
                return rec.count, True
            return rec.count, False

    def success(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def forget(self, match: Callable[[str], bool]) -> int:
        """Drop the records whose key ``match``es; how many were dropped."""
        with self._lock:
            gone = [k for k in self._records if match(k)]
            for k in gone:
                del self._records[k]
            return len(gone)

    def dump(self) -> dict[str, list[float]]:
        now = self.clock()
        with self._lock:
            return {k: [r.count, r.last, r.locked_until] for k, r in self._records.items() if self._live(r, now)}

    def load(self, data: Any) -> None:
        records: dict[str, _Failures] = {}
        if isinstance(data, dict):
            for key, value in list(data.items())[-MAX_RECORDS:]:
                try:
                    count, last, until = value
                    records[str(key)] = _Failures(int(count), float(last), float(until))
                except (TypeError, ValueError):
                    continue
        with self._lock:
            self._records = records


Verdict = Literal["ok", "denied", "throttled"]


@dataclass
class Attempt:
    """What the guard says about one login attempt."""

    verdict: Verdict
    wait: float = 0.0  # throttled: seconds to wait
    locked: str = ""  # denied: the lockout this failure started ("" none, "account-address", "address")
    known: bool = False  # the address has logged in to the account before
    failures: int = 0

    @property
    def wait_seconds(self) -> int:
        return max(1, int(self.wait + 0.999))


def _pair(user: str, address: str) -> str:
    return f"{user}\n{address}"


@dataclass
class LoginGuard:
    """The throttling scheme of this module; persisted to ``path`` when given."""

    path: Path | None = None
    clock: Callable[[], float] = time.time
    pair: LoginThrottle = field(default=None)  # type: ignore[assignment]
    account: LoginThrottle = field(default=None)  # type: ignore[assignment]
    address: LoginThrottle = field(default=None)  # type: ignore[assignment]
    known: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pair = self.pair or LoginThrottle(free=3, lockout_after=10, clock=self.clock)
        self.account = self.account or LoginThrottle(free=10, lockout_after=None, clock=self.clock)
        self.address = self.address or LoginThrottle(free=10, lockout_after=30, clock=self.clock)
        self._lock = threading.RLock()
        self._stamp: tuple[int, int, int] | None = None

    # -- persistence ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked_state(self, write: bool) -> Iterator[None]:
        """Hold the state (this process and, with a file, others): load it if the file changed,
        save it afterwards when ``write``."""
        with self._lock:
            if self.path is None:
                yield
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(f".{self.path.name}.lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._load_if_changed()
                yield
                if write:
                    self._save()
            finally:
                os.close(fd)  # releases the flock

    def _file_stamp(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _load_if_changed(self) -> None:
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        data: dict[str, Any] = {}
        if stamp is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
            except (OSError, ValueError):
                log.error("login state %s unreadable: starting from empty records", self.path)
                data = {}
        data = data if isinstance(data, dict) else {}
        self.pair.load(data.get("pair"))
        self.account.load(data.get("account"))
        self.address.load(data.get("address"))
        known = data.get("known")
        self.known = {str(u): {str(a): float(t) for a, t in list(v.items())[-MAX_KNOWN:]}
                      for u, v in (known.items() if isinstance(known, dict) else []) if isinstance(v, dict)}
        self._stamp = stamp

    def _save(self) -> None:
        assert self.path is not None
        data = {"version": 1, "pair": self.pair.dump(), "account": self.account.dump(),
                "address": self.address.dump(), "known": self.known}
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                json.dump(data, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self._stamp = self._file_stamp()

    # -- the scheme -------------------------------------------------------------------------
    def is_known(self, user: str, address: str | None) -> bool:
        return bool(address) and address in self.known.get(user, {})

    def before(self, user: str, address: str | None) -> Attempt:
        """May ``user`` try to log in from ``address`` now? (``throttled`` with the wait, else ``ok``.)"""
        with self._locked_state(write=False):
            known = self.is_known(user, address)
            addr = address or "unknown"
            wait = self.pair.retry_after(_pair(user, addr))
            if not known:
                wait = max(wait, self.account.retry_after(user))
                if address:
                    wait = max(wait, self.address.retry_after(address))
            return Attempt("throttled" if wait > 0 else "ok", wait=wait, known=known)

    def failed(self, user: str, address: str | None) -> Attempt:
        """Count a wrong password; says which lockout it started, if any."""
        with self._locked_state(write=True):
            known = self.is_known(user, address)
            addr = address or "unknown"
            count, locked = self.pair.failure(_pair(user, addr))
            which = "account-address" if locked else ""
            if not known:
                self.account.failure(user)
                if address:
                    _, address_locked = self.address.failure(address)
                    which = which or ("address" if address_locked else "")
            return Attempt("denied", locked=which, known=known, failures=count)

    def succeeded(self, user: str, address: str | None) -> None:
        with self._locked_state(write=True):
            addr = address or "unknown"
            self.pair.success(_pair(user, addr))
            if address:
                seen = self.known.setdefault(user, {})
                seen.pop(address, None)
                seen[address] = self.clock()
                while len(seen) > MAX_KNOWN:
                    seen.pop(next(iter(seen)))
            if len(self.known) > MAX_RECORDS:
                self.known = dict(list(self.known.items())[-MAX_RECORDS:])

    def unlock(self, user: str) -> int:
        """Clear every failure record of ``user`` (all addresses), and the address records of the
        addresses it failed from; how many records were cleared."""
        with self._locked_state(write=True):
            prefix = f"{user}\n"
            addresses = {k[len(prefix):] for k in self.pair.dump() if k.startswith(prefix)}
            return (self.pair.forget(lambda k: k.startswith(prefix)) + self.account.forget(lambda k: k == user)
                    + self.address.forget(lambda k: k in addresses))

    def status(self, user: str) -> float:
        """Seconds until ``user`` is no longer locked or slowed from an unknown address (0: free)."""
        with self._locked_state(write=False):
            prefix = f"{user}\n"
            waits = [self.pair.retry_after(k) for k in list(self.pair.dump()) if k.startswith(prefix)]
            return max([self.account.retry_after(user), *waits], default=0.0)
