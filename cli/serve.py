"""``assistant serve``: the web page (see :mod:`assistant.app.server`)."""

from __future__ import annotations

import argparse

from assistant.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    # The one import deferred to its command: the web stack (gradio, about 3 s to import) is loaded by
    # the command that serves the page, not by every other command of the CLI (index, ask, users …).
    from assistant.app.server import main as serve_main

    return serve_main(args, settings)
