"""The first run, as a new user meets it, in real headless Chromium (Debian's /usr/bin/chromium).

A fresh data folder; ``assistant serve`` (what ``make run`` ends with, here without ``--no-index``) indexes the
shipped library, ``docs_corpus/``, and serves the page on loopback without a login. Questions about each region
(北京, 天津, 河北) and about a regulation are answered with citations from the right documents; the page's own
text is Chinese, 停止生成 is not offered for the extractive writer, a new question closes a source passage
opened under the previous answer, and the feedback line is not squeezed. Then the first administrator is created
with ``assistant users add``; after a restart the page asks for a login, in Chinese, and the knowledge-base tab
shows the upload progress beside its button and lists each document once. (That the running page picks up the
account file without a restart is tested with the accounts themselves.)

Screenshots for the README: ``docs/screenshot.png`` (a cited answer from the library, its source opened) and
``docs/screenshot-login.png``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import REPO_ROOT

from .browser_utils import free_port
from .conftest import LIBRARY_DOCUMENTS, wait_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOT = REPO_ROOT / "docs" / "screenshot.png"
LOGIN_SCREENSHOT = REPO_ROOT / "docs" / "screenshot-login.png"
ANSWER_TIMEOUT = 120_000  # ms
INDEX_TIMEOUT = 3600.0  # s: the whole library on a busy 2-core machine
TURNS = ".turn-html .turn"
ADMIN = ("管理员", "first-admin-2026")
# (question, the document its citations must come from): one per region (dev set rows) and one on a regulation
QUESTIONS = [
    ("按2025年北京市政府工作报告，北京2025年要基本建成副中心的哪座交通枢纽？", "2025年北京市政府工作报告"),
    ("2025年天津市政府工作报告提出要新建几个环京蔬菜生产基地？", "2025年天津市政府工作报告"),
    ("2026年河北省政府工作报告要求当年完成多少营造林？", "2026年河北省政府工作报告"),
    ("京津冀社会保障卡持卡人可以乘坐哪些公共交通工具？", "北京市推进京津冀社会保障卡一卡通规定(2024-09-27)"),
]
ENGLISH = ("Drop File Here", "Click to Upload", "Use via API", "Built with Gradio", "Login", "username",
           "password", "Incorrect Credentials")


class Serve:
    """``python -m assistant serve`` of this checkout in a subprocess, against one data folder."""

    def __init__(self, env: dict[str, str], log: Path, no_index: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = log
        with open(log, "ab") as fh:
            self.proc = subprocess.Popen([*cmd, *(["--no-index"] if no_index else [])], cwd=REPO_ROOT, env=env,
                                         stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT)

    def wait(self, timeout: float) -> None:
        try:
            wait_port(self.port, timeout)
        except TimeoutError:
            self.stop()
            raise AssertionError(f"the app did not serve; log:\n{self.log.read_text('utf-8')[-3000:]}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[tuple[Serve, dict[str, str]]]:
    assert Path("/usr/bin/chromium").exists(), "Debian chromium missing: make system-deps installs it"
    root = tmp_path_factory.mktemp("first-run")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_MODEL_DIR"}
    env.update({"ASSISTANT_DATA_DIR": str(root / "data"), "ASSISTANT_EMBEDDING_MODEL": str(model_path),
                "ASSISTANT_LLM_BASE_URL": "http://127.0.0.1:9/v1", "PYTHONPATH": str(REPO_ROOT),
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
    serve = Serve(env, root / "serve.log")
    try:
        serve.wait(INDEX_TIMEOUT)
        yield serve, env
    finally:
        serve.stop()


def new_page(browser: Any, url: str) -> Any:
    # an English browser: the page must be Chinese whatever the official's browser language
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    return page


def english_left(page: Any) -> list[str]:
    text = page.inner_text("body")
    return [word for word in ENGLISH if re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text)]


def ask(page: Any, question: str) -> Any:
    before = page.locator(TURNS).count()
    page.locator("#question textarea, #question input").first.fill(question)
    page.click("#ask-btn")
    page.wait_for_function(f"document.querySelectorAll('{TURNS}').length > {before}", timeout=ANSWER_TIMEOUT)
    return page.locator(TURNS).nth(before)


def test_first_run_answers_from_the_shipped_library(browser: Any, first_run: tuple[Serve, dict[str, str]]) -> None:
    serve, _env = first_run
    log = serve.log.read_text(encoding="utf-8")
    assert f"索引就绪：共 {LIBRARY_DOCUMENTS} 个文件" in log and f"新增 {LIBRARY_DOCUMENTS}" in log, log[-2000:]
    page = new_page(browser, serve.url)
    try:
        page.wait_for_selector("#user-badge-inner", timeout=60_000)
        assert page.locator(".welcome").is_visible()
        assert page.title() == "京津冀协同发展政策助手"
        assert not page.locator("#stop-btn").is_visible()  # the extractive writer does not stream
        assert page.locator("footer").count() == 0 or not page.locator("footer").is_visible()
        turns = []
        for question, doc in QUESTIONS:
            turn = ask(page, question)
            assert turn.get_attribute("data-state") == "answered", (question, turn.inner_text()[:300])
            assert turn.locator("a.cite-marker").count() >= 1, question
            docs = {c.get_attribute("data-doc") for c in turn.locator(".sources .cite").all()}
            assert doc in docs, (question, docs)
            turns.append(turn)

        # open a source under the last answer, then ask again: the opened passage closes
        last = turns[-1]
        last.locator("a.cite-marker").first.click()
        last.locator(".cite:target").wait_for(state="visible")
        page.mouse.move(0, 0)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 20_000
        ask(page, QUESTIONS[0][0])
        assert page.locator(".cite:target").count() == 0

        # feedback: the outcome reads as one line the width of the answer, not a column of characters
        page.locator(".fb-up").first.click()
        text = page.locator(".fb-status :text('已记录')").first
        text.wait_for(timeout=30_000)
        line, area = text.bounding_box(), page.locator(".fb-status").first.bounding_box()
        row = page.locator(".feedback-row").first.bounding_box()
        assert line is not None and area is not None and row is not None
        assert line["height"] < 30 and area["width"] > 0.6 * row["width"]  # one line, in a full-width area
        assert english_left(page) == []
    finally:
        page.context.close()


def test_first_administrator_gets_a_chinese_login_and_the_library(browser: Any,
                                                                  first_run: tuple[Serve, dict[str, str]]) -> None:
    serve, env = first_run
    added = subprocess.run([sys.executable, "-m", "assistant", "users", "add", ADMIN[0], "--role", "admin",
                            "--password-stdin"], input=ADMIN[1] + "\n", cwd=REPO_ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    serve.stop()
    again = Serve(env, serve.log, no_index=True)
    try:
        again.wait(300)
        page = new_page(browser, again.url)
        try:
            page.wait_for_selector("input[type=password]", timeout=60_000)
            body = page.inner_text("body")
            assert "京津冀协同发展政策助手" in body and "登录" in body and "用户名" in body and "密码" in body
            assert page.title() == "京津冀协同发展政策助手"
            assert english_left(page) == [], english_left(page)
            page.locator("input[type=text], input:not([type])").first.fill(ADMIN[0])
            page.locator("input[type=password]").fill("wrong-password-1")
            page.locator("button:has-text('登录')").last.click()
            page.wait_for_selector(":text('用户名或密码错误')", timeout=30_000)
            LOGIN_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(LOGIN_SCREENSHOT))
            assert english_left(page) == []

            page.locator("input[type=text], input:not([type])").first.fill(ADMIN[0])  # a failed login clears it
            page.locator("input[type=password]").fill(ADMIN[1])
            page.locator("button:has-text('登录')").last.click()
            page.wait_for_selector("#user-badge-inner", timeout=60_000)
            assert ADMIN[0] in page.inner_text("#user-badge-inner")
            page.click("button[role=tab]:has-text('知识库管理')")
            page.wait_for_selector("#kb-stats .kb-status", timeout=60_000)
            assert str(LIBRARY_DOCUMENTS) in page.inner_text("#kb-stats")
            # the upload box is Chinese, and its progress shows beside the button, without scrolling
            assert "拖放" in page.inner_text("#kb-files") or "点击上传" in page.inner_text("#kb-files")
            button, progress = (page.locator(s).bounding_box() for s in ("#kb-upload", "#kb-upload-progress"))
            assert button is not None and progress is not None
            assert progress["x"] >= button["x"] + button["width"] - 1  # beside it, to the right
            assert abs((progress["y"] + progress["height"] / 2) - (button["y"] + button["height"] / 2)) < 40
            assert button["y"] + button["height"] <= 900 and progress["y"] + progress["height"] <= 900
            # each document once in the delete list: a title that is its file name is not repeated
            page.locator("#kb-delete-choice input").click()
            options = page.locator("ul[role=listbox] li").all_inner_texts()
            regulation = "北京市城乡规划条例(2021-09-24)"
            assert regulation in [o.strip() for o in options], options[:5]
            assert not any(f"{regulation}（{regulation}）" in o for o in options)
            assert english_left(page) == []
        finally:
            page.context.close()
    finally:
        again.stop()
