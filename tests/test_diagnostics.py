"""Tests for mlqa.diagnostics: every output format, read_text's errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlqa import diagnostics
from mlqa.diagnostics import Finding, InputError

FINDINGS = [
    Finding("src/train.py", 3, 5, "MLQ101", "hardcoded learning rate 0.001"),
    Finding("a,b:c.py", 1, 1, "E501", "100% wrong\nsecond line"),
]


def test_text() -> None:
    out = diagnostics.render(FINDINGS, "text")
    assert (
        out.splitlines()[0] == "src/train.py:3:5: MLQ101 hardcoded learning rate 0.001"
    )


def test_json_keys_and_values() -> None:
    data = json.loads(diagnostics.render(FINDINGS, "json"))
    assert [sorted(item) for item in data] == [
        ["code", "column", "fixable", "line", "message", "path"]
    ] * 2
    assert data[0] == {
        "path": "src/train.py",
        "line": 3,
        "column": 5,
        "code": "MLQ101",
        "message": "hardcoded learning rate 0.001",
        "fixable": False,
    }


def test_github_escapes_properties_and_data() -> None:
    lines = diagnostics.render(FINDINGS, "github").splitlines()
    assert lines[0] == (
        "::error file=src/train.py,line=3,col=5,title=MLQ101::"
        "MLQ101 hardcoded learning rate 0.001"
    )
    assert lines[1].startswith("::error file=a%2Cb%3Ac.py,line=1,col=1,title=E501::")
    assert lines[1].endswith("100%25 wrong%0Asecond line")


def test_sarif_is_2_1_0_with_rule_index() -> None:
    doc = json.loads(diagnostics.render(FINDINGS, "sarif", {"MLQ101": "hardcoded lr"}))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert {r["id"]: r["shortDescription"]["text"] for r in rules}[
        "MLQ101"
    ] == "hardcoded lr"


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="format='xml'"):
        diagnostics.render(FINDINGS, "xml")


def test_emit_exit_codes() -> None:
    stream = io.StringIO()
    assert diagnostics.emit([], "text", stream) == 0
    assert stream.getvalue() == ""
    assert diagnostics.emit(FINDINGS, "json", stream) == 1
    assert json.loads(stream.getvalue())[0]["code"] == "MLQ101"


def test_error_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert diagnostics.error("x.py: broken") == 2
    assert capsys.readouterr().err == "x.py: broken\n"


@given(
    st.lists(
        st.builds(
            Finding,
            st.text(),
            st.integers(1),
            st.integers(1),
            st.text(),
            st.text(),
        )
    )
)
def test_json_round_trips(findings: list[Finding]) -> None:
    data = json.loads(diagnostics.render(findings, "json"))
    assert [Finding(**item) for item in data] == findings


def test_read_text_errors(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "latin.py").write_bytes(b"x = 1\ny = '\xe9'\n")
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfx = 1\n")
    with pytest.raises(InputError, match="binary file"):
        diagnostics.read_text(tmp_path / "bin.py")
    with pytest.raises(InputError) as info:
        diagnostics.read_text(tmp_path / "latin.py")
    assert (info.value.line, info.value.column) == (2, 6)
    assert diagnostics.read_text(tmp_path / "bom.py") == "x = 1\n"
    with pytest.raises(InputError, match="cannot read file"):
        diagnostics.read_text(tmp_path / "missing.py")


def test_input_error_str() -> None:
    assert str(InputError("a.py", "bad")) == "a.py: bad"
    assert str(InputError("a.py", "bad", 2)) == "a.py:2: bad"
    assert str(InputError("a.py", "bad", 2, 3)) == "a.py:2:3: bad"


def test_decode_source_follows_pep_263(tmp_path: Path) -> None:
    latin = b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"
    assert diagnostics.decode_source(latin, "a.py").endswith("x = '\u00e9'\n")
    (tmp_path / "a.py").write_bytes(latin)
    assert diagnostics.read_source(tmp_path / "a.py") == latin.decode("latin-1")
    with pytest.raises(InputError) as info:
        diagnostics.decode_source(
            b"#!/usr/bin/env python\n# coding: bogus\nx = 1\n", "b.py"
        )
    assert (
        str(info.value) == "b.py:1:1: bad encoding declaration: unknown encoding: bogus"
    )
    with pytest.raises(InputError) as info:
        diagnostics.decode_source(
            b"x = 1\n# not a cookie: coding\ny = '\xff'\n", "c.py"
        )
    assert (info.value.line, info.value.column) == (3, 6)
    assert diagnostics.decode_source(b"\xef\xbb\xbfx = 1\n", "d.py") == "x = 1\n"
    with pytest.raises(InputError, match="binary file"):
        diagnostics.decode_source(b"x = 1\n\x00", "e.py")


def test_fixable_is_optional_and_not_printed() -> None:
    plain = Finding("a.py", 1, 1, "F401", "unused")
    fixable = plain._replace(fixable=True)
    assert plain.fixable is False and tuple(plain[:5]) == tuple(fixable[:5])
    for fmt in ("text", "github", "sarif"):
        assert diagnostics.render([plain], fmt) == diagnostics.render([fixable], fmt)
    assert json.loads(diagnostics.render([fixable], "json"))[0]["fixable"] is True


def cp1252_stream() -> tuple[io.BytesIO, io.TextIOWrapper]:
    raw = io.BytesIO()
    return raw, io.TextIOWrapper(raw, encoding="cp1252", errors="strict")


def test_emit_replaces_what_the_stream_cannot_encode() -> None:
    finding = Finding("caf\u00e9/\u03bc.py", 1, 1, "F401", "`numpy as \u03bc` unused")
    raw, stream = cp1252_stream()
    with pytest.raises(UnicodeEncodeError):  # the plain write this guards against
        stream.write(finding.as_text())
    assert diagnostics.emit([finding], "text", stream) == 1
    stream.flush()
    # cp1252 has é but not μ: é is kept, μ becomes "?".
    assert (
        raw.getvalue().decode("cp1252")
        == "caf\u00e9/?.py:1:1: F401 `numpy as ?` unused\n"
    )
    assert diagnostics.encodable(stream, "caf\u00e9") and not diagnostics.encodable(
        stream, "\u2503"
    )
