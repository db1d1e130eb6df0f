"""The web app without a browser: rendering, uploads, auth, the serve command, handlers and the /ask API.

One real app (auth enabled, admin ``zhang`` + user ``li``) on an indexed temp data dir is shared by
the module; see ``browser_utils``. Browser tests are in ``test_app_browser.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from assistant.app.auth import (
    AuthConfigError,
    AuthPolicy,
    check_bind,
    hash_password,
    is_loopback,
    load_auth,
    parse_users_string,
)
from assistant.app.export import conversation_markdown, write_export
from assistant.app.render import highlighted_passage, link_markers, render_turn
from assistant.app.ui import GENERIC_ERROR
from assistant.app.uploads import UploadError, safe_filename, store_upload
from assistant.errors import AssistantError, PermissionDeniedError, UnsupportedFileError
from assistant.models import Answer, Citation, Suggestion
from assistant.settings import Settings

from .browser_utils import (
    ADMIN,
    MODEL_DIR,
    OUT_OF_CORPUS_QUESTION,
    REPO,
    SEED_QUESTION,
    USER,
    XSS_QUESTION,
    AppServer,
    free_port,
    running_app,
)

pytestmark = pytest.mark.slow

SEED_DOC_ID = "协同发展看京津冀"


def req(username: str | None) -> Any:
    """A stand-in for ``gr.Request`` carrying only the logged-in user's name."""
    return SimpleNamespace(username=username)


@pytest.fixture(scope="module")
def server(model_path: Path) -> Iterator[AppServer]:
    assert model_path == MODEL_DIR or (MODEL_DIR / "config.json").exists()
    with running_app() as srv:
        yield srv


def final_output(gen: Iterator[tuple[Any, ...]]) -> tuple[Any, ...]:
    last: tuple[Any, ...] = ()
    for out in gen:
        last = out
    return last


def citation(text: str, quote: str, start: int = 100, **kw: Any) -> Citation:
    q0 = text.find(quote)
    base: dict[str, Any] = {
        "n": 1, "doc_id": "d", "title": "标题", "source": "/secret/path/文件.txt", "section": "一、总则", "page": None,
        "text": text, "quote": quote, "start": start, "end": start + len(text), "score": 1.0,
        "quote_start": start + q0, "quote_end": start + q0 + len(quote), "metadata": {"issuer": "某机关", "year": 2024},
    }
    base.update(kw)
    return Citation(**base)


# -- rendering ---------------------------------------------------------------------------------
def test_render_escapes_document_html_and_highlights_quote() -> None:
    text = "前文<script>alert(1)</script>。引用的<b>句子</b>在这里。后文"
    c = citation(text, "引用的<b>句子</b>在这里。", title="<img src=x onerror=alert(1)>")
    html = render_turn("t1", "<i>问题</i>", Answer(question="q", text="回答<b>x</b>[1]。", citations=[c]))
    assert "<script" not in html and "<b>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>引用的&lt;b&gt;句子&lt;/b&gt;在这里。</mark>" in html
    assert 'href="#cite-t1-1"' in html and 'id="cite-t1-1"' in html
    assert "/secret/path" not in html and "文件.txt" in html  # file name only, never server paths
    assert "某机关" in html and "2024年" in html and "一、总则" in html


@pytest.mark.parametrize(("seconds", "shown"), [(0.042, "用时 42 毫秒"), (0.9994, "用时 999 毫秒"), (0.9996, "用时 1.0 秒"),
                                              (1.26, "用时 1.3 秒"), (56.0, "用时 56.0 秒")])
def test_footer_shows_time_in_a_readable_unit(seconds: float, shown: str) -> None:
    answer = Answer(question="q", text="回答。", citations=[], timings={"total": seconds})
    html = render_turn("t1", "问题", answer)
    assert shown in html and "用时 0.0 秒" not in html


def test_marker_links_only_known_citations() -> None:
    c = citation("甲乙丙", "乙")
    out = link_markers("一句话[1]。另一句[7]。", "t9", {1: c})
    assert out.count("cite-marker") == 1 and "[7]" in out and 'href="#cite-t9-1"' in out


def test_quote_found_by_search_when_offsets_disagree() -> None:
    c = citation("第一句。第二句。", "第二句。", quote_start=0, quote_end=3)
    assert highlighted_passage(c) == "第一句。<mark>第二句。</mark>"


def test_refusal_render_shows_notice_and_suggestions() -> None:
    answer = Answer(question="q", text="未在已收录文件中找到依据。已收录的文件中没有……", refused=True,
                    suggestions=[Suggestion("d", "某<文件>", "x.txt", 0.1, "一、总则")], notice="请尽量用中文提问。")
    html = render_turn("t2", "q", answer)
    assert "notice-refusal" in html and "未在已收录文件中找到依据" in html
    assert "《某&lt;文件&gt;》" in html and "请尽量用中文提问。" in html and 'data-state="not_found"' in html


# -- uploads -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("京津冀协同发展规划纲要.txt", "京津冀协同发展规划纲要.txt"),
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\Users\\x\\通知（2024）.PDF", "通知（2024）.pdf"),
        ("报告<script>?*.docx", "报告_script.docx"),
        ("a b.html", "a b.html"),
    ],
)
def test_safe_filename_accepts(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["..", "..txt", "a..b.txt", ".hidden.txt", "x\x00.txt", "a\nb.txt", "？？.txt", ""])
def test_safe_filename_rejects_unsafe(name: str) -> None:
    with pytest.raises(UploadError):
        safe_filename(name)


@pytest.mark.parametrize("name", ["run.exe", "data.json", "x.txt.meta.json", "noext"])
def test_safe_filename_rejects_unsupported(name: str) -> None:
    with pytest.raises(UnsupportedFileError):
        safe_filename(name)


def test_store_upload_stays_inside_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", max_upload_mb=1)
    src = tmp_path / "upload.tmp"
    src.write_text("内容", encoding="utf-8")
    dest = store_upload(src, "../../../outside/通知.txt", settings)
    assert dest == (settings.uploads_dir / "通知.txt").resolve() and dest.read_text(encoding="utf-8") == "内容"
    assert not (tmp_path / "outside").exists()

    link = tmp_path / "link.txt"
    link.symlink_to(src)
    with pytest.raises(UploadError):
        store_upload(link, "link.txt", settings)  # a symlinked upload is refused

    big = tmp_path / "big.tmp"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(AssistantError) as info:
        store_upload(big, "big.txt", settings)
    assert "MB" in info.value.user_message

    (settings.uploads_dir / "evil.txt").symlink_to(tmp_path / "target.txt")
    with pytest.raises(UploadError):
        store_upload(src, "evil.txt", settings)  # never write through a symlink
    assert not (tmp_path / "target.txt").exists()


def test_uploads_dir_symlinked_outside_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    (tmp_path / "elsewhere").mkdir()
    settings.uploads_dir.symlink_to(tmp_path / "elsewhere")
    src = tmp_path / "a.tmp"
    src.write_text("x", encoding="utf-8")
    with pytest.raises(UploadError):
        store_upload(src, "a.txt", settings)
    assert not list((tmp_path / "elsewhere").iterdir())


# -- auth --------------------------------------------------------------------------------------
def test_users_string_and_roles() -> None:
    users = {u.username: u for u in parse_users_string("alice:p:w:admin, bob:secret:user,carol:pw")}
    assert users["alice"].password == "p:w" and users["alice"].role == "admin"
    assert users["bob"].role == "user" and users["carol"].role == "user"
    assert "secret" not in repr(users["bob"])
    policy = AuthPolicy(users)
    assert policy.check("bob", "secret") and not policy.check("bob", "wrong") and not policy.check("eve", "secret")
    assert policy.role("alice") == "admin" and policy.role("bob") == "user" and policy.role("eve") is None
    assert policy.role(None) is None
    with pytest.raises(PermissionDeniedError):
        policy.require_admin("bob")
    local = AuthPolicy()
    assert not local.enabled and local.role(None) == "admin"  # local single-user mode


def test_auth_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": [{"username": "wang", "password": "x1", "role": "admin"}]}), encoding="utf-8")
    path.chmod(0o600)  # an auth file others may read is refused (test_accounts.py)
    policy = load_auth(Settings(auth_file=path, users="zhao:y2:user"))
    assert policy.role("wang") == "admin" and policy.role("zhao") == "user" and policy.check("wang", "x1")
    path.write_text(json.dumps({"users": [{"username": "wang", "password": "x1", "role": "root"}]}), encoding="utf-8")
    with pytest.raises(AuthConfigError) as info:
        load_auth(Settings(auth_file=path))
    assert "admin 或 user" in info.value.user_message and "x1" not in info.value.user_message
    with pytest.raises(AuthConfigError):
        load_auth(Settings(auth_file=tmp_path / "missing.json"))


def test_bind_check() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    check_bind("127.0.0.1", AuthPolicy())
    check_bind("0.0.0.0", AuthPolicy(parse_users_string_dict(f"a:{hash_password('b')}:admin")))
    with pytest.raises(AssistantError) as info:
        check_bind("0.0.0.0", AuthPolicy())
    assert "拒绝启动" in info.value.user_message


def hashed_users_spec() -> str:
    """The test users with argon2 hashes (plaintext passwords are refused off loopback)."""
    return f"{ADMIN[0]}:{hash_password(ADMIN[1])}:admin,{USER[0]}:{hash_password(USER[1])}:user"


def parse_users_string_dict(spec: str) -> dict[str, Any]:
    return {u.username: u for u in parse_users_string(spec)}


# -- the serve command ---------------------------------------------------------------------------
def serve_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"HF_HUB_OFFLINE": "1", "ASSISTANT_DATA_DIR": str(tmp / "data"), "ASSISTANT_CORPUS_DIR": str(tmp),
                "ASSISTANT_EMBEDDING_MODEL": str(MODEL_DIR), "PYTHONUNBUFFERED": "1", **extra})
    return env


def test_serve_refuses_public_bind_without_auth(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "assistant", "serve", "--host", "0.0.0.0"], cwd=REPO,
                          env=serve_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "拒绝启动" in proc.stderr and "ASSISTANT_USERS" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "data").exists()  # nothing indexed, no model loaded


def test_serve_rejects_bad_auth_config(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "assistant", "serve", "--host", "0.0.0.0"], cwd=REPO,
                          env=serve_env(tmp_path, ASSISTANT_USERS="alice:pw:superuser"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "角色" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_public_bind_with_auth_starts(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--no-index"], cwd=REPO, env=serve_env(tmp_path, ASSISTANT_USERS=hashed_users_spec()),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        seen = ""
        assert proc.stdout is not None
        while time.monotonic() < deadline and "已启动" not in seen:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            seen += line
        assert "已启动" in seen, seen
        assert "拒绝启动" not in seen
        resp = httpx.get(f"http://127.0.0.1:{port}/config", timeout=10)
        assert resp.status_code in (401, 403)  # the app is up and requires a login
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.post("/login", data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200
            assert client.get("/config").status_code == 200
            assert client.post("/login", data={"username": ADMIN[0], "password": "wrong"}).status_code >= 400
        assert ADMIN[1] not in seen  # passwords are never printed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- the /ask API -------------------------------------------------------------------------------
def test_api_ask_returns_answer_json(server: AppServer) -> None:
    from gradio_client import Client

    client = Client(server.url, auth=USER, verbose=False)
    result = client.predict(SEED_QUESTION, api_name="/ask")
    assert isinstance(result, dict)
    assert {"text", "citations", "refused", "suggestions", "notice"} <= set(result)
    assert result["refused"] is False and result["citations"] and "六链" in result["text"]
    first = result["citations"][0]
    assert first["doc_id"] == SEED_DOC_ID and first["quote"] in first["text"] and "[1]" in result["text"]
    # a document id and a file name, never a path on the server
    assert first["source"] == "协同发展看京津冀.txt"
    assert str(server.settings.data_dir.parent) not in json.dumps(result, ensure_ascii=False)

    refused = client.predict(OUT_OF_CORPUS_QUESTION, api_name="/ask")
    assert refused["refused"] is True and refused["citations"] == []

    scoped = client.predict(SEED_QUESTION, "北京", api_name="/ask")  # the seed article is about 河北
    assert scoped["refused"] is True


def test_api_errors_are_chinese(server: AppServer) -> None:
    from gradio_client import Client

    client = Client(server.url, auth=USER, verbose=False)
    with pytest.raises(Exception) as info:
        client.predict("   ", api_name="/ask")
    assert "请输入问题" in str(info.value)


def test_api_requires_login(server: AppServer) -> None:
    assert httpx.get(f"{server.url}/config", timeout=10).status_code in (401, 403)
    resp = httpx.post(f"{server.url}/gradio_api/call/ask", json={"data": [SEED_QUESTION]}, timeout=10)
    assert resp.status_code in (401, 403)


# -- admin handlers refuse non-admins -----------------------------------------------------------
def _queue_call(url: str, user: tuple[str, str], elem_id: str, data: list[Any]) -> tuple[bool, list[Any]]:
    """Trigger a UI event the way the browser does (queue join + SSE), as ``user``."""
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/login", data={"username": user[0], "password": user[1]}).status_code == 200
        config = client.get("/config").json()
        ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
        dep = next(d for d in config["dependencies"] if any(ids.get(t[0]) == elem_id for t in d["targets"]))
        trigger = next(t[0] for t in dep["targets"] if ids.get(t[0]) == elem_id)
        session = uuid.uuid4().hex[:10]
        joined = client.post("/gradio_api/queue/join", json={"data": data, "fn_index": dep["id"], "trigger_id": trigger,
                                                             "session_hash": session, "event_data": None})
        assert joined.status_code == 200, joined.text
        with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return bool(msg.get("success")), list((msg.get("output") or {}).get("data") or [])
    raise AssertionError("no result")


def test_non_admin_is_refused_by_admin_handlers(server: AppServer) -> None:
    app = server.app
    out = app.kb_delete(SEED_DOC_ID, req(USER[0]))
    assert "没有权限" in out[0]
    out = app.kb_rebuild(req(USER[0]))
    assert "没有权限" in out[0]
    out = app.kb_upload([str(REPO / "docs_corpus" / "协同发展看京津冀.txt")], req(USER[0]))
    assert "没有权限" in out[0]
    with pytest.raises(PermissionDeniedError):
        app.kb.documents(USER[0])
    with pytest.raises(PermissionDeniedError):
        app.kb.delete(SEED_DOC_ID, None)  # auth is on: an anonymous request is no admin
    # the same through HTTP, the way a non-admin's browser would have to do it
    for elem_id in ("kb-refresh", "kb-rebuild"):
        ok, data = _queue_call(server.url, USER, elem_id, [])
        assert ok and "没有权限" in str(data[0]) and SEED_DOC_ID not in json.dumps(data, ensure_ascii=False)
    ok, data = _queue_call(server.url, USER, "kb-delete", [SEED_DOC_ID])
    assert not ok or "没有权限" in str(data[0])  # refused by input validation or by the role check
    ok, data = _queue_call(server.url, ADMIN, "kb-refresh", [])
    assert ok and SEED_DOC_ID in json.dumps(data, ensure_ascii=False)  # while the admin may
    assert SEED_DOC_ID in {d.doc_id for d in server.assistant.documents()}
    # the page-load handler hides the tab for the user and shows it for the admin
    assert app.on_load(req(USER[0]))[6]["visible"] is False
    assert app.on_load(req(ADMIN[0]))[6]["visible"] is True


def test_admin_upload_rejects_bad_files(server: AppServer, tmp_path: Path) -> None:
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    result = server.app.kb.upload([(bad, "x.exe")], ADMIN[0])
    assert not result.ok and "不支持" in result.message
    clash = tmp_path / "协同发展看京津冀.txt"
    clash.write_text("同名文件", encoding="utf-8")
    result = server.app.kb.upload([(clash, clash.name)], ADMIN[0])
    assert not result.ok and "同名" in result.message  # never shadows a corpus document
    assert not (server.settings.uploads_dir / "x.exe").exists()


def test_admin_upload_delete_roundtrip(server: AppServer, tmp_path: Path) -> None:
    doc = tmp_path / "临时测试文件.md"
    doc.write_text("# 临时测试\n\n京津冀三地试行“青砖互认”办法，互认历史建筑修缮资质，由河北省住建厅牵头。\n",
                   encoding="utf-8")
    result = server.app.kb.upload([(doc, doc.name)], ADMIN[0])
    assert result.ok and result.changed, result.message
    stored = server.settings.uploads_dir / doc.name
    assert stored.is_file()
    assert not server.assistant.ask("“青砖互认”办法由谁牵头？").refused
    result = server.app.kb.delete("临时测试文件", ADMIN[0])
    assert result.ok and "已从知识库删除" in result.message
    assert not stored.exists() and "临时测试文件" not in {d.doc_id for d in server.assistant.documents()}


# -- chat handlers -----------------------------------------------------------------------------
def test_respond_streams_and_records_turn(server: AppServer) -> None:
    outputs = list(server.app.respond(SEED_QUESTION, [], [], [], [], [], None, req(USER[0])))
    assert len(outputs) >= 2 and 'data-state="pending"' in outputs[0][0] and outputs[0][2] == ""
    html, turns, _, export, export_docx = outputs[-1]
    assert 'data-state="answered"' in html and "cite-marker" in html
    assert len(turns) == 1 and turns[0]["question"] == SEED_QUESTION and turns[0]["answer"]["citations"]
    assert export["interactive"] is True and Path(export["value"]).read_text(encoding="utf-8").count("[1]") >= 2
    assert export_docx["interactive"] is True and Path(export_docx["value"]).suffix == ".docx"
    assert turns[0].get("index_version")  # the index that answered, for the exports

    follow = final_output(server.app.respond(XSS_QUESTION, turns, [], [], [], [], "extractive", req(USER[0])))
    assert len(follow[1]) == 2 and follow[1][0]["id"] != follow[1][1]["id"]


def test_respond_filters_and_errors(server: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app = server.app
    out = final_output(app.respond(SEED_QUESTION, [], ["北京"], [], [], [], None, req(USER[0])))
    assert 'data-state="not_found"' in out[0] and out[1][0]["filters"] == {"region": ["北京"]}
    out = final_output(app.respond("   ", [], [], [], [], [], None, req(USER[0])))
    assert "请输入问题" in out[0]
    out = final_output(app.respond("长" * 600, [], [], [], [], [], None, req(USER[0])))
    assert "问题过长" in out[0] and "Traceback" not in out[0]

    def boom(*args: Any, **kwargs: Any) -> Iterator[Any]:
        raise RuntimeError("secret internal detail /etc/x")
        yield  # pragma: no cover

    monkeypatch.setattr(server.assistant, "stream", boom)
    out = final_output(app.respond(SEED_QUESTION, [], [], [], [], [], None, req(USER[0])))
    assert GENERIC_ERROR in out[0] and "secret internal detail" not in out[0]


def test_feedback_is_appended_as_json_lines(server: AppServer) -> None:
    turns = final_output(server.app.respond(SEED_QUESTION, [], [], [], [], [], None, req(USER[0])))[1]
    path = server.settings.feedback_path
    before = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
    status = server.app.feedback_handler(turns[0]["id"], "down")("引文不够完整", turns, req(USER[0]))
    assert "已记录" in status
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == before + 1
    record = json.loads(lines[-1])
    assert record["rating"] == "down" and record["comment"] == "引文不够完整" and record["username"] == USER[0]
    assert record["question"] == SEED_QUESTION and record["answer"] and record["citations"][0]["quote"]
    assert record["settings"]["writer"] == "extractive" and "time" in record and "top_k" in record["settings"]
    assert USER[1] not in path.read_text(encoding="utf-8")


def test_export_markdown(server: AppServer) -> None:
    turns = final_output(server.app.respond(SEED_QUESTION, [], [], [], [], [], None, req(USER[0])))[1]
    refused = final_output(server.app.respond(OUT_OF_CORPUS_QUESTION, turns, [], [], [], [], None, req(USER[0])))[1]
    md = conversation_markdown(refused, USER[0])
    assert md.startswith("# 京津冀协同发展政策助手") and f"## 问题 1：{SEED_QUESTION}" in md
    assert "**参考来源：**" in md and "[1] 《协同发展看京津冀" in md and "> 引文：“" in md
    assert f"## 问题 2：{OUT_OF_CORPUS_QUESTION}" in md and "未在已收录文件中找到依据" in md
    assert ("可能相关的文件" in md) == bool(refused[1]["answer"]["suggestions"])  # the list only when not empty
    path = write_export(refused, USER[0])
    assert path is not None and path.suffix == ".md" and path.read_text(encoding="utf-8") == md
    assert write_export([], None) is None


def test_local_mode_treats_local_user_as_admin(server: AppServer) -> None:
    from assistant.app.ui import ChatApp

    local = ChatApp(server.assistant, AuthPolicy())
    out = local.on_load(req(None))
    assert out[6]["visible"] is True and "本机用户" in out[0] and "管理员" in out[0]
    assert "退出登录" not in out[0]
    assert "协同发展看京津冀" in json.dumps(local.kb_refresh(req(None))[2], ensure_ascii=False, default=str)


def test_writer_choice_only_when_llm_reachable(server: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import http.server
    import threading

    from assistant.app.ui import _LLMProbe

    assert server.app.on_load(req(USER[0]))[1]["visible"] is False  # nothing listens at llm_base_url

    class Models(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"object": "list", "data": [{"id": "qwen"}]}'
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    stub = http.server.HTTPServer(("127.0.0.1", 0), Models)
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(server.app, "llm_probe", _LLMProbe(f"http://127.0.0.1:{stub.server_port}/v1"))
        writer = server.app.on_load(req(USER[0]))[1]
        assert writer["visible"] is True and writer["value"] == server.settings.writer
    finally:
        stub.shutdown()
        stub.server_close()


def test_admin_rebuild_keeps_corpus_and_uploads(server: AppServer, tmp_path: Path) -> None:
    doc = tmp_path / "重建测试文件.txt"
    doc.write_text("一、说明\n\n京津冀三地推行“榆钱共保”机制，统一古树名木保护标准，由北京市园林绿化局牵头。\n",
                   encoding="utf-8")
    assert server.app.kb.upload([(doc, doc.name)], ADMIN[0]).ok
    result = server.app.kb.rebuild(ADMIN[0])
    assert result.ok and "索引已重建" in result.message
    ids = {d.doc_id for d in server.assistant.documents()}
    assert {SEED_DOC_ID, "重建测试文件"} <= ids
    answer = server.assistant.ask("“榆钱共保”机制由谁牵头？")
    assert not answer.refused and answer.citations[0].doc_id == "重建测试文件"
    assert server.app.kb.delete("重建测试文件", ADMIN[0]).ok


def test_markup_is_stripped_before_asking(server: AppServer) -> None:
    tagged = "<b>什么是</b>“六链五群”？"
    out = final_output(server.app.respond(tagged, [], [], [], [], [], None, req(USER[0])))
    assert 'data-state="answered"' in out[0] and out[1][0]["question"] == SEED_QUESTION
    assert "&lt;b&gt;" not in out[0]
    assert server.app.api_ask(tagged)["refused"] is False
