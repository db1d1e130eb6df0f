"""Accounts: argon2 hashes, ``assistant users``, auth-file permissions, login throttling, the audit log."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.app import audit
from assistant.app.auth import (
    AuthConfigError,
    AuthPolicy,
    LoginThrottle,
    UnsafeBindError,
    check_bind,
    hash_password,
    load_auth,
    parse_users_string,
)
from assistant.errors import PermissionDeniedError
from assistant.settings import REPO_ROOT, Settings

from .browser_utils import AppServer, indexed_root, temp_root

ADMIN = ("wang", "Wang#Secret2024")
USER = ("zhao", "Zhao#Secret2024")


def users_spec() -> str:
    return f"{ADMIN[0]}:{hash_password(ADMIN[1])}:admin,{USER[0]}:{hash_password(USER[1])}:user"


def test_hashed_users_string_and_auth_file(tmp_path: Path) -> None:
    users = {u.username: u for u in parse_users_string(users_spec())}  # hashes contain commas
    assert users[ADMIN[0]].role == "admin" and users[USER[0]].role == "user"
    assert users[ADMIN[0]].hashed and ADMIN[1] not in users[ADMIN[0]].password
    policy = AuthPolicy(users)
    assert policy.check(*ADMIN) and not policy.check(ADMIN[0], "wrong") and not policy.check("nobody", ADMIN[1])
    assert policy.plaintext_users == []

    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": [{"username": "li", "password_hash": hash_password("Li#2024xx"),
                                           "role": "admin"}]}), encoding="utf-8")
    path.chmod(0o644)  # readable by everyone: refused
    with pytest.raises(AuthConfigError) as info:
        load_auth(Settings(auth_file=path))
    assert "chmod 600" in info.value.user_message and "权限" in info.value.user_message
    path.chmod(0o640)  # readable by the group: refused too
    with pytest.raises(AuthConfigError):
        load_auth(Settings(auth_file=path))
    path.chmod(0o600)
    assert load_auth(Settings(auth_file=path)).check("li", "Li#2024xx")


def test_plaintext_refused_off_loopback_and_warned_on_loopback() -> None:
    plain = AuthPolicy({u.username: u for u in parse_users_string("a:pw-plain:admin")})
    with pytest.raises(UnsafeBindError) as info:
        check_bind("0.0.0.0", plain)
    assert "明文" in info.value.user_message and "assistant users add" in info.value.user_message
    warnings = check_bind("127.0.0.1", plain)
    assert warnings and "明文" in warnings[0]
    hashed = AuthPolicy({u.username: u for u in parse_users_string(users_spec())})
    assert check_bind("0.0.0.0", hashed) == [] and check_bind("127.0.0.1", hashed) == []


def run_cli(*args: str, data: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"})
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=REPO_ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_users_add_writes_a_private_hashed_auth_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = run_cli("users", "add", ADMIN[0], "--role", "admin", "--password-stdin", data=data, stdin=ADMIN[1] + "\n")
    assert added.returncode == 0, added.stderr
    path = data / "users.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert ADMIN[1] not in text and "$argon2id$" in text
    assert run_cli("users", "add", USER[0], "--role", "user", "--password-stdin", data=data,
                   stdin=USER[1] + "\n").returncode == 0

    policy = load_auth(Settings(data_dir=data))  # the data folder's users.json is picked up by itself
    assert policy.enabled and policy.check(*ADMIN) and policy.role(USER[0]) == "user"
    assert check_bind("0.0.0.0", policy) == []

    again = run_cli("users", "add", ADMIN[0], "--role", "admin", "--password-stdin", data=data, stdin="x" * 10 + "\n")
    assert again.returncode == 2 and "已存在" in again.stderr and "Traceback" not in again.stderr
    short = run_cli("users", "add", "sun", "--role", "user", "--password-stdin", data=data, stdin="abc\n")
    assert short.returncode == 2 and "密码太短" in short.stderr
    changed = run_cli("users", "passwd", USER[0], "--password-stdin", data=data, stdin="Zhao#Changed2025\n")
    assert changed.returncode == 0, changed.stderr
    assert load_auth(Settings(data_dir=data)).check(USER[0], "Zhao#Changed2025")
    listed = run_cli("users", "list", data=data)
    assert ADMIN[0] in listed.stdout and "哈希" in listed.stdout and "明文" not in listed.stdout
    actions = [(e["action"], e["result"], e["target_user"]) for e in audit.read(Settings(data_dir=data))]
    assert actions == [("users-add", "ok", ADMIN[0]), ("users-add", "ok", USER[0]), ("users-passwd", "ok", USER[0])]


def test_throttle_grows_the_delay_then_locks_out() -> None:
    now = [1000.0]
    throttle = LoginThrottle(free=3, base_delay=1.0, max_delay=30.0, lockout_after=10, lockout_seconds=900,
                             clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("wang") == 0
        throttle.failure("wang")
    assert throttle.retry_after("wang") == pytest.approx(1.0)  # 4th attempt: wait 1 s
    now[0] += 1.0
    throttle.failure("wang")
    assert throttle.retry_after("wang") == pytest.approx(2.0)  # then 2 s, 4 s, …
    for _ in range(5):
        now[0] += 60
        throttle.failure("wang")
    now[0] += 60
    assert throttle.retry_after("wang") == 0
    _, locked = throttle.failure("wang")  # the 10th failure
    assert locked and throttle.retry_after("wang") == pytest.approx(900)
    now[0] += 901
    assert throttle.retry_after("wang") == 0


def test_policy_refuses_the_right_password_after_a_burst_of_wrong_ones(caplog: pytest.LogCaptureFixture) -> None:
    policy = AuthPolicy({u.username: u for u in parse_users_string(users_spec())})
    caplog.set_level(logging.WARNING, logger="assistant.app.auth")
    started = time.monotonic()
    for _ in range(150):
        assert not policy.check(ADMIN[0], "wrong", address="10.0.0.7")
    assert time.monotonic() - started < 30  # refused attempts cost no hash computation
    assert not policy.check(*ADMIN, address="10.0.0.7")  # was: accepted at once
    assert not policy.check(*ADMIN, address="10.0.0.8")  # the user is throttled from any address
    assert policy.check(*USER, address="10.0.0.8")  # other users from other addresses are not
    text = caplog.text
    assert "failed login for 'wang' from 10.0.0.7" in text and "throttled" in text and ADMIN[1] not in text

    spray = AuthPolicy({u.username: u for u in parse_users_string(users_spec())})
    for i in range(40):  # many user names from one address
        spray.check(f"guess{i}", "wrong", address="10.0.0.9")
    assert not spray.check(*USER, address="10.0.0.9")  # the address must wait
    assert spray.check(*USER, address="10.0.0.10")


@pytest.fixture(scope="module")
def hashed_app(model_path: Path) -> Iterator[AppServer]:
    with temp_root() as root:
        indexed_root(root)
        srv = AppServer(root, users=users_spec())
        try:
            yield srv
        finally:
            srv.close()


@pytest.mark.slow
def test_login_throttling_through_the_web_app(hashed_app: AppServer) -> None:
    with httpx.Client(base_url=hashed_app.url, timeout=30) as client:
        assert client.post("/login", data={"username": USER[0], "password": USER[1]}).status_code == 200
        started = time.monotonic()
        codes = [client.post("/login", data={"username": ADMIN[0], "password": f"guess{i}"}).status_code
                 for i in range(150)]
        assert all(code >= 400 for code in codes)
        assert time.monotonic() - started < 60
        # The right password right after the burst is refused (a temporary lockout).
        assert client.post("/login", data={"username": ADMIN[0], "password": ADMIN[1]}).status_code >= 400
    assert "127.0.0.1" in hashed_app.policy.by_address._records  # failures were counted per client address


@pytest.mark.slow
def test_admin_actions_are_audited(hashed_app: AppServer, tmp_path: Path) -> None:
    doc = tmp_path / "审计测试文件.txt"
    doc.write_text("一、说明\n京津冀三地推行“榆钱共保”机制，由北京市园林绿化局牵头。\n", encoding="utf-8")
    kb = hashed_app.app.kb
    assert kb.upload([(doc, doc.name)], ADMIN[0]).ok
    with pytest.raises(PermissionDeniedError):
        kb.delete("审计测试文件", USER[0])
    assert kb.delete("审计测试文件", ADMIN[0]).ok
    entries = audit.read(hashed_app.settings)[-3:]
    assert [(e["user"], e["action"], e["result"]) for e in entries] == [
        (ADMIN[0], "upload", "ok"), (USER[0], "delete", "denied"), (ADMIN[0], "delete", "ok")]
    assert entries[0]["files"] == [doc.name] and entries[2]["files"][0].endswith(doc.name)
    assert all(e["time"].endswith("+00:00") for e in entries)
    mode = stat.S_IMODE(hashed_app.settings.audit_path.stat().st_mode)
    assert mode == 0o600


@pytest.mark.slow
def test_raw_rest_ask_with_only_the_question_uses_the_defaults(hashed_app: AppServer) -> None:
    with httpx.Client(base_url=hashed_app.url, timeout=120) as client:
        assert client.post("/login", data={"username": USER[0], "password": USER[1]}).status_code == 200
        started = client.post("/gradio_api/call/ask", json={"data": ["什么是“六链五群”？"]})
        assert started.status_code == 200, started.text
        event_id = started.json()["event_id"]
        events = client.get(f"/gradio_api/call/ask/{event_id}").text
    assert "event: complete" in events, events  # was: event: error / {"error": null}
    payload = json.loads(events.split("event: complete", 1)[1].split("data:", 1)[1].strip())[0]
    assert payload["question"] == "什么是“六链五群”？" and payload["text"]
