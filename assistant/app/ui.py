"""The Gradio Blocks of the web app. The UI only calls the ``Assistant`` service.

Layout: a chat tab (conversation rendered as escaped HTML with clickable citations, per-answer
feedback, filters, example questions, export, clear) and an admin-only knowledge-base tab
(shown per request role by ``demo.load``; every admin handler re-checks the role).
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from index.zh import CANONICAL_REGIONS

from ..errors import AssistantError
from ..markup import strip_markup
from ..models import Answer, Facets, Filters
from ..service import Assistant
from ..settings import Settings
from .api import api_ask
from .auth import ROLE_NAMES, AuthPolicy
from .export import index_version, write_answer_docx, write_export
from .feedback import Rating, record_feedback
from .kb import TABLE_HEADERS, KnowledgeBase, Result
from .render import WELCOME, esc, render_error, render_pending, render_turn
from .session import Turn, chat_history, find_turn, make_turn, new_turn_id, turn_answer
from .style import CSS

log = logging.getLogger(__name__)

TITLE = "京津冀协同发展政策助手"
GENERIC_ERROR = "系统暂时出错，请稍后重试。如果问题持续，请联系管理员。"
REGIONS = list(CANONICAL_REGIONS)
UPLOAD_TYPES = [".txt", ".md", ".docx", ".pdf", ".html", ".htm"]
WRITER_CHOICES = [("摘录式（逐句引用原文）", "extractive"), ("大模型生成（本地模型）", "llm")]
STREAM_INTERVAL = 0.08  # seconds between streamed UI updates
# Knowledge-base table: share of the width per column (文件ID, 标题, 发文机关, 地区, 日期/年份, 类型, 段落数, 字数,
# 来源, 收录时间), so that every column, 来源 and 收录时间 included, is visible at 1,400 px.
TABLE_WIDTHS = ["11%", "19%", "10%", "6%", "8%", "7%", "6%", "6%", "15%", "12%"]
CONFIRM_LABELS = {"delete": "确认删除", "rebuild": "确认重建", "replace": "确认替换"}
CLOSE_CITATION_JS = """() => {
  const open = document.querySelector(':target');
  if (open && open.id && open.id.startsWith('cite-')) location.replace('#ask-row');
}"""


class FileProgress:
    """An index run's progress on the page, file by file: which file, how many of how many, passages embedded.

    ``per_file`` asks the indexer to embed each file as soon as it is read (an upload is a handful of files:
    progress per file matters more than batching across them)."""

    per_file = True

    def __init__(self, progress: gr.Progress) -> None:
        self.progress = progress
        self.name = ""
        self.embedded = 0
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int, name: str) -> None:
        self.done, self.total, self.name = done, total, name or self.name
        self._show()

    def chunks(self, embedded: int) -> None:
        self.embedded = embedded
        self._show()

    def _show(self) -> None:
        if not self.total:
            return
        if self.done >= self.total:
            desc = f"正在写入索引（已嵌入 {self.embedded} 段）"
        else:
            desc = f"正在索引《{self.name}》：第 {self.done + 1}/{self.total} 个文件，已嵌入 {self.embedded} 段"
        self.progress((self.done, self.total), desc=desc, unit="个文件")


def user_message(exc: BaseException) -> str:
    """The short Chinese message for any error; unexpected ones are logged with their traceback."""
    if isinstance(exc, AssistantError):
        return exc.user_message
    log.error("unexpected error in the web app", exc_info=exc)
    return GENERIC_ERROR


def username_of(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) if request is not None else None


def llm_available(base_url: str, timeout: float = 0.8) -> bool:
    """Whether the OpenAI-compatible LLM endpoint answers (only then the writer choice is shown)."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300
    except Exception:
        return False


class _LLMProbe:
    """Cache the reachability check for a few seconds (it runs on every page load)."""

    def __init__(self, base_url: str, ttl: float = 30.0) -> None:
        self.base_url, self.ttl = base_url, ttl
        self._value: bool | None = None
        self._at = 0.0

    def __call__(self) -> bool:
        if self._value is None or time.monotonic() - self._at > self.ttl:
            self._value, self._at = llm_available(self.base_url), time.monotonic()
        return self._value


def make_filters(region: list[str] | None, years: list[Any] | None, kinds: list[str] | None,
                 docs: list[str] | None) -> Filters:
    """The chat tab's filter widgets → ``Filters.parse`` (regions outside the checkbox choices are dropped)."""
    return Filters.parse([r for r in region or [] if r in REGIONS], years, kinds, docs)


def document_label(title: str, doc_id: str) -> str:
    """A document in a list: its title, and its id in brackets only when the id says something else."""
    return title if title == doc_id else f"{title}（{doc_id}）"


def stop_visible(writer: str | None) -> bool:
    """停止生成 is offered only for the writer that streams a draft (the llm); the extractive answer comes at once."""
    return writer == "llm"


def status_html(message: str, ok: bool = True, warning: bool = False) -> str:
    """An admin action's outcome: green when done, amber when partly done (``warning``), red when failed."""
    kind = "warn" if warning else "info-ok" if ok else "error"
    lines = "".join(f"<p>{esc(line)}</p>" for line in message.splitlines() if line.strip())
    return f'<div class="notice notice-{kind} kb-status" data-level="{kind}">{lines}</div>'


def result_html(result: Result) -> str:
    return status_html(result.message, result.ok, getattr(result, "warning", False))


class ChatApp:
    """Handlers of the web app, bound to one ``Assistant`` and one auth policy."""

    def __init__(self, assistant: Assistant, policy: AuthPolicy) -> None:
        self.assistant = assistant
        self.policy = policy
        self.settings = assistant.settings
        self.kb = KnowledgeBase(assistant, policy)
        self.llm_probe = _LLMProbe(self.settings.llm_base_url)
        self._answer_files: dict[tuple[str, str], str] = {}  # (user, turn id) -> the answer's .docx

    def index_version(self) -> str:
        try:
            return index_version(self.assistant.documents())
        except Exception as exc:
            user_message(exc)
            return ""

    # -- choices derived from the index ----------------------------------------------------
    def filter_choices(self) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """(years, kinds, documents) from ``Assistant.facets``; empty when the index cannot be read."""
        try:
            facets = self.assistant.facets()
        except Exception as exc:
            user_message(exc)
            facets = Facets()
        return facets.years, facets.kinds, facets.documents

    def examples(self) -> list[list[str]]:
        try:
            return [[q] for q in self.assistant.example_questions(6)]
        except Exception as exc:
            user_message(exc)
            return []

    # -- chat --------------------------------------------------------------------------
    def respond(self, question: str, turns: list[Turn], region: list[str], years: list[str], kinds: list[str],
                docs: list[str], writer: str | None, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """Stream one answer. Outputs: (live html, turns state, question box, Markdown export, Word export).

        Markup is stripped from the question first (``<b>雄安新区</b>有哪些举措？`` is asked as the words)."""
        text = strip_markup(question or "")
        turns = list(turns or [])
        if not text:
            yield render_error("", "请输入问题。"), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        yield render_pending(text, ""), gr.skip(), "", gr.skip(), gr.skip()
        turn_id = new_turn_id()
        answer: Answer | None = None
        chosen = writer if writer in ("extractive", "llm") else None
        try:
            filters = make_filters(region, years, kinds, docs)
            parts: list[str] = []
            last = 0.0
            started, first = time.monotonic(), None
            events = self.assistant.stream(text, history=chat_history(turns), filters=filters, writer=chosen)
            try:  # 停止生成 closes this generator: closing the stream stops the LLM server's generation
                for event in events:
                    if event.type == "delta":
                        parts.append(event.text)
                        now = time.monotonic()
                        first = now - started if first is None else first
                        if now - last >= STREAM_INTERVAL:
                            last = now
                            progress = f"首字 {first:.1f} 秒 · 已用 {now - started:.1f} 秒"
                            yield (render_pending(text, "".join(parts), progress), gr.skip(), gr.skip(), gr.skip(),
                                   gr.skip())
                    elif event.type == "reset":
                        parts.clear()  # the llm writer fell back: its partial draft is not the answer
                    elif event.answer is not None:
                        answer = event.answer
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
            if answer is None:
                raise RuntimeError("the service ended without a final answer")
        except Exception as exc:
            yield render_error(text, user_message(exc)), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        new_turns = [*turns, make_turn(turn_id, text, answer, filters, chosen, self.index_version())]
        username = username_of(request)
        yield (render_turn(turn_id, text, answer), new_turns, gr.skip(), self.export_update(new_turns, username, "md"),
               self.export_update(new_turns, username, "docx"))

    def export_update(self, turns: list[Turn], username: str | None, fmt: str = "md") -> Any:
        try:
            path = write_export(turns, username, fmt, self.index_version())
        except Exception as exc:
            user_message(exc)
            path = None
        return gr.update(value=str(path) if path else None, interactive=path is not None)

    def answer_docx(self, turn: Turn, username: str | None) -> str | None:
        """The Word file of one answer (written once per user and answer, then reused)."""
        key = (username or "", turn["id"])
        path = self._answer_files.get(key)
        if path is None or not Path(path).is_file():
            try:
                path = str(write_answer_docx(turn, username))
            except Exception as exc:
                user_message(exc)
                return None
            if len(self._answer_files) > 5000:
                self._answer_files.clear()
            self._answer_files[key] = path
        return path

    def clear(self) -> tuple[list[Turn], str, Any, Any]:
        off = gr.update(value=None, interactive=False)
        return [], "", off, off

    def feedback_handler(self, turn_id: str, rating: Rating) -> Callable[..., str]:
        def handler(comment: str, turns: list[Turn], request: gr.Request) -> str:
            turn = find_turn(turns or [], turn_id)
            if turn is None:
                return '<span class="feedback-status">该回答已不在当前对话中。</span>'
            label = "有帮助" if rating == "up" else "没帮助"
            try:
                record = record_feedback(self.settings, turn, rating, comment or "", username_of(request))
            except Exception as exc:
                return f'<span class="feedback-status">{esc(user_message(exc))}</span>'
            if record is None:
                return f'<span class="feedback-status" data-duplicate="1">✓ 已记录过该反馈（{label}），无需重复提交。</span>'
            changed = "（已更新）" if record.get("revision") else ""
            return f'<span class="feedback-status">✓ 已记录反馈（{label}）{changed}，谢谢！</span>'

        return handler

    # -- API ---------------------------------------------------------------------------
    def api_ask(self, question: str, region: str = "", year: str = "", kind: str = "", doc_id: str = "",
                writer: str = "") -> dict[str, Any]:
        """Ask a question; returns the Answer as a JSON object (text, citations, refused, suggestions, …).

        Filters are comma-separated strings, e.g. region="北京,天津", year="2024".
        """
        try:
            return api_ask(self.assistant, question, region, year, kind, doc_id, writer)
        except Exception as exc:
            raise gr.Error(user_message(exc)) from None

    # -- page load ---------------------------------------------------------------------
    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        username = username_of(request)
        role = self.policy.role(username)
        is_admin = role == "admin"
        name = self.policy.display_name(username)
        badge = f"当前用户：{esc(name)}（{esc(ROLE_NAMES.get(role or '', '无权限'))}）"
        if self.policy.enabled:
            badge += ' <a href="/logout">退出登录</a>'
        years, kinds, docs = self.filter_choices()
        llm = self.llm_probe()
        writer = self.settings.writer if llm else "extractive"
        writer_update = gr.update(visible=llm, value=writer)
        kb_updates: tuple[Any, ...]
        if is_admin:
            kb_updates = (gr.update(visible=True), *self.kb_view(username))
        else:
            kb_updates = (gr.update(visible=False), gr.skip(), gr.skip(), gr.skip())
        return (
            f'<div id="user-badge-inner">{badge}</div>',
            writer_update,
            gr.update(choices=years),
            gr.update(choices=kinds),
            gr.update(choices=docs),
            gr.update(samples=self.examples()),
            *kb_updates,
            gr.update(visible=stop_visible(writer)),
        )

    # -- knowledge base (admin) --------------------------------------------------------
    def kb_view(self, username: str | None) -> tuple[Any, Any, Any]:
        """(stats html, table, delete dropdown) for an admin."""
        docs = self.kb.documents(username)
        return (
            status_html(self.kb.stats(username)),
            gr.update(value=self.kb.table(username), headers=TABLE_HEADERS, column_widths=TABLE_WIDTHS),
            gr.update(choices=[(document_label(d.title, d.doc_id), d.doc_id) for d in docs], value=None),
        )

    def _kb_outputs(self, result: Result, username: str | None) -> tuple[Any, ...]:
        """(action status, stats, table, delete dropdown, doc filter choices, year choices, kind choices)."""
        try:
            view = self.kb_view(username)
        except Exception as exc:
            return (status_html(user_message(exc), ok=False), gr.skip(), gr.skip(), gr.skip(),
                    gr.skip(), gr.skip(), gr.skip())
        years, kinds, docs = self.filter_choices()
        return (result_html(result), *view, gr.update(choices=docs),
                gr.update(choices=years), gr.update(choices=kinds))

    def _kb_error(self, exc: BaseException) -> tuple[Any, ...]:
        return (status_html(user_message(exc), ok=False), gr.skip(), gr.skip(), gr.skip(),
                gr.skip(), gr.skip(), gr.skip())

    @staticmethod
    def _progress_cb(progress: gr.Progress) -> FileProgress:
        return FileProgress(progress)

    def kb_refresh(self, request: gr.Request) -> tuple[Any, ...]:
        username = username_of(request)
        try:
            return self._kb_outputs(Result("列表已刷新。"), username)
        except Exception as exc:
            return self._kb_error(exc)

    def kb_upload(self, files: list[str] | None, request: gr.Request,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Outputs: the knowledge-base outputs, the file box, then the dialog (pending, dialog, text, button):
        files named like earlier uploads are not replaced before the admin confirms (like delete)."""
        username = username_of(request)
        closed = (gr.skip(),) * 4
        try:
            self.kb.require_admin(username, "upload")
            items = [(Path(f), Path(f).name) for f in (files or [])]
            progress(0, desc="正在保存上传的文件")
            result = self.kb.upload(items, username, progress=self._progress_cb(progress))
            if result.needs_confirmation:
                names = [name for _, name in result.would_replace]
                pending = {"action": "replace", "files": [(str(p), n) for p, n in result.would_replace]}
                text = (f'<div class="confirm-title">替换文件</div>'
                        f'<p class="confirm-question">{esc(self.kb.replace_question(names))}</p>')
                return (*self._kb_outputs(result, username), None, pending, gr.update(visible=True), text,
                        gr.update(value=CONFIRM_LABELS["replace"]), "")
            return (*self._kb_outputs(result, username), None, *closed, "")
        except Exception as exc:
            return (*self._kb_error(exc), gr.skip(), *closed, "")

    def kb_replace(self, pending: dict[str, Any], request: gr.Request,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        username = username_of(request)
        try:
            items = [(Path(p), str(n)) for p, n in pending.get("files") or []]
            progress(0, desc="正在替换同名文件")
            return self._kb_outputs(self.kb.upload(items, username, progress=self._progress_cb(progress),
                                                   replace=True), username)
        except Exception as exc:
            return self._kb_error(exc)

    # -- confirmation of delete and rebuild: one dialog, one pending action per session ----
    def kb_ask_confirm(self, action: str) -> Callable[..., tuple[Any, ...]]:
        """Handler of the delete/rebuild buttons: show the dialog asking to confirm ``action``.

        Outputs: (action status, pending action state, dialog, dialog text, confirm button)."""

        def handler(request: gr.Request, doc_id: str | None = None) -> tuple[Any, ...]:
            username = username_of(request)
            try:
                question = self.kb.confirmation(action, doc_id, username)
            except Exception as exc:
                return status_html(user_message(exc), ok=False), None, gr.update(visible=False), gr.skip(), gr.skip()
            if not question.ok:
                return result_html(question), None, gr.update(visible=False), gr.skip(), gr.skip()
            pending = {"action": action, "doc_id": doc_id if action == "delete" else None}
            text = (f'<div class="confirm-title">{"删除文件" if action == "delete" else "重建索引"}</div>'
                    f'<p class="confirm-question">{esc(question.message)}</p>')
            return "", pending, gr.update(visible=True), text, gr.update(value=CONFIRM_LABELS[action])

        return handler

    def kb_cancel(self, pending: dict[str, Any] | None = None) -> tuple[Any, ...]:
        """(action status, pending, dialog)."""
        replacing = (pending or {}).get("action") == "replace"
        message = "已取消，同名文件未替换（其余文件已按上方结果处理）。" if replacing else "已取消，知识库未作改动。"
        return status_html(message), None, gr.update(visible=False)

    def kb_confirmed(self, pending: dict[str, Any] | None, request: gr.Request,
                     progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Run the confirmed action. Outputs: the knowledge-base outputs, then (pending, dialog)."""
        hide = (None, gr.update(visible=False))
        action = (pending or {}).get("action")
        if action == "delete":
            return (*self.kb_delete(pending.get("doc_id") if pending else None, request), *hide)
        if action == "rebuild":
            return (*self.kb_rebuild(request, progress), *hide)
        if action == "replace" and pending:
            return (*self.kb_replace(pending, request, progress), *hide)
        return (status_html("没有待确认的操作。", ok=False), *(gr.skip(),) * 6, *hide)

    def kb_delete(self, doc_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        username = username_of(request)
        try:
            return self._kb_outputs(self.kb.delete(doc_id, username), username)
        except Exception as exc:
            return self._kb_error(exc)

    def kb_rebuild(self, request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        username = username_of(request)
        try:
            self.kb.require_admin(username, "rebuild")
            progress(0, desc="正在重建索引")
            return self._kb_outputs(self.kb.rebuild(username, progress=self._progress_cb(progress)), username)
        except Exception as exc:
            return self._kb_error(exc)


def make_theme() -> gr.themes.Base:
    cjk = ["PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "sans-serif"]
    return gr.themes.Soft(primary_hue="blue", secondary_hue="slate", neutral_hue="slate", font=cjk,
                          font_mono=["WenQuanYi Micro Hei Mono", "monospace"])


def _conversation(app: ChatApp, turns: gr.State) -> gr.HTML:
    """The rendered turns (with per-answer feedback) plus the live area of the answer being streamed."""

    @gr.render(inputs=turns)
    def show_conversation(turn_list: list[Turn], request: gr.Request) -> None:
        username = username_of(request)
        if not turn_list:
            gr.HTML(WELCOME, js_on_load=None, elem_classes="welcome-box")
        for t in turn_list:
            tid = t["id"]
            gr.HTML(render_turn(tid, t["question"], turn_answer(t)), js_on_load=None, key=f"turn-{tid}",
                    elem_classes="turn-html")
            with gr.Row(elem_classes="feedback-row", key=f"fbrow-{tid}"):
                up = gr.Button("有帮助", size="sm", scale=0, min_width=90, elem_classes="fb-up", key=f"up-{tid}")
                down = gr.Button("没帮助", size="sm", scale=0, min_width=90, elem_classes="fb-down",
                                 key=f"down-{tid}")
                comment = gr.Textbox(placeholder="可选：先填写意见，再点“有帮助”或“没帮助”", show_label=False,
                                     container=False, scale=5, max_length=2000, elem_classes="fb-comment",
                                     key=f"comment-{tid}")
                docx_path = app.answer_docx(t, username)
                gr.DownloadButton("导出本条（Word）", value=docx_path, size="sm", scale=0, min_width=130,
                                  interactive=docx_path is not None, elem_classes="fb-export", key=f"docx-{tid}")
            # on a line of its own, the full width: in the row it was squeezed to a few characters a line
            status = gr.HTML("", js_on_load=None, elem_classes="fb-status", key=f"fbstatus-{tid}")
            up.click(app.feedback_handler(tid, "up"), [comment, turns], status, api_visibility="private",
                     queue=False)
            down.click(app.feedback_handler(tid, "down"), [comment, turns], status, api_visibility="private",
                       queue=False)

    return gr.HTML("", elem_id="live", js_on_load=None)


def _chat_tab(app: ChatApp, turns: gr.State) -> dict[str, Any]:
    settings = app.settings
    years, kinds, docs = app.filter_choices()
    c: dict[str, Any] = {}
    with gr.Row():
        with gr.Column(scale=7, min_width=420):
            with gr.Column(elem_id="conversation-box"):
                c["live"] = _conversation(app, turns)
            with gr.Row(elem_id="ask-row", equal_height=True):
                c["question"] = gr.Textbox(placeholder="请输入问题，例如：什么是“六链五群”？（回车发送）",
                                           show_label=False, lines=1, max_lines=4, scale=8, autofocus=True,
                                           max_length=settings.max_question_chars, elem_id="question")
                c["ask"] = gr.Button("提问", variant="primary", scale=1, min_width=80, elem_id="ask-btn")
                c["stop"] = gr.Button("停止生成", size="sm", scale=1, min_width=80, elem_id="stop-btn",
                                      visible=False)
            with gr.Row():
                c["clear"] = gr.Button("清空对话", size="sm", elem_id="clear-btn")
                c["export_docx"] = gr.DownloadButton("导出对话（Word）", size="sm", interactive=False,
                                                     elem_id="export-docx-btn")
                c["export"] = gr.DownloadButton("导出对话（Markdown）", size="sm", interactive=False,
                                                elem_id="export-btn")
        with gr.Column(scale=3, min_width=260):
            c["examples"] = gr.Dataset(components=[c["question"]], samples=app.examples(), label="示例问题",
                                       samples_per_page=6, elem_id="examples")
            with gr.Accordion("检索范围（可选）", open=False, elem_id="filters"):
                c["region"] = gr.CheckboxGroup(REGIONS, label="地区", elem_id="filter-region")
                c["year"] = gr.Dropdown(years, multiselect=True, label="年份", elem_id="filter-year")
                c["kind"] = gr.Dropdown(kinds, multiselect=True, label="文件类型", elem_id="filter-kind")
                c["doc"] = gr.Dropdown(docs, multiselect=True, label="指定文件", elem_id="filter-doc")
            c["writer"] = gr.Radio(WRITER_CHOICES, value="extractive", label="回答方式", visible=False,
                                   elem_id="writer")
            gr.HTML('<div class="side-note">回答只依据已收录文件；点击 [1] 等编号可查看原文段落与高亮引文。'
                    "回答下方可点“有帮助/没帮助”反馈意见。</div>", js_on_load=None)
    return c


def _kb_tab(settings: Settings) -> dict[str, Any]:
    c: dict[str, Any] = {}
    c["stats"] = gr.HTML("", elem_id="kb-stats", js_on_load=None)
    # The actions come first and the (long) table after them: an upload's progress, shown beside its
    # button, and every action's outcome are visible without scrolling.
    with gr.Row():
        with gr.Column():
            gr.Markdown(f"**上传文件**：支持 txt、md、docx、pdf、html，单个不超过 {settings.max_upload_mb} MB；"
                        "上传后立即增量索引。")
            c["files"] = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="选择文件",
                                 elem_id="kb-files", height=140)
            with gr.Row(equal_height=True, elem_id="kb-upload-row"):
                c["upload"] = gr.Button("上传并索引", variant="primary", scale=1, min_width=120, elem_id="kb-upload")
                c["progress"] = gr.HTML("", elem_id="kb-upload-progress", js_on_load=None, scale=3,
                                        min_height=40)
        with gr.Column():
            gr.Markdown("**删除文件**：从知识库中移除所选文件（上传的文件同时删除原文件）。")
            c["delete_choice"] = gr.Dropdown([], label="选择文件", elem_id="kb-delete-choice")
            c["delete"] = gr.Button("删除所选文件", variant="stop", elem_id="kb-delete")
            with gr.Accordion("高级操作", open=False):
                gr.Markdown("按文档目录与上传目录从头重建全部索引（文件多时需要几分钟）。")
                c["rebuild"] = gr.Button("重建索引", elem_id="kb-rebuild")
    c["status"] = gr.HTML("", elem_id="kb-status", js_on_load=None)
    c["table"] = gr.Dataframe(headers=TABLE_HEADERS, value=[], interactive=False, wrap=True, elem_id="kb-table",
                              label="已收录的文件", max_height=520)
    c["refresh"] = gr.Button("刷新列表", size="sm", elem_id="kb-refresh")
    # One confirmation dialog for delete and rebuild: the buttons above only open it; the action
    # runs when 确认 is clicked (the pending action lives in this session's state, never the browser).
    c["pending"] = gr.State(None)
    with gr.Group(visible=False, elem_id="kb-confirm", elem_classes="confirm-dialog") as c["confirm"]:
        c["confirm_text"] = gr.HTML("", elem_id="kb-confirm-text", js_on_load=None)
        with gr.Row(elem_classes="confirm-buttons"):
            c["confirm_cancel"] = gr.Button("取消", size="sm", elem_id="kb-confirm-cancel")
            c["confirm_ok"] = gr.Button("确认", variant="stop", size="sm", elem_id="kb-confirm-ok")
    return c


def build_app(assistant: Assistant, policy: AuthPolicy | None = None) -> gr.Blocks:
    """The Blocks of the app (not launched). ``policy`` defaults to local single-user mode."""
    app = ChatApp(assistant, policy or AuthPolicy())
    private: dict[str, Any] = {"api_visibility": "private"}

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        turns = gr.State([])
        with gr.Row(elem_id="app-header", equal_height=True):
            gr.HTML(f'<h1>{TITLE}</h1><div class="subtitle">依据已收录的政策文件回答问题，'
                    "每句话都可追溯到原文出处</div>", js_on_load=None, scale=4)
            badge = gr.HTML("", elem_id="user-badge", js_on_load=None, scale=2)
        with gr.Tabs(elem_id="main-tabs"):
            with gr.Tab("政策问答", id="chat", elem_id="chat-tab"):
                chat = _chat_tab(app, turns)
            with gr.Tab("知识库管理", id="kb", visible=False, elem_id="kb-tab") as kb_tab:
                kb = _kb_tab(app.settings)

        # -- chat wiring -------------------------------------------------------------------
        inputs = [chat["question"], turns, *(chat[k] for k in ("region", "year", "kind", "doc", "writer"))]
        outputs = [chat["live"], turns, chat["question"], chat["export"], chat["export_docx"]]
        asking = [
            chat["ask"].click(app.respond, inputs, outputs, trigger_mode="once", show_progress="hidden", **private),
            chat["question"].submit(app.respond, inputs, outputs, trigger_mode="once", show_progress="hidden", **private),
        ]
        turns.change(lambda: "", None, chat["live"], queue=False, show_progress="hidden", **private)
        asking.append(chat["examples"].click(lambda sample: sample[0] if sample else "", chat["examples"],
                                             chat["question"], queue=False, **private)
                      .then(app.respond, inputs, outputs, show_progress="hidden", **private))
        chat["stop"].click(lambda: render_error("", "已停止生成。"), None, chat["live"], cancels=asking, queue=False,
                           **private)
        chat["writer"].change(lambda w: gr.update(visible=stop_visible(w)), chat["writer"], chat["stop"],
                              queue=False, show_progress="hidden", **private)
        # A new question closes the source passage opened under an earlier answer (it is opened by the
        # URL's #cite-… fragment): the fragment moves to the question row, where the user already is.
        for trigger in (chat["ask"].click, chat["question"].submit, chat["examples"].click):
            trigger(None, None, None, js=CLOSE_CITATION_JS, queue=False, show_progress="hidden", **private)
        chat["clear"].click(app.clear, None, [turns, chat["live"], chat["export"], chat["export_docx"]], **private)

        # -- knowledge-base wiring (admin handlers re-check the role) ----------------------
        kb_outputs = [kb["status"], kb["stats"], kb["table"], kb["delete_choice"], chat["doc"], chat["year"],
                      chat["kind"]]
        serial: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "kb", **private}
        # progress is drawn once, on the status line (not over every output)
        once: dict[str, Any] = {"show_progress_on": [kb["status"]]}
        kb["refresh"].click(app.kb_refresh, None, kb_outputs, **private, **once)
        # the upload's progress, file by file, beside its button; a same-name upload opens the dialog
        kb["upload"].click(app.kb_upload, kb["files"], [*kb_outputs, kb["files"], kb["pending"], kb["confirm"],
                                                         kb["confirm_text"], kb["confirm_ok"], kb["progress"]],
                           **serial, show_progress_on=[kb["progress"]])
        dialog = [kb["status"], kb["pending"], kb["confirm"], kb["confirm_text"], kb["confirm_ok"]]
        kb["delete"].click(app.kb_ask_confirm("delete"), kb["delete_choice"], dialog, show_progress="hidden",
                           **private)
        kb["rebuild"].click(app.kb_ask_confirm("rebuild"), None, dialog, show_progress="hidden",
                            **private)
        kb["confirm_cancel"].click(app.kb_cancel, kb["pending"], [kb["status"], kb["pending"], kb["confirm"]],
                                   show_progress="hidden", **private)
        kb["confirm_ok"].click(lambda: gr.update(visible=False), None, kb["confirm"], queue=False,
                               show_progress="hidden", **private).then(
            app.kb_confirmed, kb["pending"], [*kb_outputs, kb["pending"], kb["confirm"]], **serial, **once)

        demo.load(app.on_load, None,
                  [badge, chat["writer"], chat["year"], chat["kind"], chat["doc"], chat["examples"], kb_tab,
                   kb["stats"], kb["table"], kb["delete_choice"], chat["stop"]],
                  show_progress="hidden", **private)
        gr.api(app.api_ask, api_name="ask")
    demo.chat_app = app  # type: ignore[attr-defined]  # handy for tests and embedding
    return demo


def launch_kwargs() -> dict[str, Any]:
    """Styling arguments for ``Blocks.launch`` (Gradio 6 takes css/theme at launch time)."""
    return {"css": CSS, "theme": make_theme()}
