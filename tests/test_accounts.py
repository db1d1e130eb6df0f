"""Accounts: argon2 hashes, ``assistant users``, auth-file permissions, login throttling, the audit log."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from assistant.app import audit
from assistant.app.auth import (
    AuthConfigError,
    AuthPolicy,
    LoginGuard,
    LoginThrottle,
    UnsafeBindError,
    check_bind,
    hash_password,
    load_auth,
    parse_users_string,
    write_auth_entries,
)
from assistant.app.kb import KnowledgeBase
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
    actions = [(e["action"], e["result"], e["target_user"]) for e in audit.read(Settings(data_dir=data))
               if e["action"].startswith("users-") and e["action"] != "users-reload"]
    assert actions == [("users-add", "ok", ADMIN[0]), ("users-add", "ok", USER[0]),
                       ("users-add", "error", ADMIN[0]), ("users-add", "error", "sun"),  # refusals too
                       ("users-passwd", "ok", USER[0])]


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
    attempt = policy.attempt(*ADMIN, address="10.0.0.7")
    assert attempt.verdict == "throttled" and attempt.wait > 0  # the right password must wait (was: accepted)
    assert policy.check(*ADMIN, address="10.0.0.8")  # the attacker's burst did not lock the owner out
    assert policy.check(*USER, address="10.0.0.8")
    text = caplog.text
    assert "failed login for 'wang' from 10.0.0.7" in text and "throttled" in text and ADMIN[1] not in text

    spray = AuthPolicy({u.username: u for u in parse_users_string(users_spec())})
    for i in range(40):  # many user names from one address
        spray.check(f"guess{i}", "wrong", address="10.0.0.9")
    assert not spray.check(*USER, address="10.0.0.9")  # the address must wait
    assert spray.check(*USER, address="10.0.0.10")


def test_an_attacker_cannot_lock_the_owner_out() -> None:
    """OWASP: failures from addresses that never logged in to an account lock only those addresses;
    the owner's known address is never slowed, a new address only slowed (at most 30 s), never locked."""
    now = [1_000_000.0]
    guard = LoginGuard(clock=lambda: now[0])
    policy = AuthPolicy({u.username: u for u in parse_users_string(users_spec())}, guard=guard)
    assert policy.check(*ADMIN, address="10.1.1.1")  # the owner's usual address becomes known
    for i in range(10):  # one attacking address, waiting out every delay: it locks itself out
        now[0] += 31
        assert policy.attempt(ADMIN[0], f"guess{i}", address="172.16.0.1").verdict == "denied"
    locked = policy.attempt(*ADMIN, address="172.16.0.1")
    assert locked.verdict == "throttled" and locked.wait > 800  # even the right password, for 15 minutes
    assert policy.check(*ADMIN, address="10.1.1.1")  # the owner, at once, from the known address
    fresh = policy.attempt(*ADMIN, address="192.168.5.5")  # the owner on a new address: slowed, not locked
    assert fresh.verdict == "throttled" and 0 < fresh.wait <= 30
    now[0] += fresh.wait + 0.1
    assert policy.check(*ADMIN, address="192.168.5.5")
    # A guessing attack spread over many addresses is held to about two tries a minute by the account's slow path.
    tried = [policy.attempt(ADMIN[0], f"spray{i}", address=f"10.9.{i // 250}.{i % 250}") for i in range(600)
             if not now.__setitem__(0, now[0] + 1)]
    checked = sum(1 for a in tried if a.verdict == "denied")
    assert checked <= 25, checked  # 600 tries in 10 minutes: at most ~20 passwords actually checked
    assert policy.check(*ADMIN, address="10.1.1.1")  # and the owner is still not slowed at all


def test_lockout_survives_a_restart_and_users_unlock_clears_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli("users", "add", ADMIN[0], "--role", "admin", "--password-stdin", data=data,
                   stdin=ADMIN[1] + "\n").returncode == 0
    settings = Settings(data_dir=data)
    policy = load_auth(settings)
    assert policy.check(*ADMIN, address="10.0.0.1")
    now = [time.time()]
    for throttle in (policy.guard.pair, policy.guard.account, policy.guard.address):
        throttle.clock = lambda: now[0]
    for i in range(10):  # ten failures, waiting out each delay: this account from this address is locked
        now[0] += 31
        assert policy.attempt(ADMIN[0], f"wrong{i}", address="10.0.0.66").verdict == "denied"
    state = settings.login_state_path
    assert stat.S_IMODE(state.stat().st_mode) == 0o600 and ADMIN[1] not in state.read_text(encoding="utf-8")
    restarted = load_auth(settings)  # a new server process reads the same state file
    for throttle in (restarted.guard.pair, restarted.guard.account, restarted.guard.address):
        throttle.clock = lambda: now[0]
    refused = restarted.attempt(*ADMIN, address="10.0.0.66")
    assert refused.verdict == "throttled" and refused.wait > 800
    unlocked = run_cli("users", "unlock", ADMIN[0], data=data)
    assert unlocked.returncode == 0 and "已解除" in unlocked.stdout, unlocked.stderr
    assert restarted.check(*ADMIN, address="10.0.0.66")  # the running server sees the unlock at once
    nothing = run_cli("users", "unlock", "nobody", data=data)
    assert nothing.returncode == 0 and "无需解锁" in nothing.stdout
    entries = [(e["action"], e["result"]) for e in audit.read(settings)]
    assert ("lockout", "locked") in entries and ("users-unlock", "ok") in entries


def test_every_login_and_refusal_is_audited(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    write_auth_entries(settings.default_auth_path, [
        {"username": ADMIN[0], "password": ADMIN[1], "role": "admin"},
        {"username": USER[0], "password": USER[1], "role": "user"}])
    policy = load_auth(settings)
    assert policy.check(*USER, address="10.0.0.5")
    assert not policy.check(USER[0], "wrong-one", address="10.0.0.5")
    for i in range(3):
        policy.check(USER[0], f"wrong{i}", address="10.0.0.5")
    assert policy.attempt(*USER, address="10.0.0.5").verdict == "throttled"
    kb = KnowledgeBase(_NoService(settings), policy)  # type: ignore[arg-type]
    for call in (lambda: kb.documents(USER[0]), lambda: kb.confirmation("rebuild", None, USER[0]),
                 lambda: kb.delete("x", USER[0]), lambda: kb.rebuild(USER[0])):
        with pytest.raises(PermissionDeniedError):
            call()
    refused_cli = run_cli("users", "remove", "nobody", data=data)
    assert refused_cli.returncode == 2
    entries = audit.read(settings)
    seen = [(e["action"], e["result"]) for e in entries]
    assert seen[:6] == [("login", "ok"), ("login", "denied"), ("login", "denied"), ("login", "denied"),
                        ("login", "throttled"), ("login", "throttled")]  # the 4th failure in a row must wait
    assert [a for a, r in seen if r == "denied" and a != "login"] == ["list", "confirm-rebuild", "delete", "rebuild"]
    assert ("users-remove", "error") in seen
    logins = [e for e in entries if e["action"] == "login"]
    assert all(e["address"] == "10.0.0.5" and e["user"] == USER[0] for e in logins)
    assert all(e["time"].endswith("+00:00") for e in entries)  # UTC
    throttled = next(e for e in logins if e["result"] == "throttled")
    assert re.fullmatch(r"尝试过于频繁，请\d+秒后再试", throttled["message"])
    text = settings.audit_path.read_text(encoding="utf-8")
    assert USER[1] not in text and "wrong-one" not in text  # passwords are never written


class _NoService:
    """Only ``settings`` and ``documents`` of an Assistant: the refusals come before any index work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def documents(self) -> list[object]:
        return []


def test_auth_file_changes_take_effect_without_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    admin = {"username": ADMIN[0], "password_hash": hash_password(ADMIN[1]), "role": "admin"}  # kept as is
    write_auth_entries(settings.default_auth_path, [admin])
    policy = load_auth(settings)
    tokens = {"t-admin": ADMIN[0]}
    policy.bind_sessions(tokens)
    carol = ("carol", "Carol#2024pw")
    assert not policy.check(*carol, address="10.0.0.3")
    write_auth_entries(settings.default_auth_path, [admin, {"username": carol[0], "password": carol[1], "role": "user"}])
    assert policy.check(*carol, address="10.0.0.3")  # added: logs in at once (was: 400 until a restart)
    tokens["t-carol"] = carol[0]
    write_auth_entries(settings.default_auth_path, [admin, {"username": carol[0], "password": "Carol#new2025", "role": "user"}])
    assert not policy.check(*carol, address="10.0.0.3") and policy.check(carol[0], "Carol#new2025", "10.0.0.3")
    assert "t-carol" not in tokens  # a password change ends the user's sessions
    tokens["t-carol2"] = carol[0]
    write_auth_entries(settings.default_auth_path, [admin])
    assert policy.role(carol[0]) is None and not policy.check(carol[0], "Carol#new2025", "10.0.0.3")
    assert tokens == {"t-admin": ADMIN[0]}  # removed: the session is gone, the admin's untouched
    settings.default_auth_path.write_text("{broken", encoding="utf-8")  # a bad edit: nobody gets in, no open door
    assert policy.enabled and not policy.check(*ADMIN, address="10.0.0.1") and policy.role(ADMIN[0]) is None
    actions = [(e["action"], e["result"]) for e in audit.read(settings)]
    assert ("users-reload", "error") in actions


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
        # X-Forwarded-For from a client that is not a trusted proxy is ignored: rotating it dodges nothing.
        codes = [client.post("/login", data={"username": ADMIN[0], "password": f"guess{i}"},
                             headers={"X-Forwarded-For": f"203.0.113.{i % 250}"}).status_code for i in range(150)]
        assert all(code >= 400 for code in codes) and 429 in codes
        assert time.monotonic() - started < 60
        # The right password right after the burst is told to wait, not that it is wrong.
        right = client.post("/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert right.status_code == 429
    assert re.fullmatch(r"尝试过于频繁，请\d+秒后再试", right.json()["detail"])
    assert int(right.headers["Retry-After"]) >= 1
    logins = [e for e in audit.read(hashed_app.settings) if e["action"] == "login" and e["user"] == ADMIN[0]]
    assert {e["address"] for e in logins} == {"127.0.0.1"}  # the forwarded addresses were not believed
    assert {e["result"] for e in logins} == {"denied", "throttled"}


@pytest.fixture(scope="module")
def file_app(model_path: Path) -> Iterator[AppServer]:
    """The app with a users.json in its data folder, behind a trusted proxy on loopback."""
    with temp_root() as root:
        indexed_root(root)
        write_auth_entries(root / "data" / "users.json", [
            {"username": ADMIN[0], "password": ADMIN[1], "role": "admin"},
            {"username": USER[0], "password": USER[1], "role": "user"}])
        srv = AppServer(root, trusted_proxies="127.0.0.1")
        try:
            yield srv
        finally:
            srv.close()


@pytest.mark.slow
def test_user_changes_reach_the_running_app(file_app: AppServer) -> None:
    data = file_app.settings.data_dir
    carol = ("carol", "Carol#2024pw")
    with httpx.Client(base_url=file_app.url, timeout=30) as client:
        assert client.post("/login", data={"username": carol[0], "password": carol[1]}).status_code == 400
    added = run_cli("users", "add", carol[0], "--role", "user", "--password-stdin", data=data, stdin=carol[1] + "\n")
    assert added.returncode == 0 and "下一次请求" in added.stdout, added.stderr
    with httpx.Client(base_url=file_app.url, timeout=30) as carol_client, \
            httpx.Client(base_url=file_app.url, timeout=30) as admin_client:
        assert carol_client.post("/login", data={"username": carol[0], "password": carol[1]}).status_code == 200
        assert admin_client.post("/login", data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200
        assert carol_client.get("/config").status_code == 200
        assert run_cli("users", "remove", carol[0], data=data).returncode == 0
        assert carol_client.get("/config").status_code == 401  # the removed user's session has ended
        assert carol_client.post("/gradio_api/call/ask", json={"data": ["什么是“六链五群”？"]}).status_code == 401
        assert admin_client.get("/config").status_code == 200  # others keep theirs
        assert carol_client.post("/login", data={"username": carol[0], "password": carol[1]}).status_code == 400
        changed = run_cli("users", "passwd", USER[0], "--password-stdin", data=data, stdin="Zhao#Changed2026\n")
        assert changed.returncode == 0
        assert admin_client.post("/login", data={"username": USER[0], "password": USER[1]}).status_code == 400
        assert admin_client.post("/login", data={"username": USER[0], "password": "Zhao#Changed2026"}).status_code == 200
    entries = audit.read(file_app.settings)
    ended = [e for e in entries if e["action"] == "session"]
    assert ended and ended[0]["user"] == carol[0] and ended[0]["result"] == "denied"
    assert any(e["action"] == "users-reload" and carol[0] in e.get("ended_sessions", []) for e in entries)


@pytest.mark.slow
def test_forwarded_address_is_believed_from_a_trusted_proxy_only(file_app: AppServer) -> None:
    with httpx.Client(base_url=file_app.url, timeout=30) as client:
        client.post("/login", data={"username": "nobody", "password": "x" * 10},
                    headers={"X-Forwarded-For": "198.51.100.7"})
    last = [e for e in audit.read(file_app.settings) if e["action"] == "login"][-1]
    assert last["user"] == "nobody" and last["address"] == "198.51.100.7"  # the proxy (loopback) is trusted here


@pytest.mark.slow
def test_password_checks_do_not_stall_other_requests(file_app: AppServer) -> None:
    """A burst of logins (argon2, tens of ms each) runs in worker threads: a plain GET answered
    meanwhile takes a fraction of a login, not the queue of them (was: p50 3 ms -> 396 ms)."""
    url = file_app.url

    def timed(fn: Callable[[], httpx.Response]) -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    with httpx.Client(base_url=url, timeout=60) as probe:
        assert probe.post("/login", data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200
        login_times: list[float] = []
        done = threading.Event()

        def burst() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                while not done.is_set():
                    login_times.append(timed(lambda: c.post("/login", data={"username": ADMIN[0],
                                                                             "password": ADMIN[1]})))

        workers = [threading.Thread(target=burst) for _ in range(6)]
        for w in workers:
            w.start()
        time.sleep(0.5)
        during = [timed(lambda: probe.get("/config")) for _ in range(15)]
        done.set()
        for w in workers:
            w.join()
    assert len(login_times) >= 6
    assert statistics.median(during) < statistics.median(login_times) / 2, (during, login_times)


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


def test_the_first_auth_file_turns_login_on_without_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    policy = load_auth(settings)  # no users.json yet: local single-user mode, the file is awaited
    switched: list[bool] = []
    policy.on_enable(lambda: switched.append(policy.enabled))
    assert not policy.enabled and policy.role(None) == "admin" and switched == []
    write_auth_entries(settings.default_auth_path, [{"username": ADMIN[0], "password": ADMIN[1], "role": "admin"}])
    assert policy.role(None) is None  # the next request already needs a login
    assert policy.enabled and switched == [False]  # the app switched once, before the users were read
    assert policy.check(*ADMIN, address="127.0.0.1") and policy.role(ADMIN[0]) == "admin"
    policy.refresh()
    assert switched == [False]  # once only
    actions = [(e["action"], e["result"]) for e in audit.read(settings)]
    assert actions[:2] == [("users-enable", "ok"), ("users-reload", "ok")]

    other = Settings(data_dir=tmp_path / "other", auth_file=tmp_path / "other" / "accounts.json")
    other.default_auth_path.parent.mkdir(parents=True)
    write_auth_entries(other.default_auth_path, [{"username": USER[0], "password": USER[1], "role": "user"}])
    with pytest.raises(AuthConfigError):  # an explicit ASSISTANT_AUTH_FILE must exist at start (as before)
        load_auth(other)


@pytest.mark.slow
def test_first_account_switches_the_running_page_to_login(model_path: Path) -> None:
    """`assistant serve` in local single-user mode, then `assistant users add` (the README's first
    run): the running app asks for a login from the next request on, and the new admin logs in."""
    login_page = re.compile(r'"auth_required"\s*:\s*true')
    with temp_root() as root:
        indexed_root(root)
        srv = AppServer(root)
        try:
            assert not srv.policy.enabled
            with httpx.Client(base_url=srv.url, timeout=30) as client:
                page = client.get("/")
                assert page.status_code == 200 and not login_page.search(page.text)  # open, no login
                assert client.get("/config").status_code == 200
            added = run_cli("users", "add", ADMIN[0], "--role", "admin", "--password-stdin",
                            data=srv.settings.data_dir, stdin=ADMIN[1] + "\n")
            assert added.returncode == 0 and "无需重启" in added.stdout, added.stderr
            with httpx.Client(base_url=srv.url, timeout=30) as client:
                page = client.get("/")  # a plain page load now gets the login form
                assert page.status_code == 200 and login_page.search(page.text)
                assert "请使用管理员分配的账号登录" in page.text
                assert client.get("/config").status_code == 401
                assert client.post("/gradio_api/call/ask", json={"data": ["什么是“六链五群”？"]}).status_code == 401
                assert client.post("/login", data={"username": ADMIN[0], "password": "wrong-password"}).status_code == 400
                assert client.post("/login", data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200
                assert client.get("/config").status_code == 200
                page = client.get("/")
                assert page.status_code == 200 and not login_page.search(page.text)
                assert client.post("/gradio_api/call/ask", json={"data": ["什么是“六链五群”？"]}).status_code == 200
            assert srv.policy.role(ADMIN[0]) == "admin" and srv.policy.role(None) is None
        finally:
            srv.close()
    # (the audit log of the switch is checked in test_the_first_auth_file_turns_login_on_without_a_restart)


@pytest.mark.slow
@pytest.mark.browser
def test_an_open_page_turns_into_the_chinese_login_after_the_first_account(model_path: Path) -> None:
    """In Chromium: the page open in local single-user mode shows the login form (in Chinese) on its
    next load once the first administrator exists, and that administrator logs in to the full page."""
    from playwright.sync_api import sync_playwright

    from .browser_utils import launch_browser

    with temp_root() as root, sync_playwright() as p:
        indexed_root(root)
        srv = AppServer(root)
        browser = launch_browser(p)
        try:
            page = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
            page.goto(srv.url)
            page.wait_for_selector("#user-badge-inner", timeout=60_000)
            assert "本机用户" in page.inner_text("#user-badge-inner")
            assert page.locator("input[type=password]").count() == 0
            added = run_cli("users", "add", ADMIN[0], "--role", "admin", "--password-stdin",
                            data=srv.settings.data_dir, stdin=ADMIN[1] + "\n")
            assert added.returncode == 0, added.stderr
            page.reload()  # the same tab, the same running server
            page.wait_for_selector("input[type=password]", timeout=60_000)
            body = page.inner_text("body")
            assert "登录" in body and "用户名" in body and "密码" in body and "请使用管理员分配的账号登录" in body
            assert page.locator("#user-badge-inner").count() == 0
            page.locator("input:not([type=password])").first.fill(ADMIN[0])
            page.locator("input[type=password]").fill(ADMIN[1])
            page.locator("button:has-text('登录')").last.click()
            page.wait_for_selector("#user-badge-inner", timeout=60_000)
            assert ADMIN[0] in page.inner_text("#user-badge-inner") and "退出登录" in page.inner_text("#user-badge-inner")
            assert page.locator("button[role=tab]:has-text('知识库管理')").count() == 1  # the admin's tab
        finally:
            browser.close()
            srv.close()
