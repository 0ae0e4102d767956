"""Outputs elided before parsing (mlqa/notebooks/scan.py): same bytes as the full path.

The fast path never parses the outputs it drops; these tests check that it is
taken on real notebooks and that its result is the full path's (and
nbstripout's) on every one of them, and that any layout it cannot prove
falls back to the full parse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_notebooks import compare, make_notebook, serialise

from mlqa.diagnostics import InputError
from mlqa.notebooks import scan, strip
from mlqa.notebooks.options import StripOptions

DATA = Path(__file__).parent / "data" / "notebooks" / "real-notebooks.json"
REAL: dict[str, str] = json.loads(DATA.read_text(encoding="utf-8"))


def _has_outputs(text: str) -> bool:
    return any(cell.get("outputs") for cell in json.loads(text)["cells"])


def _full_path(
    monkeypatch: pytest.MonkeyPatch, data: bytes, options: StripOptions, output: bool
) -> strip.Stripped:
    with monkeypatch.context() as patch:  # force the whole-file parse
        patch.setattr(scan, "elide_outputs", lambda data: None)
        return strip.strip_data(data, "nb.ipynb", options, output)


def test_real_notebooks_match_nbstripout(tmp_path: Path) -> None:
    files = {name: text.encode("utf-8") for name, text in REAL.items()}
    assert len(files) >= 15 and sum(map(_has_outputs, REAL.values())) >= 12
    compare(tmp_path, files, [], [])


@pytest.mark.parametrize(
    "flags", [["--keep-count"], ["--keep-output"], ["--max-size", "200"]]
)
def test_real_notebooks_match_nbstripout_with_options(
    tmp_path: Path, flags: list[str]
) -> None:
    files = {name: text.encode("utf-8") for name, text in REAL.items()}
    compare(tmp_path, files, flags, flags)


@pytest.mark.parametrize("name", sorted(REAL))
@pytest.mark.parametrize("output", [True, False])
def test_fast_path_equals_full_path(
    monkeypatch: pytest.MonkeyPatch, name: str, output: bool
) -> None:
    data = REAL[name].encode("utf-8")
    options = StripOptions()
    fast = strip.strip_data(data, "nb.ipynb", options, output)
    assert fast == _full_path(monkeypatch, data, options, output)


def test_fast_path_is_taken_on_real_notebooks_with_outputs() -> None:
    taken = [
        name
        for name, text in REAL.items()
        if strip._read_elided(text.encode("utf-8"), name, StripOptions()) is not None
    ]
    with_outputs = [name for name, text in REAL.items() if _has_outputs(text)]
    assert set(taken) <= set(with_outputs)
    # all but notebooks in an unusual layout or keeping an output by metadata
    assert len(taken) >= len(with_outputs) - 3, set(with_outputs) - set(taken)


def _outputs_per_cell(nb: dict[str, Any]) -> list[int]:
    return [len(c["outputs"]) for c in nb["cells"] if c.get("outputs")]


@pytest.mark.parametrize(("layout", "unit"), [("nbformat", 1), ("indent2", 2)])
def test_elision_counts_outputs_and_keeps_the_rest(layout: str, unit: int) -> None:
    nb = make_notebook(4)
    data = serialise(nb, layout)
    elided = scan.elide_outputs(data)
    assert elided is not None
    assert elided.counts == _outputs_per_cell(nb)
    assert b"output_type" in data and b"output_type" not in elided.data
    parsed = json.loads(elided.data)
    found = scan.restore(parsed, elided.counts)
    assert found is not None and sorted(found.values()) == sorted(elided.counts)
    without = dict(
        nb, cells=[{**c, "outputs": []} if "outputs" in c else c for c in nb["cells"]]
    )
    assert parsed == without


def _nbformat_text(nb: dict[str, Any]) -> str:
    return serialise(nb, "nbformat").decode("utf-8")


def test_layouts_it_cannot_prove_are_not_elided() -> None:
    nb = make_notebook(4)
    assert scan.elide_outputs(serialise(nb, "compact")) is None
    assert scan.elide_outputs(serialise(nb, "crlf")) is None
    text = _nbformat_text(nb)
    # a line back at the cell's depth inside an outputs array
    broken = text.replace(
        '    "output_type": "stream",\n', '   "output_type": "stream",\n', 1
    )
    assert broken != text and scan.elide_outputs(broken.encode("utf-8")) is None
    # an output without an output_type
    untyped = text.replace('    "output_type": "error",\n', '    "type": "error",\n', 1)
    assert untyped != text and scan.elide_outputs(untyped.encode("utf-8")) is None


def test_markers_outside_cell_outputs_fall_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nb = make_notebook(4)
    nb["metadata"]["custom"] = {"outputs": [{"output_type": "not a cell's"}]}
    data = serialise(nb, "nbformat")
    elided = scan.elide_outputs(data)
    assert elided is not None  # the metadata array was elided too ...
    assert scan.restore(json.loads(elided.data), elided.counts) is None  # ... caught
    assert strip._read_elided(data, "nb.ipynb", StripOptions()) is None
    options = StripOptions()
    result = strip.strip_data(data, "nb.ipynb", options)
    assert result == _full_path(monkeypatch, data, options, True)
    assert b"not a cell's" in (result.output or b"")


def test_kept_outputs_are_parsed() -> None:
    nb = make_notebook(4)
    nb["cells"][1]["metadata"]["keep_output"] = True
    data = serialise(nb, "nbformat")
    assert scan.elide_outputs(data) is not None
    assert strip._read_elided(data, "nb.ipynb", StripOptions()) is None
    result = strip.strip_data(data, "nb.ipynb", StripOptions())
    kept = json.loads(result.output or b"")["cells"][1]["outputs"]
    assert kept == [{**nb["cells"][1]["outputs"][0], "execution_count": None}]


@pytest.mark.parametrize(
    ("bad", "message"),
    [(b"l\xffnea", "not valid UTF-8"), (b"l\x00nea", "binary file")],
)
def test_bad_bytes_in_dropped_outputs_are_errors_as_in_the_full_path(
    monkeypatch: pytest.MonkeyPatch, bad: bytes, message: str
) -> None:
    data = serialise(make_notebook(4), "nbformat")
    data = data.replace("línea".encode(), bad, 1)  # in a stream output
    assert bad in data and scan.elide_outputs(data) is not None
    with pytest.raises(InputError, match=message):
        strip.strip_data(data, "nb.ipynb", StripOptions())
    with pytest.raises(InputError, match=message):
        _full_path(monkeypatch, data, StripOptions(), True)
