"""Tests for mlqa's JSONC parser and editor (``mlqa.init.jsonc``, ``jsonc_edit``).

Values are checked against two independent parsers: Python's ``json`` for
plain JSON and JupyterLab's ``json5`` package (a superset of JSONC) for text
with comments and trailing commas. Edits are checked against hand-written
expected text.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import json5
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlqa.diagnostics import InputError
from mlqa.init import jsonc
from mlqa.init.jsonc_edit import merge_jsonc
from mlqa.init.vscode import merge_extensions

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "[]",
        '{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
        '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"',
        "[0, -0, 1.5, -2.25e-3, 1E+5, 12345678901234567890]",
        '{"a": 1, "a": 2}',
        '  {"é": "ß\u2028"}\n',
    ],
)
def test_plain_json_parses_as_python_json_does(text: str) -> None:
    assert jsonc.loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '// lead\n{"a": 1} // tail',
        '{ /* in */ "a" /* key */ : /* value */ 1 /* after */ }',
        '{"a": [1, 2,], "b": {"c": 3,},}',
        '{\r\n  // crlf\r\n  "a": 1,\r\n}\r\n',
        '{"url": "http://x/*y*/"} /* the // in a string is no comment */',
        '{\n  "a": {\n    "b": [\n      {"c": null,},\n    ],\n  },\n}',
        "/* only\n   a block */ [1] // then a line",
    ],
)
def test_jsonc_parses_as_json5_does(text: str) -> None:
    assert jsonc.loads(text) == json5.loads(text)


@pytest.mark.parametrize("text", ["", "  \n", "// nothing\n", "/* a */ // b\r\n"])
def test_a_document_without_a_value_is_none(text: str) -> None:
    assert jsonc.parse("f.json", text) is None


def _find(node: jsonc.Node, path: tuple[str | int, ...]) -> jsonc.Node:
    for step in path:
        node = node.fields()[step] if isinstance(step, str) else node.items[step]
    return node


@pytest.mark.parametrize(
    ("text", "path", "source"),
    [
        ('{"a": [1, {"b": "c"}]}', ("a",), '[1, {"b": "c"}]'),
        ('{"a": [1, {"b": "c"}]}', ("a", 1, "b"), '"c"'),
        ('{ /* x */ "k" : -1.5e3 , }', ("k",), "-1.5e3"),
        ('{"s": "a\\"b\\u00e9"}', ("s",), '"a\\"b\\u00e9"'),
        ("// c\r\n[\r\n  true,\r\n  null\r\n]", (1,), "null"),
        ("// c\r\n[\r\n  true,\r\n  null\r\n]", (), "[\r\n  true,\r\n  null\r\n]"),
    ],
)
def test_nodes_know_where_they_are(
    text: str, path: tuple[str | int, ...], source: str
) -> None:
    root = jsonc.parse("f.json", text)
    assert root is not None
    node = _find(root, path)
    assert text[node.start : node.end] == source


def test_members_and_trailing_commas_have_offsets() -> None:
    text = '{\n  "a": 1,\n  "b\\n": [2, 3,],\n}'
    root = jsonc.parse("f.json", text)
    assert root is not None and root.is_object
    assert [m.key for m in root.members] == ["a", "b\n"]
    assert [text[m.start : m.start + 3] for m in root.members] == ['"a"', '"b\\']
    assert root.trailing_comma == text.rindex(",")
    array = root.fields()["b\n"]
    assert array.is_array and array.trailing_comma == text.index(",]")
    plain = jsonc.parse("f.json", "[1]")
    assert plain is not None and plain.trailing_comma is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            '{\n  "a": 1,\n  "b" 2\n}\n',
            "3:7: invalid JSON: expected ':' after the key, found '2'",
        ),
        ('{"a": tru}', "1:7: invalid JSON: expected a value, found 'tru'"),
        ('{"a": 1', "1:8: invalid JSON: expected ',' or '}', found end of file"),
        ('{"a": [1 2]}', "1:10: invalid JSON: expected ',' or ']', found '2'"),
        ("{/* open", "1:2: invalid JSON: unterminated /* comment"),
        ('{"a": "x\ny"}', "1:7: invalid JSON: unterminated string"),
        ('{"a": "\\q"}', "1:8: invalid JSON: invalid escape \\q in a string"),
        ('{"a": "\\u12"}', "1:8: invalid JSON: invalid escape \\u: needs 4 hex digits"),
        ('{"a": "\t"}', "1:8: invalid JSON: control character U+0009 in a string"),
        ("{'a': 1}", '1:2: invalid JSON: expected a key in double quotes, found "\'"'),
        ("{a: 1}", "1:2: invalid JSON: expected a key in double quotes, found 'a'"),
        ('{"a": 1,,}', "1:9: invalid JSON: expected a key in double quotes, found ','"),
        ("[1,,2]", "1:4: invalid JSON: expected a value, found ','"),
        ('{"a": 01}', "1:7: invalid JSON: expected a value, found '01'"),
        ('{"a": 0x1F}', "1:7: invalid JSON: expected a value, found '0x1F'"),
        ('{"a": 1.}', "1:7: invalid JSON: expected a value, found '1.'"),
        ("{} {}", "1:4: invalid JSON: unexpected '{' after the value"),
        ('{\r\n  "a": NaN\r\n}', "2:8: invalid JSON: expected a value, found 'NaN'"),
        ('{\t"a" 1}', "1:7: invalid JSON: expected ':' after the key, found '1'"),
        ("[" * 201, "1:201: invalid JSON: nested deeper than 200 levels"),
        ('{"a": 1' + "0" * 5000 + "}", "1:7: invalid JSON: number too long"),
    ],
)
def test_bad_input_is_one_clean_line(text: str, error: str) -> None:
    with pytest.raises(InputError) as info:
        jsonc.parse("f.json", text)
    assert str(info.value) == f"f.json:{error}"
    assert "\n" not in str(info.value)


JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    value=JSON_VALUES,
    indent=st.sampled_from([None, 0, 2, "\t"]),
    ascii_only=st.booleans(),
)
def test_any_json_document_parses_as_python_json_does(
    value: Any, indent: int | str | None, ascii_only: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert jsonc.loads(text) == json.loads(text)


def _no_constants(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet='{}[],:"\\/*\n\r\t a1e.-+ut', max_size=24))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        node = jsonc.parse("f.json", text)
    except InputError as exc:
        assert str(exc).startswith("f.json:") and "\n" not in str(exc)
        try:
            expected = json.loads(text, parse_constant=_no_constants)
        except ValueError:
            return
        raise AssertionError(f"rejected {text!r} = {expected!r}: {exc}") from None
    if node is not None:
        assert node.value == json5.loads(text)  # JSONC is a subset of JSON5


# --------------------------------------------------------------------- editing

TEMPLATE_B = {"b": 2}


@pytest.mark.parametrize(
    ("old", "template", "new", "added"),
    [
        ("{}", {"a": 1}, '{\n    "a": 1\n}', ["a"]),
        ('{"a": 1}', TEMPLATE_B, '{"a": 1, "b": 2}', ["b"]),
        ('{"a": 1,}', TEMPLATE_B, '{"a": 1, "b": 2,}', ["b"]),
        (
            '{\n  "a": 1\n}\n',
            {"b": [1, 2]},
            '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}\n',
            ["b"],
        ),
        (
            '{\n  "a": 1 // one\n}\n',
            TEMPLATE_B,
            '{\n  "a": 1, // one\n  "b": 2\n}\n',
            ["b"],
        ),
        ('{\n  "a": 1,\n}\n', TEMPLATE_B, '{\n  "a": 1,\n  "b": 2,\n}\n', ["b"]),
        (
            '{\r\n  "a": 1\r\n}\r\n',
            TEMPLATE_B,
            '{\r\n  "a": 1,\r\n  "b": 2\r\n}\r\n',
            ["b"],
        ),
        (
            '{\n  "[python]": {\n    "x": 1\n  }\n}\n',
            {"[python]": {"y": True}, "z": None},
            '{\n  "[python]": {\n    "x": 1,\n    "y": true\n  },\n  "z": null\n}\n',
            ["[python] > y", "z"],
        ),
        ('{"a": 0}', {"a": 1}, '{"a": 0}', []),
        ('{"a": 1}', {"a": {"b": 2}}, '{"a": 1}', []),
        (
            '{\n\t"a": 1\n}\n',
            {"b": {"c": 2}},
            '{\n\t"a": 1,\n\t"b": {\n\t\t"c": 2\n\t}\n}\n',
            ["b"],
        ),
        ("// nothing\n", {"a": 1}, '// nothing\n{\n    "a": 1\n}\n', ["a"]),
        ("{ // c\n}\n", {"a": 1}, '{ // c\n    "a": 1\n}\n', ["a"]),
        ('{"a\\"b": 1}', {'a"b': 2}, '{"a\\"b": 1}', []),
        (
            '{"a": {}, "a": {"x": 1}}',
            {"a": {"y": 2}},
            '{"a": {}, "a": {"x": 1, "y": 2}}',
            ["a > y"],
        ),
        ('{"k": 1}', {"x": "ß"}, '{"k": 1, "x": "ß"}', ["x"]),
        (
            '/* head */\n{\n    "a": [1,\n          2], /* mid */\n}\n',
            TEMPLATE_B,
            '/* head */\n{\n    "a": [1,\n          2], /* mid */\n    "b": 2,\n}\n',
            ["b"],
        ),
    ],
)
def test_merge_jsonc_splices_entries_into_the_text(
    old: str, template: dict[str, Any], new: str, added: list[str]
) -> None:
    assert merge_jsonc("f.json", old, template) == (new, added)
    assert merge_jsonc("f.json", new, template) == (new, [])  # a second run: no change


@pytest.mark.parametrize(
    ("old", "new", "added"),
    [
        (
            '{"recommendations": []}',
            '{"recommendations": [\n    "x.y",\n    "a.b",\n    "b.c"\n]}',
            ["x.y", "a.b", "b.c"],
        ),
        (
            '{\n  "recommendations": [\n    "x.y", // mine\n  ],\n'
            '  "unwantedRecommendations": ["b.c"]\n}\n',
            '{\n  "recommendations": [\n    "x.y", // mine\n    "a.b",\n  ],\n'
            '  "unwantedRecommendations": ["b.c"]\n}\n',
            ["a.b"],
        ),
        (
            '{"recommendations": ["X.Y", "a.b", "b.c"]}',
            '{"recommendations": ["X.Y", "a.b", "b.c"]}',
            [],
        ),
    ],
)
def test_merge_extensions_appends_to_the_array(
    old: str, new: str, added: list[str]
) -> None:
    assert merge_extensions("e.json", old, ["x.y", "a.b", "b.c"]) == (new, added)


@pytest.mark.parametrize(
    ("old", "error"),
    [
        ("[1, 2]", "f.json:1:1: expected a JSON object at the top level"),
        ('// x\n  "s"', "f.json:2:3: expected a JSON object at the top level"),
        (
            '{\n  "a": 1\n  "b": 2\n}',
            "f.json:3:3: invalid JSON: expected ',' or '}', found '\"'",
        ),
    ],
)
def test_merge_refuses_bad_documents(old: str, error: str) -> None:
    with pytest.raises(InputError) as info:
        merge_jsonc("f.json", old, TEMPLATE_B)
    assert str(info.value) == error


def test_extensions_lists_must_be_lists() -> None:
    with pytest.raises(InputError) as info:
        merge_extensions("e.json", '{\n "recommendations": "a.b"\n}', ["a.b"])
    assert str(info.value) == "e.json:2:21: 'recommendations' must be a list"


# --------------------------------------------------------------------- beside JupyterLab


def test_init_runs_where_jupyterlabs_json5_is_installed(tmp_path: Path) -> None:
    # Issue 11: json-five and JupyterLab's json5 both install the import name
    # `json5`; with JupyterLab's in place, `mlqa init` crashed on import.
    assert importlib.metadata.packages_distributions()["json5"] == ["json5"]
    settings_text = '// keep me\n{\n    "editor.rulers": [88], // mine\n}\n'
    (tmp_path / ".vscode").mkdir()
    path = tmp_path / ".vscode" / "settings.json"
    path.write_text(settings_text)
    script = (
        "import sys\n"
        "from mlqa.cli import main\n"
        "code = main(['init', sys.argv[1], '--yes'])\n"
        "assert 'json5' not in sys.modules, 'mlqa init imported json5'\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = path.read_text()
    assert text.startswith('// keep me\n{\n    "editor.rulers": [88], // mine\n')
    template = json5.loads((ROOT / "vscode" / "settings.json").read_text())
    # The project does not declare mlqa-toolkit: no `--mlqa` in pytestArgs.
    del template["python.testing.pytestArgs"]
    assert json5.loads(text) == {"editor.rulers": [88], **template}
