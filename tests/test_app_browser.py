"""The web app in real headless Chromium (Debian's /usr/bin/chromium driven by Python Playwright).

One app with login (admin ``zhang``, user ``li``) on an indexed temp data dir is shared by the module.
The cited-answer test also saves ``docs/screenshot.png`` for the README.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser_utils import (
    ADMIN,
    MODEL_DIR,
    OUT_OF_CORPUS_QUESTION,
    REPO,
    SEED_QUESTION,
    UPLOAD_DOC,
    UPLOAD_DOC_NAME,
    UPLOAD_QUESTION,
    USER,
    XSS_QUESTION,
    AppServer,
    add_xss_document,
    launch_browser,
    login,
    running_app,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOT = REPO / "docs" / "screenshot.png"
ANSWER_TIMEOUT = 90_000  # ms
TURNS = ".turn-html .turn"  # finished turns (the live area of a streaming answer is excluded)


@pytest.fixture(scope="module")
def server(model_path: Path) -> Iterator[AppServer]:
    assert model_path == MODEL_DIR or (MODEL_DIR / "config.json").exists()
    assert Path("/usr/bin/chromium").exists(), "Debian chromium missing: make system-deps installs it"
    with running_app() as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        try:
            yield b
        finally:
            b.close()


def open_page(browser: Any, server: AppServer, user: tuple[str, str], **context_kw: Any) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, **context_kw)
    login(context, server.url, user)
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_selector("#user-badge-inner", timeout=60_000)
    return page


def ask(page: Any, question: str) -> Any:
    """Ask in the chat tab and return the locator of the new finished turn."""
    before = page.locator(TURNS).count()
    box = page.locator("#question textarea, #question input").first
    box.fill(question)
    page.click("#ask-btn")
    page.wait_for_function(f"document.querySelectorAll('{TURNS}').length > {before}", timeout=ANSWER_TIMEOUT)
    return page.locator(TURNS).nth(before)


def test_cited_answer_opens_highlighted_source(browser: Any, server: AppServer) -> None:
    page = open_page(browser, server, ADMIN)  # the admin sees both tabs: the fuller screenshot
    try:
        assert page.locator(".welcome").is_visible()
        turn = ask(page, SEED_QUESTION)
        assert turn.get_attribute("data-state") == "answered"
        marker = turn.locator("a.cite-marker").first
        assert marker.is_visible()
        title = marker.get_attribute("title") or ""
        assert "《协同发展看京津冀" in title  # hover shows the source
        body = turn.locator(".cite-body").first
        assert not body.is_visible()
        assert turn.locator(".sources .cite").count() >= 1  # the sources list under the answer

        marker.click()
        target = turn.locator(".cite:target")
        target.wait_for(state="visible")
        mark = target.locator("mark")
        assert mark.is_visible()
        quote = mark.inner_text().strip()
        assert quote and quote[:10] in title  # the hover title quotes the same span
        facts = target.locator(".cite-facts").inner_text()
        assert "报刊新闻报道" in facts and "2024" in facts and "章节" in facts  # issuer, date, section
        assert "《协同发展看京津冀" in target.locator(".cite-title").inner_text()

        page.mouse.move(0, 0)
        page.evaluate("window.scrollTo(0, 0)")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 20_000
    finally:
        page.context.close()


def test_out_of_corpus_question_is_refused(browser: Any, server: AppServer) -> None:
    page = open_page(browser, server, USER)
    try:
        turn = ask(page, OUT_OF_CORPUS_QUESTION)
        assert turn.get_attribute("data-state") == "refused"
        notice = turn.locator(".notice-refusal")
        assert notice.is_visible() and "未在已收录文件中找到依据" in notice.inner_text()
        assert turn.locator("a.cite-marker").count() == 0
        assert turn.locator(".suggestions li").count() >= 1  # suggested documents
    finally:
        page.context.close()


def test_admin_uploads_document_then_it_is_cited(browser: Any, server: AppServer, tmp_path: Path) -> None:
    doc = tmp_path / UPLOAD_DOC_NAME
    doc.write_text(UPLOAD_DOC, encoding="utf-8")
    page = open_page(browser, server, ADMIN)
    try:
        assert "管理员" in page.inner_text("#user-badge-inner")
        before = ask(page, UPLOAD_QUESTION)
        assert before.get_attribute("data-state") == "refused"  # not known yet

        page.get_by_role("tab", name="知识库管理").click()
        page.wait_for_selector("#kb-table")
        assert "协同发展看京津冀" in page.inner_text("#kb-table")
        page.locator("#kb-files input[type=file]").set_input_files(str(doc))
        page.wait_for_selector(f"#kb-files :text('{UPLOAD_DOC_NAME}')", timeout=30_000)
        page.click("#kb-upload")
        page.wait_for_selector("#kb-status .kb-status", timeout=ANSWER_TIMEOUT)
        status = page.inner_text("#kb-status")
        assert "已收录 1 个文件" in status and "新增 1" in status, status
        page.wait_for_function("document.querySelector('#kb-table').innerText.includes('渤雁联签')")
        assert (server.settings.uploads_dir / UPLOAD_DOC_NAME).is_file()

        page.get_by_role("tab", name="政策问答").click()
        turn = ask(page, UPLOAD_QUESTION)
        assert turn.get_attribute("data-state") == "answered"
        turn.locator("a.cite-marker").first.click()
        target = turn.locator(".cite:target")
        target.wait_for(state="visible")
        assert "渤雁联签" in target.locator(".cite-title").inner_text()
        assert "天津市商务局" in target.locator(".cite-facts").inner_text()
        assert target.locator("mark").is_visible()
    finally:
        page.context.close()


def test_non_admin_does_not_see_knowledge_base(browser: Any, server: AppServer) -> None:
    page = open_page(browser, server, USER)
    try:
        assert "普通用户" in page.inner_text("#user-badge-inner")
        page.wait_for_timeout(500)
        tab = page.get_by_role("tab", name="知识库管理")
        assert tab.count() == 0 or not tab.first.is_visible()
        assert not page.locator("#kb-upload").is_visible()
        table = page.locator("#kb-table")
        assert table.count() == 0 or "协同发展看京津冀" not in table.inner_text()
    finally:
        page.context.close()
    # and the admin handlers refuse even when called directly
    out = server.app.kb_delete("协同发展看京津冀", type("R", (), {"username": USER[0]})())
    assert "没有权限" in out[0]


def test_document_html_renders_as_text(browser: Any, server: AppServer, tmp_path: Path) -> None:
    add_xss_document(server, tmp_path)
    page = open_page(browser, server, USER)
    try:
        turn = ask(page, XSS_QUESTION)
        assert turn.get_attribute("data-state") == "answered"
        for marker in turn.locator("a.cite-marker").all():
            marker.click()
            turn.locator(".cite:target").wait_for(state="visible")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None
        text = turn.inner_text()
        assert "<script>window.__xss=1</script>" in text
        assert "<b>跨界河流水质</b>" in text and "<b>机制</b>" in text  # title and passage as literal text
        assert turn.locator("script").count() == 0 and turn.locator("b").count() == 0
        assert turn.locator("img").count() == 0
    finally:
        page.context.close()


def test_two_sessions_keep_separate_histories(browser: Any, server: AppServer) -> None:
    pages = [open_page(browser, server, ADMIN), open_page(browser, server, USER)]
    questions = [SEED_QUESTION, OUT_OF_CORPUS_QUESTION]
    try:
        for page, question in zip(pages, questions, strict=True):  # both in flight at once
            page.locator("#question textarea, #question input").first.fill(question)
        for page in pages:
            page.click("#ask-btn")
        for page in pages:
            page.wait_for_function(f"document.querySelectorAll('{TURNS}').length >= 1", timeout=ANSWER_TIMEOUT)
        texts = [page.locator(TURNS).all_inner_texts() for page in pages]
        assert len(texts[0]) == 1 and len(texts[1]) == 1
        assert questions[0] in texts[0][0] and questions[1] not in texts[0][0]
        assert questions[1] in texts[1][0] and questions[0] not in texts[1][0]
        ask(pages[1], SEED_QUESTION)  # the second session grows; the first does not change
        assert pages[0].locator(TURNS).count() == 1 and pages[1].locator(TURNS).count() == 2
    finally:
        for page in pages:
            page.context.close()


def test_feedback_export_and_clear(browser: Any, server: AppServer, tmp_path: Path) -> None:
    page = open_page(browser, server, USER, accept_downloads=True)
    try:
        ask(page, SEED_QUESTION)
        page.locator(".fb-comment textarea, .fb-comment input").first.fill("回答准确")
        page.locator("button.fb-up").first.click()
        page.wait_for_selector(".fb-status :text('已记录')", timeout=30_000)
        records = [json.loads(line) for line in server.settings.feedback_path.read_text(encoding="utf-8").splitlines()]
        mine = [r for r in records if r["comment"] == "回答准确"]
        assert mine and mine[-1]["rating"] == "up" and mine[-1]["username"] == USER[0]
        assert mine[-1]["question"] == SEED_QUESTION and mine[-1]["citations"]

        with page.expect_download(timeout=30_000) as info:
            page.click("#export-btn")
        saved = tmp_path / "export.md"
        shutil.copy(info.value.path(), saved)
        md = saved.read_text(encoding="utf-8")
        assert SEED_QUESTION in md and "参考来源" in md and "[1]" in md and "> 引文：" in md

        page.click("#clear-btn")
        page.wait_for_function(f"document.querySelectorAll('{TURNS}').length === 0", timeout=30_000)
        assert page.locator(".welcome").is_visible()
    finally:
        page.context.close()


def test_example_question_is_answered(browser: Any, server: AppServer) -> None:
    page = open_page(browser, server, USER)
    try:
        example = page.locator("#examples button").first
        example.wait_for(state="visible")
        example.click()
        page.wait_for_function(f"document.querySelectorAll('{TURNS}').length >= 1", timeout=ANSWER_TIMEOUT)
        assert page.locator(TURNS).first.get_attribute("data-state") in ("answered", "refused")
    finally:
        page.context.close()
