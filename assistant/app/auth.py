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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from ..errors import AssistantError, PermissionDeniedError
from ..settings import Settings
from . import audit
from .throttle import Attempt, LoginGuard
from .throttle import LoginThrottle as LoginThrottle  # re-exported (moved to throttle.py)

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


def throttle_message(seconds: int) -> str:
    return f"尝试过于频繁，请{seconds}秒后再试"


@dataclass
class AuthPolicy:
    """Who may log in and with which role. ``enabled`` is False in local single-user mode.

    Built by :func:`load_auth` it follows its auth file: :meth:`refresh` (called on every request by
    :class:`ClientAddressMiddleware` and before every login) re-reads the file when it changed, so
    added users, changed passwords and removed users take effect at the next request, and the
    sessions of removed users and of users whose password changed end at once
    (:meth:`bind_sessions`). Started without an auth file (local single-user mode), it watches
    ``awaiting`` (the data folder's ``users.json``, one ``stat`` per request): once the file appears
    the callbacks registered with :meth:`on_enable` run (the web app switches its page to the login
    form) and the file is followed like any auth file. Logins go through
    :class:`~.throttle.LoginGuard` (kept in ``<data_dir>/login_state.json``) and every attempt is
    written to the audit log.
    """

    users: dict[str, User] = field(default_factory=dict)
    guard: LoginGuard = field(default_factory=LoginGuard, repr=False)
    settings: Settings | None = field(default=None, repr=False)
    source: Path | None = None  # the auth file followed by refresh()
    fixed: dict[str, User] = field(default_factory=dict, repr=False)  # from settings.users (not reloaded)
    _stamp: tuple[int, int, int, int] | None = field(default=None, repr=False)
    _tokens: dict[str, str] | None = field(default=None, repr=False)
    _ended: dict[str, str] = field(default_factory=dict, repr=False)  # revoked session token -> user
    _lock: Any = field(default_factory=threading.RLock, repr=False)
    allow_plaintext: bool = field(default=True, repr=False)  # False once bound to a non-loopback address
    awaiting: Path | None = None  # the auth file that does not exist yet, watched while ``source`` is None
    _on_enable: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.users) or self.source is not None

    @property
    def plaintext_users(self) -> list[str]:
        return sorted(u.username for u in self.users.values() if not u.hashed)

    # -- following the auth file ----------------------------------------------------------------
    def _file_stamp(self) -> tuple[int, int, int, int] | None:
        assert self.source is not None
        try:
            st = self.source.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns

    def refresh(self) -> list[str]:
        """Re-read the auth file if it changed; the users whose sessions were ended (removed, or
        their password changed). A file that became unreadable, invalid or too open leaves nobody
        able to log in until it is fixed (never an open door); the error is logged and audited.
        An ``awaiting`` file that appeared becomes the ``source``: login is required from then on
        (also when the file turns out invalid: then nobody gets in until it is fixed)."""
        if self.source is None and not self._adopt_awaited():
            return []
        source = self.source
        assert source is not None
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return []
        with self._lock:
            if stamp == self._stamp:
                return []
            old = self.users
            try:
                if stamp is None:
                    raise AuthConfigError(f"auth file {source} is gone", f"找不到登录账号文件：{source.name}")
                users = {**_read_users(source), **self.fixed}
                plain = sorted(n for n, u in users.items() if not u.hashed)
                if plain and not self.allow_plaintext:
                    raise AuthConfigError(f"plaintext passwords for {plain} off loopback",
                                          f"账号文件中用户 {'、'.join(plain)} 的密码是明文，非本机地址不允许使用。")
                message = f"账号文件已重新读取：{len(users)} 个用户"
                result: audit.Outcome = "ok"
            except AssistantError as exc:
                log.error("auth file %s could not be reloaded: %s; nobody can log in until it is fixed",
                          source, exc)
                users, message, result = dict(self.fixed), f"账号文件无法使用，暂时无人能登录：{exc.user_message}", "error"
            self.users = users
            self._stamp = stamp
            ended = sorted(n for n, u in old.items() if n not in users or users[n].password != u.password)
            self._end_sessions(set(ended))
            self._audit(audit.SYSTEM_USER, "users-reload", result,
                        message + (f"；结束会话：{'、'.join(ended)}" if ended else ""), ended_sessions=ended)
            return ended

    def _adopt_awaited(self) -> bool:
        """Follow the awaited auth file once it exists (one ``stat`` while it does not); True when
        the policy has a ``source``. The :meth:`on_enable` callbacks (the web app asking for a login)
        run first, then the users are read, all under the lock: no request slips through unasked."""
        awaiting = self.awaiting
        if awaiting is None or not os.path.lexists(awaiting):
            return self.source is not None
        with self._lock:
            if self.source is None:
                for callback in self._on_enable:
                    try:
                        callback()
                    except Exception:  # the policy refuses every request without a login all the same
                        log.exception("switching the web app to login failed")
                self.source, self.awaiting, self._stamp = awaiting, None, None
                log.warning("auth file %s appeared: login is required from now on", awaiting)
                self._audit(audit.SYSTEM_USER, "users-enable", "ok",
                            f"已创建账号文件 {awaiting.name}：本机单用户模式结束，网页改为要求登录")
                self.refresh()
        return True

    def on_enable(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once login becomes required while running (see ``awaiting``); at once
        when it already is."""
        self._on_enable.append(callback)
        if self.enabled:
            callback()

    def bind_sessions(self, tokens: dict[str, str]) -> None:
        """Follow the web app's login sessions (Gradio's token -> user table) to end them."""
        self._tokens = tokens
        self._end_sessions(set())

    def _end_sessions(self, names: set[str]) -> None:
        tokens = self._tokens
        if tokens is None:
            return
        for token, user in list(tokens.items()):
            if user in names or (self.enabled and user not in self.users):
                tokens.pop(token, None)
                if len(self._ended) > 10_000:
                    self._ended.clear()
                self._ended[token] = user

    def ended_session(self, token: str | None) -> str | None:
        """The user of a session token that was ended (recorded once per token), else None."""
        return self._ended.pop(token, None) if token else None

    # -- logging in -----------------------------------------------------------------------------
    def _audit(self, user: str | None, action: str, result: audit.Outcome, message: str, **extra: Any) -> None:
        if self.settings is not None:
            audit.record(self.settings, user, action, None, result, message, **extra)

    def attempt(self, username: str, password: str, address: str | None = None) -> Attempt:
        """One login attempt, throttled (see ``throttle``), audited, constant-time for unknown users.
        Runs the argon2 check in the calling thread (the web app calls it off the event loop)."""
        global _dummy_hash
        self.refresh()
        name = str(username or "")[:128]
        address = address or CLIENT_ADDRESS.get()
        shown = f"{name[:64]!r} from {address or 'unknown address'}"
        where = {"address": address or ""}
        verdict = self.guard.before(name, address)
        if verdict.verdict == "throttled":
            log.warning("login refused for %s: throttled, %.0f s to wait after failed attempts", shown, verdict.wait)
            self._audit(name[:64], "login", "throttled", throttle_message(verdict.wait_seconds), **where)
            return verdict
        user = self.users.get(name)
        if user is None:
            if _dummy_hash is None:
                _dummy_hash = hash_password("\0invalid\0")
            _verify_hash(_dummy_hash, str(password or ""))  # same cost as a real check
            ok = False
        else:
            ok = user.verify(str(password or ""))
        if ok:
            self.guard.succeeded(name, address)
            self._audit(name, "login", "ok", "登录成功", known_address=verdict.known, **where)
            return Attempt("ok", known=verdict.known)
        result = self.guard.failed(name, address)
        log.warning("failed login for %s (%d failures)", shown, result.failures)
        self._audit(name[:64], "login", "denied", "用户名或密码错误", **where)
        if result.locked:
            minutes = (self.guard.pair if result.locked == "account-address" else self.guard.address).lockout_seconds / 60
            log.warning("login locked for %s for %.0f minutes after repeated failures (%s)", shown, minutes,
                        result.locked)
            scope = "该账号从此地址" if result.locked == "account-address" else "此地址"
            self._audit(name[:64], "lockout", "locked", f"连续登录失败，{scope}的登录已锁定 {minutes:.0f} 分钟",
                        scope=result.locked, **where)
        return result

    def check(self, username: str, password: str, address: str | None = None) -> bool:
        """Whether the login succeeds (throttled or wrong: False)."""
        return self.attempt(username, password, address).verdict == "ok"

    async def authenticate(self, username: str, password: str) -> bool:
        """The Gradio ``auth=`` callable: the password check runs in a worker thread (argon2 takes
        tens of milliseconds and must not stall other requests); a throttled attempt is answered as
        HTTP 429 (an ``HTTPException``) with 尝试过于频繁，请N秒后再试 and Retry-After."""
        address = CLIENT_ADDRESS.get()
        result = await run_in_threadpool(self.attempt, username, password, address)
        if result.verdict == "throttled":
            raise HTTPException(status_code=429, detail=throttle_message(result.wait_seconds),
                                headers={"Retry-After": str(result.wait_seconds)})
        return result.verdict == "ok"

    # -- roles ----------------------------------------------------------------------------------
    def role(self, username: str | None) -> Role | None:
        """The role of a request's user; ``None`` when the user is unknown (deny everything)."""
        self.refresh()  # also notices a first auth file created while running
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


def _read_users(path: Path) -> dict[str, User]:
    """The users of an auth file (mode checked); :class:`AuthConfigError` on any problem."""
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
    return _unique([_make_user(e, f"users[{i}]") for i, e in enumerate(entries)])


def _unique(users: list[User]) -> dict[str, User]:
    by_name: dict[str, User] = {}
    for user in users:
        if user.username in by_name:
            raise AuthConfigError(f"duplicate user {user.username!r}", f"登录账号配置有误：用户 {user.username} 重复。")
        by_name[user.username] = user
    return by_name


def load_auth(settings: Settings) -> AuthPolicy:
    """Read the configured users; raise :class:`AuthConfigError` (Chinese message) on a bad config.
    The policy follows the auth file afterwards (``AuthPolicy.refresh``) and keeps its login
    throttling state in ``<data_dir>/login_state.json``."""
    path = auth_path(settings)
    fixed = _unique(parse_users_string(settings.users)) if settings.users else {}
    from_file = _read_users(path) if path is not None else {}
    users = _unique([*from_file.values(), *fixed.values()])
    if path is not None and not from_file:
        raise AuthConfigError("auth file lists no users", "登录账号文件中没有任何用户。")
    # Without an auth file, the data folder's users.json is awaited: `assistant users add` while the
    # app runs in local single-user mode switches the running app to login (AuthPolicy.refresh).
    awaiting = settings.default_auth_path if path is None and settings.auth_file is None else None
    policy = AuthPolicy(users, guard=LoginGuard(settings.login_state_path), settings=settings, source=path,
                        fixed=fixed, awaiting=awaiting)
    if path is not None:
        policy._stamp = policy._file_stamp()
    return policy


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
    """ASGI middleware: records each request's client address in :data:`CLIENT_ADDRESS` and, with a
    ``policy``, re-reads a changed auth file before the request is handled (``AuthPolicy.refresh``),
    so a removed user's session is gone by the time Gradio looks it up; a request that still carries
    an ended session is written to the audit log once.

    The address is the TCP peer, unless the peer is one of ``ASSISTANT_TRUSTED_PROXIES`` (uvicorn's
    proxy-header handling is limited to them in ``server.launch``); X-Forwarded-For from anyone else
    is ignored."""

    def __init__(self, app: Any, policy: AuthPolicy | None = None) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else None
        token = CLIENT_ADDRESS.set(address)
        try:
            if self.policy is not None:
                self.policy.refresh()  # one stat; also notices a first auth file created while running
                if self.policy.source is not None:
                    self._note_ended_session(scope, address)
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)

    def _note_ended_session(self, scope: dict[str, Any], address: str | None) -> None:
        assert self.policy is not None
        if not self.policy._ended:
            return
        cookie = next((v for k, v in scope.get("headers") or [] if k == b"cookie"), b"").decode("latin1")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name.startswith("access-token"):
                user = self.policy.ended_session(value)
                if user is not None:
                    path = str(scope.get("path") or "")
                    self.policy._audit(user, "session", "denied", f"账号已删除或密码已修改，会话已结束（请求 {path[:80]}）",
                                       address=address or "")


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
    policy.allow_plaintext = is_loopback(host)  # also for users added to the auth file later
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
