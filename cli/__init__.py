"""The ``assistant`` command line: the surface above the library (``assistant``, ``index``) and the
programs it launches (``eval``, ``bench``, the local LLM server).

``main.py`` builds the parser and dispatches; one module per job: ``knowledge_base.py`` (index, docs),
``ask.py`` (ask, with ``terminal.py`` for aligned rows), ``accounts.py`` (users), ``serve.py`` (the web
page) and ``delegated.py`` (eval, bench, llm-serve, which parse their own arguments). ``assistant``,
``python -m assistant`` and ``python -m cli`` all run :func:`cli.main.main`.
"""
