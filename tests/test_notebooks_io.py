"""The one notebook reader/writer (mlqa/notebooks/io.py, encode.py) against nbformat."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_notebooks import make_notebook, serialise

from mlqa.diagnostics import InputError
from mlqa.notebooks import io, main
from mlqa.notebooks.encode import encode

_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
    ),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_encode_is_json_dumps_with_nbformats_settings(value: Any) -> None:
    expected = json.dumps(
        value, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")
    )
    assert encode(value) == expected


def test_encode_falls_back_to_json_for_other_types() -> None:
    for value in ({"a": (1, 2)}, {3: "x", 1: None}, [b"x".decode(), {"k": {1.5: 2}}]):
        assert encode(value) == json.dumps(
            value, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")
        )
    assert encode(math.inf) == "Infinity"


def test_read_notebook_matches_nbformat(tmp_path: Path) -> None:
    import nbformat

    path = tmp_path / "nb.ipynb"
    path.write_bytes(serialise(make_notebook(3), "indent2"))
    ours = io.read_notebook(path)
    theirs = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert ours == theirs
    assert ours.cells[1].source == "import numpy as np\nx = np.arange(4)\nx"
    assert copy.deepcopy(ours) == ours


def test_special_files_are_errors_not_hangs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe.ipynb"
    os.mkfifo(fifo)
    assert main([str(fifo)]) == 2
    assert f"{fifo}: not a regular file" in capsys.readouterr().err
    with pytest.raises(InputError, match="is a directory"):
        io.read_notebook(tmp_path)


@pytest.mark.parametrize("minor", range(6))
@pytest.mark.parametrize("layout", ["nbformat", "indent2", "compact", "crlf"])
def test_dumps_writes_nbformats_bytes(tmp_path: Path, minor: int, layout: str) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_bytes(serialise(make_notebook(minor), layout))
    theirs = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.write(theirs, tmp_path / "theirs.ipynb")
    ours = io.read_notebook(path)
    assert ours == theirs
    assert io.dumps(ours).encode("utf-8") == (tmp_path / "theirs.ipynb").read_bytes()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a notebook: the file is empty"),
        (b"\xef\xbb\xbf \n", "not a notebook: the file is empty"),
        (b'{"a": "\xff"}', "x.ipynb:1:8: not valid UTF-8 (byte 0xff)"),
        (b'{"a": 1}\x00', "x.ipynb:1:1: binary file (contains NUL bytes)"),
    ],
)
def test_decode_errors_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as info:
        io.decode(data, "x.ipynb")
    assert message in str(info.value)


def test_decode_drops_a_byte_order_mark() -> None:
    assert io.decode(b'\xef\xbb\xbf{"cells": []}', "x.ipynb") == '{"cells": []}'


def test_parse_json_names_what_it_parses() -> None:
    with pytest.raises(InputError, match=r"^x:1:2: invalid notebook JSON: Expecting"):
        io.parse_json("{", "x", "notebook JSON")
    with pytest.raises(InputError, match="nested too deeply"):
        io.parse_json("[" * 100_000 + "]" * 100_000, "x")
