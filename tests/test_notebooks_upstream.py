"""The contracts mlqa relies on in nbstripout's and nbformat's internals.

Everything :mod:`mlqa.notebooks.upstream` takes from those packages' private
modules is compared here with the installed packages themselves, so an
upstream change fails these tests rather than changing mlqa's output.
"""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import nbformat.v4.rwbase as rwbase
import nbstripout._utils as nbstripout_utils
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_notebooks import make_notebook, serialise

from mlqa.notebooks import upstream
from mlqa.notebooks.upstream import DEFAULT_EXTRA_KEYS


def test_default_extra_keys_are_nbstripouts() -> None:
    import nbstripout._nbstripout as source

    tree = ast.parse(Path(source.__file__).read_text(encoding="utf-8"))
    lists = [
        [elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)]
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "extra_keys" for t in node.targets)
        and isinstance(node.value, ast.List)
    ]
    assert lists == [list(DEFAULT_EXTRA_KEYS)]


@pytest.mark.parametrize(
    ("key", "name", "reference"),
    [
        ("strip", "strip_output", nbstripout_utils.strip_output),
        ("strip", "determine_keep_output", nbstripout_utils.determine_keep_output),
        ("strip", "MetadataError", nbstripout_utils.MetadataError),
        ("lines", "rejoin_lines", rwbase.rejoin_lines),
        ("lines", "split_lines", rwbase.split_lines),
        ("lines", "strip_transient", rwbase.strip_transient),
    ],
)
def test_light_copies_are_the_installed_code(
    key: str, name: str, reference: Any
) -> None:
    ours = getattr(upstream.lib(key), name)
    if isinstance(reference, type):
        assert ours.__module__ != reference.__module__  # a private copy ...
        assert ours.__name__ == reference.__name__  # ... of the same class
        assert upstream.metadata_error() is ours
    else:
        assert ours.__code__.co_filename == reference.__code__.co_filename
        assert ours.__code__.co_code == reference.__code__.co_code


def test_stripping_without_importing_nbformat(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_bytes(serialise(make_notebook(5, ids=False), "indent2"))
    script = (
        "import sys\n"
        "from mlqa import notebooks as m\n"
        "assert m.main(sys.argv[1:]) == 1\n"
        "assert 'nbformat' not in sys.modules and 'jsonschema' not in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "NB001 stripped 5 outputs" in proc.stdout


@pytest.mark.parametrize("minor", [0, 4, 5])
@pytest.mark.parametrize("layout", ["nbformat", "indent2", "compact"])
def test_line_helpers_do_what_nbformats_do(minor: int, layout: str) -> None:
    text = serialise(make_notebook(minor), layout).decode("utf-8")
    theirs = nbformat.from_dict(json.loads(text))
    ours = json.loads(text, object_hook=upstream.Node)
    assert ours == theirs
    for helper in ("rejoin_lines", "strip_transient", "split_lines"):
        getattr(rwbase, helper)(theirs)
        getattr(upstream, helper)(ours)
        assert ours == theirs, helper


def test_node_gives_attribute_access_as_notebook_node() -> None:
    node = upstream.Node({"a": 1})
    node.b = 2
    assert node.a == 1 and node["b"] == 2
    del node.a
    with pytest.raises(AttributeError):
        _ = node.a
    with pytest.raises(AttributeError):
        del node.missing
    assert node == nbformat.NotebookNode({"b": 2})


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(_json, st.integers(0, 60))
def test_capped_size_answers_as_get_size(value: Any, max_size: int) -> None:
    limit = max_size + 1
    capped = upstream.capped_size(value, limit)
    full = nbstripout_utils.get_size(value)
    assert (capped <= max_size) == (full <= max_size)
    if full < limit:
        assert capped == full


_metadata = st.fixed_dictionaries(
    {},
    optional={
        "init_cell": st.booleans(),
        "keep_output": st.booleans(),
        "tags": st.sampled_from([[], ["keep_output"], ["other"]]),
    },
)


@settings(max_examples=100, deadline=None)
@given(
    _metadata,
    st.sampled_from([None, False, True]),
    st.sampled_from([None, False, True]),
    st.booleans(),
)
def test_keeps_output_is_nbstripouts_decision(
    metadata: dict[str, Any],
    notebook_default: bool | None,
    option: bool | None,
    init: bool,
) -> None:
    nb_metadata = {} if notebook_default is None else {"keep_output": notebook_default}
    nb = upstream.Node(metadata=upstream.Node(nb_metadata))
    cell = upstream.Node(metadata=upstream.Node(metadata))
    default = option
    if default is None and "keep_output" in nb_metadata:
        default = bool(nb_metadata["keep_output"])
    try:
        expected = nbstripout_utils.determine_keep_output(
            nbformat.from_dict(copy.deepcopy(dict(cell))), default, init
        )
    except nbstripout_utils.MetadataError:
        with pytest.raises(upstream.metadata_error()):
            upstream.keeps_output(nb, cell, option, init)
        return
    assert upstream.keeps_output(nb, cell, option, init) == bool(expected)


_names = st.sampled_from(["a", "b", "a.b", "metadata.a"])
_cell_metadata = st.dictionaries(
    _names, st.one_of(st.integers(), st.dictionaries(_names, st.integers())), max_size=3
)
_cell = st.fixed_dictionaries(
    {
        "cell_type": st.just("markdown"),
        "metadata": _cell_metadata,
        "source": st.just(""),
    },
    optional={"metadata.a": st.integers(), "a": st.integers()},
)
_extra = st.lists(
    st.sampled_from(
        [
            "cell.metadata.a",
            "cell.metadata.b",
            "cell.metadata.a.b",
            "cell.metadata.metadata.a",
            "cell.a",
            "metadata.a",
            "metadata.a.b",
        ]
    ),
    max_size=4,
)


_NESTED = [{"cell_type": "markdown", "metadata": {"a": {"b": 1}}, "source": ""}]


@settings(max_examples=150, deadline=None)
@given(st.lists(_cell, max_size=4), _metadata, _extra)
@example(_NESTED, {}, ["cell.metadata.a.b"])
@example([{**_NESTED[0], "metadata.a": 1}], {}, ["cell.metadata.a"])
def test_only_keys_that_can_pop_are_passed_and_the_result_is_nbstripouts(
    cells: list[dict[str, Any]], metadata: dict[str, Any], extra: list[str]
) -> None:
    nb = {
        "cells": cells,
        "metadata": dict(metadata),
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    theirs = nbformat.from_dict(copy.deepcopy(nb))
    nbstripout_utils.strip_output(theirs, None, False, False, list(extra))
    ours = json.loads(json.dumps(nb), object_hook=upstream.Node)
    upstream.strip_output(
        ours, keep_output=None, keep_count=False, keep_id=False, extra_keys=list(extra)
    )
    assert ours == theirs
