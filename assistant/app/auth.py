"""Users, roles, password hashes, login throttling and the bind-address safety check of the web app.

Users come from the auth file (``settings.auth_file``, else ``<data_dir>/users.json`` when it
exists; JSON ``{"users": [{"username", "password_hash", "role"}]}``, written by
``assistant users add``) and/or ``settings.users`` (``"alice:<hash or password>:admin,…"``).
Passwords are stored as argon2id hashes (``argon2-cffi``); plaintext entries still work on a
loopback address, with a warning, and are refused for any other address. An auth file that group
or others may read is refused. Passwords are never logged or echoed; error messages name the
offending *entry*, never its password.

Failed logins are throttled per user name and per client address (:class:`LoginThrottle`): after a
few failures each further attempt must wait a growing delay, and after more a temporary lockout
refuses even the right password. Every failure and lockout is logged.

Without any user the app runs in local single-user mode, where the local user is an admin — which
is only allowed on a loopback address (see :func:`check_bind`).
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import AssistantError, PermissionDeniedError
from ..settings import Settings

log = logging.getLogger(__name__)

HASH_PREFIX = "$argon2"
MIN_PASSWORD_CHARS = 8
_hasher = PasswordHasher()

# The client address of the request being handled (set by ClientAddressMiddleware), so that the
# Gradio auth callable, which only receives (username, password), can throttle per address.
CLIENT_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_address", default=None)

Role = Literal["admin", "user"]
ROLES: tuple[Role, ...] = ("admin", "user")
ROLE_NAMES = {"admin": "管理员", "user": "普通用户"}
LOCAL_USER = "本机用户"


class AuthConfigError(AssistantError):
    user_message = "登录账号配置有误。"


class UnsafeBindError(AssistantError):
    user_message = "拒绝启动：监听非本机地址时必须配置登录账号。"


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of ``password``."""
    return _hasher.hash(password)


def is_password_hash(value: str) -> bool:
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


_dummy_hash: str | None = None


def _verify_hash(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class User:
    username: str
    password: str = field(repr=False)  # an argon2 hash, or (legacy, warned about) the plaintext
    role: Role = "user"

    @property
    def hashed(self) -> bool:
        return is_password_hash(self.password)

    def verify(self, password: str) -> bool:
        if self.hashed:
            return _verify_hash(self.password, password)
        return hmac.compare_digest(password.encode("utf-8"), self.password.encode("utf-8"))


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Failed logins per key (a user name or a client address).

    The first ``free`` failures cost nothing; after them each attempt must wait
    ``base_delay * 2**(n - free)`` seconds (at most ``max_delay``) after the last failure; at
    ``lockout_after`` failures the key is locked for ``lockout_seconds`` (even the right password
    is refused). Failures older than ``window`` seconds are forgotten. Attempts refused for
    waiting are not counted (so they cannot extend a lockout).
    """

    def __init__(self, free: int = 3, base_delay: float = 1.0, max_delay: float = 30.0, lockout_after: int = 10,
                 lockout_seconds: float = 900.0, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base_delay, self.max_delay = free, base_delay, max_delay
        self.lockout_after, self.lockout_seconds, self.window = lockout_after, lockout_seconds, window
        self.clock = clock
        self._records: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _record(self, key: str, now: float) -> _Failures:
        rec = self._records.get(key)
        if rec is not None and rec.locked_until <= now and now - rec.last > self.window:
            rec = None  # forgotten
        if rec is None:
            if len(self._records) > 10_000:  # bounded memory under a flood of invented names
                self._records = {k: r for k, r in self._records.items()
                                 if r.locked_until > now or now - r.last <= self.window}
            rec = self._records[key] = _Failures()
        return rec

    def delay(self, count: int) -> float:
        if count < self.free:
            return 0.0
        return float(min(self.base_delay * 2 ** (count - self.free), self.max_delay))

    def retry_after(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            rec = self._record(key, now)
            if rec.locked_until > now:
                return rec.locked_until - now
            return max(0.0, rec.last + self.delay(rec.count) - now) if rec.count else 0.0

    def failure(self, key: str) -> tuple[int, bool]:
        """Count a failure; (failures so far, whether this one started a lockout)."""
        with self._lock:
            now = self.clock()
            rec = self._record(key, now)
            rec.count += 1
            rec.last = now
            if rec.count >= self.lockout_after and rec.locked_until <= now:
                rec.locked_until = now + self.lockout_seconds
                return rec.count, True
            return rec.count, False

    def success(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)


def _default_user_throttle() -> LoginThrottle:
    return LoginThrottle(free=3, lockout_after=10)


def _default_address_throttle() -> LoginThrottle:
    return LoginThrottle(free=10, lockout_after=30)  # an office behind one NAT address shares it


@dataclass
class AuthPolicy:
    """Who may log in and with which role. ``enabled`` is False in local single-user mode."""

    users: dict[str, User] = field(default_factory=dict)
    by_user: LoginThrottle = field(default_factory=_default_user_throttle, repr=False)
    by_address: LoginThrottle = field(default_factory=_default_address_throttle, repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    @property
    def plaintext_users(self) -> list[str]:
        return sorted(u.username for u in self.users.values() if not u.hashed)

    def check(self, username: str, password: str, address: str | None = None) -> bool:
        """The Gradio ``auth=`` callable: throttled, constant-time (hash) verification."""
        global _dummy_hash
        name = str(username or "")[:128]
        address = address or CLIENT_ADDRESS.get()
        shown = f"{name[:64]!r} from {address or 'unknown address'}"
        wait = self.by_user.retry_after(name)
        if address:
            wait = max(wait, self.by_address.retry_after(address))
        if wait > 0:
            log.warning("login refused for %s: throttled, %.0f s to wait after failed attempts", shown, wait)
            return False
        user = self.users.get(name)
        if user is None:
            if _dummy_hash is None:
                _dummy_hash = hash_password("\0invalid\0")
            _verify_hash(_dummy_hash, str(password or ""))  # same cost as a real check
            ok = False
        else:
            ok = user.verify(str(password or ""))
        if ok:
            self.by_user.success(name)
            return True
        count, locked = self.by_user.failure(name)
        if address:
            _, address_locked = self.by_address.failure(address)
            locked = locked or address_locked
        log.warning("failed login for %s (%d failures)", shown, count)
        if locked:
            log.warning("login locked for %s for %.0f minutes after repeated failures", shown,
                        self.by_user.lockout_seconds / 60)
        return False

    def role(self, username: str | None) -> Role | None:
        """The role of a request's user; ``None`` when the user is unknown (deny everything)."""
        if not self.enabled:
            return "admin"  # local single-user mode (only allowed on loopback)
        if not username:
            return None
        user = self.users.get(username)
        return user.role if user else None

    def is_admin(self, username: str | None) -> bool:
        return self.role(username) == "admin"

    def require_admin(self, username: str | None) -> None:
        if not self.is_admin(username):
            log.warning("user %r was refused an admin action", username)
            raise PermissionDeniedError(f"user {username!r} is not an admin", "没有权限：仅管理员可以管理知识库。")

    def display_name(self, username: str | None) -> str:
        if not self.enabled:
            return LOCAL_USER
        return username or "未登录"


def _make_user(entry: Any, where: str) -> User:
    if not isinstance(entry, dict):
        raise AuthConfigError(f"{where}: not an object", f"登录账号配置有误：{where} 不是对象。")
    username = str(entry.get("username") or "").strip()
    password = entry.get("password_hash") or entry.get("password")
    if entry.get("password_hash") is not None and not is_password_hash(str(entry.get("password_hash"))):
        raise AuthConfigError(f"{where}: password_hash is not an argon2 hash",
                              f"登录账号配置有误：用户 {username} 的 password_hash 不是有效的哈希。")
    role = str(entry.get("role") or "user").strip().lower()
    if not username:
        raise AuthConfigError(f"{where}: missing username", f"登录账号配置有误：{where} 缺少用户名。")
    if not isinstance(password, str) or not password:
        raise AuthConfigError(f"{where}: missing password", f"登录账号配置有误：用户 {username} 缺少密码。")
    if role not in ROLES:
        raise AuthConfigError(f"{where}: bad role {role!r}",
                              f"登录账号配置有误：用户 {username} 的角色应为 admin 或 user。")
    return User(username, password, role)  # type: ignore[arg-type]


def parse_users_string(spec: str) -> list[User]:
    """``"alice:pw:admin,bob:pw:user"`` → users.

    Each entry is ``username:password[:role]``; with two or more colons the last part must be a
    role (a typo such as ``admn`` is an error, never silently part of the password).
    """
    users: list[User] = []
    for i, item in enumerate(p.strip() for p in _split_entries(spec)):
        if not item:
            continue
        username, sep, rest = item.partition(":")
        if not sep:
            raise AuthConfigError(f"users entry {i + 1} has no password",
                                  f"登录账号配置有误：第 {i + 1} 项应为 用户名:密码:角色。")
        password, role = rest, "user"
        head, sep2, tail = rest.rpartition(":")
        if sep2:  # user:password:role (the password itself may contain ":")
            password, role = head, tail
        users.append(_make_user({"username": username, "password": password, "role": role}, f"第 {i + 1} 项"))
    return users


def _split_entries(spec: str) -> list[str]:
    """Split at commas, except those inside an argon2 hash (``$m=65536,t=3,p=4$``): a piece starts
    a new entry only when it begins with ``name:``."""
    entries: list[str] = []
    for piece in spec.split(","):
        head = piece.lstrip()
        name, sep, _ = head.partition(":")
        starts_entry = bool(sep) and "$" not in name and "=" not in name
        if entries and not starts_entry and HASH_PREFIX in entries[-1]:
            entries[-1] += "," + piece
        else:
            entries.append(piece)
    return entries


def auth_path(settings: Settings) -> Path | None:
    """The auth file in use: ``settings.auth_file``, else ``<data_dir>/users.json`` if it exists."""
    if settings.auth_file is not None:
        return Path(settings.auth_file)
    default = settings.default_auth_path
    return default if default.is_file() else None


def check_auth_file_mode(path: Path) -> None:
    """Refuse an auth file that group or others may read or write (like ssh with its keys)."""
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuthConfigError(
            f"auth file {path} has mode {stat.S_IMODE(mode):o}; group/others have access",
            f"登录账号文件 {path.name} 的权限过宽（同组或其他用户可以读取），已拒绝使用。"
            f"请执行 chmod 600 {path} 后重试。",
        )


def load_auth(settings: Settings) -> AuthPolicy:
    """Read the configured users; raise :class:`AuthConfigError` (Chinese message) on a bad config."""
    users: list[User] = []
    path = auth_path(settings)
    if path is not None:
        try:
            check_auth_file_mode(path)
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise AuthConfigError(f"auth file {path} not found", f"找不到登录账号文件：{path.name}") from exc
        except (OSError, ValueError) as exc:
            raise AuthConfigError(f"auth file {path} unreadable: {type(exc).__name__}",
                                  f"登录账号文件无法读取或不是有效的 JSON：{path.name}") from exc
        entries = data.get("users") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise AuthConfigError("auth file has no users list", "登录账号文件中应有 users 列表。")
        users += [_make_user(e, f"users[{i}]") for i, e in enumerate(entries)]
    if settings.users:
        users += parse_users_string(settings.users)
    by_name: dict[str, User] = {}
    for user in users:
        if user.username in by_name:
            raise AuthConfigError(f"duplicate user {user.username!r}", f"登录账号配置有误：用户 {user.username} 重复。")
        by_name[user.username] = user
    if path is not None and not by_name:
        raise AuthConfigError("auth file lists no users", "登录账号文件中没有任何用户。")
    return AuthPolicy(by_name)


def read_auth_entries(path: Path) -> list[dict[str, Any]]:
    """The raw entries of an auth file ([] when it does not exist)."""
    if not path.exists():
        return []
    check_auth_file_mode(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuthConfigError(f"auth file {path} unreadable: {type(exc).__name__}",
                              f"登录账号文件无法读取或不是有效的 JSON：{path.name}") from exc
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise AuthConfigError("auth file has no users list", "登录账号文件中应有 users 列表。")
    return entries


def write_auth_entries(path: Path, entries: Iterable[dict[str, Any]]) -> None:
    """Write the auth file atomically with mode 600 (plaintext passwords are hashed on the way)."""
    clean: list[dict[str, Any]] = []
    for entry in entries:
        secret = str(entry.get("password_hash") or entry.get("password") or "")
        clean.append({"username": entry["username"], "role": entry.get("role", "user"),
                      "password_hash": secret if is_password_hash(secret) else hash_password(secret)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            json.dump({"users": clean}, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    os.chmod(path, 0o600)


def validate_username(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch in name for ch in ":,") or any(ch.isspace() for ch in name) \
            or not name.isprintable():
        raise AuthConfigError(f"bad user name {name!r}",
                              "用户名无效：应为 1–64 个字符，不含空格、冒号和逗号。")
    return name


def validate_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthConfigError("password too short", f"密码太短：至少 {MIN_PASSWORD_CHARS} 个字符。")
    return password


class ClientAddressMiddleware:
    """ASGI middleware recording each request's client address in :data:`CLIENT_ADDRESS`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = CLIENT_ADDRESS.set(str(client[0]) if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)


def is_loopback(host: str) -> bool:
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, policy: AuthPolicy) -> list[str]:
    """Refuse to expose the app beyond this machine without authentication or with plaintext
    passwords; return warnings (Chinese) to print on a loopback address."""
    plaintext = policy.plaintext_users
    if plaintext and not is_loopback(host):
        names = "、".join(plaintext[:5]) + ("等" if len(plaintext) > 5 else "")
        raise UnsafeBindError(
            f"refusing to bind {host} with plaintext passwords for {plaintext}",
            f"拒绝启动：监听地址 {host} 不是本机地址，但用户 {names} 的密码是明文保存的。"
            "请用 assistant users add 用户名 --role admin|user 设置（保存为哈希）后重试。",
        )
    if plaintext:
        log.warning("plaintext passwords for users %s (allowed on loopback only)", plaintext)
    if not is_loopback(host) and not policy.enabled:
        raise UnsafeBindError(
            f"refusing to bind {host} without authentication",
            f"拒绝启动：监听地址 {host} 不是本机地址，但没有配置登录账号，任何人都可以访问并管理知识库。"
            "请运行 assistant users add 用户名 --role admin 添加账号（或设置 ASSISTANT_USERS / ASSISTANT_AUTH_FILE）"
            "后重试，或只在本机使用（--host 127.0.0.1）。",
        )
    if plaintext:
        return [f"警告：用户 {'、'.join(plaintext)} 的密码以明文保存，只允许在本机地址使用；"
                "请用 assistant users add 改为哈希保存。"]
    return []
