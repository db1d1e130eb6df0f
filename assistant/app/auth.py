"""Users, roles and the bind-address safety check of the web app.

Users come from ``settings.auth_file`` (JSON ``{"users": [{"username", "password", "role"}]}``)
and/or ``settings.users`` (``"alice:pw:admin,bob:pw:user"``).  Passwords are compared in constant
time and never logged or echoed; error messages name the offending *entry*, never its password.
Without any user the app runs in local single-user mode, where the local user is an admin — which
is only allowed on a loopback address (see :func:`check_bind`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from index.errors import AssistantError, PermissionDeniedError
from index.settings import Settings

log = logging.getLogger(__name__)

Role = Literal["admin", "user"]
ROLES: tuple[Role, ...] = ("admin", "user")
ROLE_NAMES = {"admin": "管理员", "user": "普通用户"}
LOCAL_USER = "本机用户"


class AuthConfigError(AssistantError):
    user_message = "登录账号配置有误。"


class UnsafeBindError(AssistantError):
    user_message = "拒绝启动：监听非本机地址时必须配置登录账号。"


@dataclass(frozen=True)
class User:
    username: str
    password: str = field(repr=False)  # never shown by repr / logs
    role: Role = "user"


@dataclass
class AuthPolicy:
    """Who may log in and with which role. ``enabled`` is False in local single-user mode."""

    users: dict[str, User] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def check(self, username: str, password: str) -> bool:
        """The Gradio ``auth=`` callable: constant-time password comparison."""
        user = self.users.get(str(username or ""))
        expected = user.password if user else "\0invalid\0"
        ok = hmac.compare_digest(str(password or "").encode("utf-8"), expected.encode("utf-8"))
        if user is None or not ok:
            log.warning("failed login for user %r", str(username or "")[:64])
            return False
        return True

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
    password = entry.get("password")
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
    for i, item in enumerate(p.strip() for p in spec.split(",")):
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


def load_auth(settings: Settings) -> AuthPolicy:
    """Read the configured users; raise :class:`AuthConfigError` (Chinese message) on a bad config."""
    users: list[User] = []
    if settings.auth_file is not None:
        path = settings.auth_file
        try:
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
    if settings.auth_file is not None and not by_name:
        raise AuthConfigError("auth file lists no users", "登录账号文件中没有任何用户。")
    return AuthPolicy(by_name)


def is_loopback(host: str) -> bool:
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, policy: AuthPolicy) -> None:
    """Refuse to expose the app beyond this machine without authentication."""
    if not is_loopback(host) and not policy.enabled:
        raise UnsafeBindError(
            f"refusing to bind {host} without authentication",
            f"拒绝启动：监听地址 {host} 不是本机地址，但没有配置登录账号，任何人都可以访问并管理知识库。"
            "请设置 ASSISTANT_USERS（如 alice:密码:admin）或 ASSISTANT_AUTH_FILE 后重试，"
            "或只在本机使用（--host 127.0.0.1）。",
        )
