"""The indexing progress bar of ``assistant index``: documents done of all, chunks embedded, time left."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from tqdm import tqdm


class IndexProgress:
    """The indexing progress bar: documents done of all, chunks embedded, and tqdm's time left."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.embedded = 0
        self.name = ""
        if not bar.disable:  # the elapsed time keeps moving while a batch is embedded
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self) -> None:
        while not self.bar.disable:  # tqdm's close() sets disable
            time.sleep(1.0)
            if not self.bar.disable:
                self.bar.refresh()

    def __call__(self, done: int, total: int, name: str) -> None:
        self.bar.total = total
        self.bar.n = done
        self.name = name
        self._postfix()

    def chunks(self, embedded: int) -> None:
        self.embedded = embedded
        self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"已嵌入 {self.embedded} 段 {self.name[:24]}".rstrip())
        self.bar.refresh()


def progress_bar(disable: bool) -> tuple[Any, IndexProgress]:
    """A tqdm bar on stderr (``disable``: drawn nowhere) and the callback that moves it."""
    bar = tqdm(total=0, unit="个文件", desc="索引", disable=disable, file=sys.stderr,
               bar_format="{desc} {n_fmt}/{total_fmt} {unit} |{bar}| 已用 {elapsed}，预计剩余 {remaining} {postfix}")
    return bar, IndexProgress(bar)
