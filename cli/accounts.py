"""``assistant users add|passwd|remove|list|unlock``: the auth file (passwords stored as argon2 hashes)
and the login lockouts. Every change, and every refused one, goes to the audit log."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from assistant.app import audit
from assistant.app.auth import (
    AuthConfigError,
    hash_password,
    is_password_hash,
    read_auth_entries,
    validate_new_password,
    validate_username,
    write_auth_entries,
)
from assistant.app.throttle import LoginGuard
from assistant.errors import AssistantError
from assistant.settings import Settings


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """``assistant users add|passwd|remove|list|unlock``: the auth file (passwords stored as argon2
    hashes) and the login lockouts. Every change, and every refused one, goes to the audit log."""
    action = f"users-{args.users_command}"
    try:
        return _users(args, settings, action)
    except AssistantError as exc:
        if args.users_command != "list":
            audit.record(settings, audit.os_user(), action, None, "error", exc.user_message,
                         target_user=str(getattr(args, "name", "") or "")[:64])
        raise


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"为用户 {args.name} 设置密码：")
        if getpass.getpass("再输入一次：") != password:
            raise AuthConfigError("passwords differ", "两次输入的密码不一致，未作修改。")
    return validate_new_password(password)


def _unlock(args: argparse.Namespace, settings: Settings, action: str) -> int:
    name = str(args.name).strip()
    guard = LoginGuard(settings.login_state_path)
    waiting = guard.status(name)
    cleared = guard.unlock(name)
    message = (f"已解除用户 {name} 的登录限制（清除 {cleared} 条失败记录）。" if cleared
               else f"用户 {name} 当前没有登录失败记录，无需解锁。")
    audit.record(settings, audit.os_user(), action, None, "ok", message, target_user=name,
                 waited_seconds=round(waiting))
    print(message + ("网页服务在下一次登录时即生效。" if cleared else ""))
    return 0


def _users(args: argparse.Namespace, settings: Settings, action: str) -> int:
    path = Path(args.file) if args.file else (settings.auth_file or settings.default_auth_path)
    who = audit.os_user()
    if args.users_command == "unlock":
        return _unlock(args, settings, action)
    existed = path.exists()
    entries = read_auth_entries(path)
    names = [str(e.get("username", "")) for e in entries]
    if args.users_command == "list":
        for entry in entries:
            secret = str(entry.get("password_hash") or entry.get("password") or "")
            state = "哈希" if is_password_hash(secret) else "明文（不安全）"
            print(f"{entry.get('username')}\t{entry.get('role', 'user')}\t{state}")
        print(f"共 {len(entries)} 个用户（{path}）。")
        return 0
    name = validate_username(args.name)
    if args.users_command == "remove":
        if name not in names:
            raise AuthConfigError(f"no user {name!r}", f"用户 {name} 不存在。")
        remaining = [e for e in entries if e.get("username") != name]
        if remaining and not any(e.get("role") == "admin" for e in remaining):
            raise AuthConfigError("last admin", "不能删除最后一个管理员。")
        write_auth_entries(path, remaining)
        audit.record(settings, who, "users-remove", str(path), "ok", f"删除用户 {name}", target_user=name)
        print(f"已删除用户 {name}（{path}）。正在运行的网页服务在下一次请求时即结束该用户的会话。")
        return 0
    if args.users_command == "add" and name in names:
        raise AuthConfigError(f"user {name!r} exists", f"用户 {name} 已存在；修改密码请用 assistant users passwd {name}。")
    if args.users_command == "passwd" and name not in names:
        raise AuthConfigError(f"no user {name!r}", f"用户 {name} 不存在。")
    password_hash = hash_password(_read_password(args))
    if args.users_command == "add":
        entries.append({"username": name, "role": args.role, "password_hash": password_hash})
    else:
        for entry in entries:
            if entry.get("username") == name:
                entry.pop("password", None)
                entry["password_hash"] = password_hash
    write_auth_entries(path, entries)
    audit.record(settings, who, action, str(path), "ok", f"用户 {name}", target_user=name)
    verb = f"已添加用户 {name}（{args.role}）" if args.users_command == "add" else f"已修改用户 {name} 的密码"
    print(f"{verb}，保存在 {path}（权限 600，密码以 argon2 哈希保存）。")
    if existed:
        print("正在运行的网页服务在下一次请求时即使用新的账号设置（修改密码会结束该用户已登录的会话）。")
    elif settings.auth_file is None and path == settings.default_auth_path:
        print("网页服务会自动使用数据目录中的这个账号文件（也可用 ASSISTANT_AUTH_FILE 指定）；"
              "正在以本机单用户模式运行的网页服务在下一次请求时即改为要求登录，无需重启。")
    return 0
