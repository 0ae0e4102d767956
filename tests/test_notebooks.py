"""Tests for ``mlqa strip`` (mlqa/notebooks/): its behaviour against the real nbstripout.

The reference is the real nbstripout: its command line as a subprocess on
copies of the same files, and, for the Hypothesis property, its per-file
function ``process_jupyter_notebook`` in process.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlqa import cli
from mlqa.diagnostics import InputError
from mlqa.notebooks import main
from mlqa.notebooks import options as notebook_options
from mlqa.notebooks.options import StripOptions
from mlqa.notebooks.strip import strip_text
from mlqa.notebooks.upstream import DEFAULT_EXTRA_KEYS

NBSTRIPOUT = [sys.executable, "-m", "nbstripout"]
PNG = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3).decode("ascii")


# --------------------------------------------------------------------------- notebooks


def _lines(text: str) -> list[str]:
    return text.splitlines(True)


def make_notebook(minor: int, *, ids: bool | None = None) -> dict[str, Any]:
    """A realistic notebook of nbformat 4.<minor>: images, errors, widgets, non-ASCII."""
    widget_view = {"model_id": "5f1e", "version_major": 2, "version_minor": 0}
    cells: list[dict[str, Any]] = [
        {
            "cell_type": "markdown",
            "metadata": {"heading_collapsed": True},
            "source": _lines(
                "# Données — café\n\nnon-ASCII: 日本語, emoji 🚀, tab\tend"
            ),
        },
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {
                "collapsed": False,
                "scrolled": True,
                "ExecuteTime": {"end_time": "2024-01-01T00:00:01Z"},
            },
            "outputs": [
                {
                    "data": {"text/plain": _lines("array([0, 1, 2,\n       3])")},
                    "execution_count": 1,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            ],
            "source": _lines("import numpy as np\nx = np.arange(4)\nx"),
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {"execution": {"iopub.status.idle": "2024"}, "tags": ["plot"]},
            "outputs": [
                {
                    "name": "stdout",
                    "output_type": "stream",
                    "text": ["line 1\n", "línea 2\n"],
                },
                {
                    "data": {
                        "image/png": PNG,
                        "text/plain": ["<Figure size 432x288 with 1 Axes>"],
                    },
                    "metadata": {"needs_background": "light"},
                    "output_type": "display_data",
                },
            ],
            "source": "import matplotlib.pyplot as plt\nplt.plot(x)\n",
        },
        {
            "cell_type": "code",
            "execution_count": 3,
            "metadata": {"hidden": True},
            "outputs": [
                {
                    "ename": "ZeroDivisionError",
                    "evalue": "division by zero",
                    "output_type": "error",
                    "traceback": [
                        "\u001b[0;31m-----\u001b[0m",
                        "\u001b[0;31mZeroDivisionError\u001b[0m: division by zero",
                    ],
                }
            ],
            "source": ["1 / 0"],
        },
        {
            "cell_type": "code",
            "execution_count": 4,
            "metadata": {},
            "outputs": [
                {
                    "data": {
                        "application/vnd.jupyter.widget-view+json": widget_view,
                        "text/plain": "IntSlider(value=0)",
                    },
                    "metadata": {},
                    "output_type": "display_data",
                }
            ],
            "source": "import ipywidgets\nipywidgets.IntSlider()",
        },
        {"cell_type": "raw", "metadata": {}, "source": "raw\r\ntext with CR\r\n"},
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": "",
        },
    ]
    if minor >= 1:  # attachments arrived in 4.1; their text is split into lines too
        cells[0]["attachments"] = {
            "figure.png": {"image/png": PNG, "text/plain": "line one\nline two\n"}
        }
        cells[0]["source"].append("\n![figure](attachment:figure.png)")
    if ids is None:
        ids = minor >= 5
    if ids:
        for index, cell in enumerate(cells):
            cell["id"] = f"c{index:03d}-{minor}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python", "version": "3.11.7"},
            "signature": "sha256:0123",
            "widgets": {
                "application/vnd.jupyter.widget-state+json": {
                    "state": {
                        "5f1e": {"model_name": "IntSliderModel", "state": {"value": 0}}
                    },
                    "version_major": 2,
                    "version_minor": 0,
                }
            },
        },
        "nbformat": 4,
        "nbformat_minor": minor,
    }


def serialise(nb: dict[str, Any], layout: str) -> bytes:
    """Lay a notebook out as nbformat does, or as other tools and editors do."""
    if layout == "nbformat":
        text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    elif layout == "indent2":  # e.g. VS Code, hand edits: unsorted keys, ASCII escapes
        text = json.dumps(nb, indent=2, ensure_ascii=True)
    elif layout == "compact":
        text = json.dumps(nb, separators=(",", ":"), ensure_ascii=False)
    elif layout == "crlf":
        text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        text = text.replace("\n", "\r\n")
    else:  # pragma: no cover
        raise ValueError(layout)
    return text.encode("utf-8")


def _git_free_env(tmp_path: Path) -> dict[str, str]:
    """nbstripout reads extra keys from git config: make sure there is none."""
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CEILING_DIRECTORIES=str(tmp_path.parent),
    )
    return env


def run_nbstripout(files: list[Path], flags: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [*NBSTRIPOUT, *map(str, files), *flags],
        capture_output=True,
        text=True,
        env=_git_free_env(tmp_path),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr


def corpus() -> dict[str, bytes]:
    """Every nbformat 4 minor version in every layout, plus special cases."""
    files = {}
    for minor in range(6):
        for layout in ("nbformat", "indent2", "crlf"):
            files[f"v4{minor}-{layout}.ipynb"] = serialise(make_notebook(minor), layout)
    stripped = make_notebook(4)
    for cell in stripped["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell["metadata"] = {}
    del stripped["metadata"]["widgets"], stripped["metadata"]["signature"]
    # Already stripped: nbstripout leaves these alone, whatever the layout.
    files["clean-nbformat.ipynb"] = serialise(stripped, "nbformat")
    files["clean-indent2.ipynb"] = serialise(stripped, "indent2")
    files["clean-compact.ipynb"] = serialise(stripped, "compact")
    files["clean-crlf.ipynb"] = serialise(stripped, "crlf")
    # Ids on a notebook older than 4.5 are renumbered too; 4.5 ids out of order.
    files["v44-with-ids.ipynb"] = serialise(make_notebook(4, ids=True), "nbformat")
    keep = make_notebook(4)
    keep["metadata"]["keep_output"] = True
    files["keep-output-metadata.ipynb"] = serialise(keep, "indent2")
    tagged = make_notebook(5)
    tagged["cells"][1]["metadata"]["tags"] = ["keep_output", "drop"]
    tagged["cells"][2]["metadata"]["init_cell"] = True
    tagged["cells"][3]["metadata"]["keep_output"] = True
    files["tags-and-init.ipynb"] = serialise(tagged, "nbformat")
    return files


def write_corpus(directory: Path, files: dict[str, bytes]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        (directory / name).write_bytes(data)
        paths.append(directory / name)
    return paths


def compare(
    tmp_path: Path, files: dict[str, bytes], mlqa_flags: list[str], nb_flags: list[str]
) -> None:
    theirs = write_corpus(tmp_path / "nbstripout", files)
    ours = write_corpus(tmp_path / "mlqa", files)
    checked = write_corpus(tmp_path / "verify", files)
    run_nbstripout(theirs, nb_flags, tmp_path)
    code = main([*map(str, ours), *mlqa_flags])
    assert code in (0, 1)
    # --verify finds exactly the files that stripping changes, and writes nothing.
    assert main(["--verify", *map(str, checked), *mlqa_flags]) == code
    assert all(path.read_bytes() == files[path.name] for path in checked)
    changed = 0
    for their, our in zip(theirs, ours, strict=True):
        assert our.read_bytes() == their.read_bytes(), our.name
        changed += their.read_bytes() != files[their.name]
    # mlqa reports a change exactly when nbstripout made one.
    assert code == (1 if changed else 0)


# --------------------------------------------------------------------------- byte compatibility


def test_default_output_is_byte_identical_to_nbstripout(tmp_path: Path) -> None:
    files = corpus()
    compare(tmp_path, files, [], [])
    result = tmp_path / "mlqa"
    # The comparison is not vacuous: outputs went, already clean files stayed.
    assert b'"output_type"' not in (result / "v40-nbformat.ipynb").read_bytes()
    assert (result / "clean-indent2.ipynb").read_bytes() == files["clean-indent2.ipynb"]
    assert (result / "clean-crlf.ipynb").read_bytes() == files["clean-crlf.ipynb"]
    assert b"\r\n" not in (result / "v45-crlf.ipynb").read_bytes()
    assert '"id": "0"' in (result / "v45-nbformat.ipynb").read_text(encoding="utf-8")


OPTION_CASES = [
    (["--keep-output"], ["--keep-output"]),
    (["--keep-count"], ["--keep-count"]),
    (["--keep-output", "--keep-count"], ["--keep-output", "--keep-count"]),
    (["--extra-keys", "metadata.kernelspec cell.metadata.tags"],) * 2,
    # nested keys: a change the recorded facts do not see
    (["--extra-keys", "metadata.language_info.version cell.metadata.execution.x"],) * 2,
    (["--keep-metadata-keys", "cell.metadata.scrolled metadata.widgets"],) * 2,
    (["--drop-empty-cells"], ["--drop-empty-cells"]),
    (["--drop-tagged-cells", "plot"], ["--drop-tagged-cells", "plot"]),
    (["--strip-init-cells"], ["--strip-init-cells"]),
    (["--keep-output-type", "stream"], ["--keep-output-type", "stream"]),
    (
        [
            "--keep-output",
            "--drop-output-type",
            "error",
            "--drop-output-type",
            "stream:stdout",
        ],
        ["--keep-output", "--drop-output-type", "error", "stream:stdout"],
    ),
    (["--max-size", "100"], ["--max-size", "100"]),
]


@pytest.mark.parametrize("flags", OPTION_CASES, ids=lambda f: " ".join(f[0]))
def test_each_option_matches_nbstripouts_flag(
    tmp_path: Path, flags: tuple[list[str], ...]
) -> None:
    mlqa_flags, nb_flags = flags
    compare(tmp_path, corpus(), mlqa_flags, nb_flags)


def test_keep_id_matches_nbstripout(tmp_path: Path) -> None:
    # Files whose ids nbformat would invent at random cannot be compared byte for byte.
    files = {
        k: v for k, v in corpus().items() if not k.startswith("v45-") or "crlf" in k
    }
    compare(tmp_path, files, ["--keep-id"], ["--keep-id"])
    text = (tmp_path / "mlqa" / "v45-crlf.ipynb").read_text(encoding="utf-8")
    assert '"id": "c001-5"' in text


def test_missing_and_duplicate_ids_are_repaired_then_renumbered(tmp_path: Path) -> None:
    missing = make_notebook(5, ids=False)
    duplicate = make_notebook(5)
    duplicate["cells"][2]["id"] = duplicate["cells"][1]["id"]
    files = {
        "missing.ipynb": serialise(missing, "nbformat"),
        "duplicate.ipynb": serialise(duplicate, "indent2"),
    }
    compare(tmp_path, files, [], [])
    with_keep_id = write_corpus(tmp_path / "keep", files)
    assert main([*map(str, with_keep_id), "--keep-id"]) == 1
    cells = json.loads(with_keep_id[0].read_text(encoding="utf-8"))["cells"]
    ids = [cell["id"] for cell in cells]
    assert len(set(ids)) == len(ids) and all(len(i) == 8 for i in ids)


# --------------------------------------------------------------------------- property


def _nbstripout_in_process(text: str, options: StripOptions) -> tuple[str, bool] | None:
    """nbstripout's own per-file function on an in-place stream."""
    from nbstripout._nbstripout import process_jupyter_notebook

    args = argparse.Namespace(
        keep_output=options.keep_output,
        keep_count=options.keep_count,
        keep_id=options.keep_id,
        drop_empty_cells=options.drop_empty_cells,
        drop_tagged_cells=" ".join(options.drop_tagged_cells),
        strip_init_cells=options.strip_init_cells,
        drop_output_type=list(options.drop_output_types),
        keep_output_type=list(options.keep_output_types),
        max_size=str(options.max_size),
        dry_run=False,
    )
    stream = io.StringIO(text, newline=None)
    try:
        changed = process_jupyter_notebook(
            stream, stream, args, list(DEFAULT_EXTRA_KEYS)
        )
    except Exception:  # nbstripout crashes on e.g. tags that are not a list
        return None
    return stream.getvalue(), changed


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
_lines_text = st.lists(_text, max_size=4).map(lambda parts: "\n".join(parts))
_meta_keys = st.sampled_from(
    [
        "collapsed",
        "scrolled",
        "ExecuteTime",
        "execution",
        "hidden",
        "tags",
        "custom",
        "jupyter",
    ]
)
_meta = st.dictionaries(
    _meta_keys, st.one_of(st.booleans(), _text, st.just({"a": 1})), max_size=3
).map(
    lambda meta: (
        {**meta, "tags": ["keep_output", "plot"]} if meta.get("tags") is True else meta
    )
)
_output = st.one_of(
    st.builds(
        lambda text, name: {"name": name, "output_type": "stream", "text": text},
        _lines_text,
        st.sampled_from(["stdout", "stderr"]),
    ),
    st.builds(
        lambda text, count: {
            "data": {"text/plain": text, "image/png": PNG[:40]},
            "execution_count": count,
            "metadata": {},
            "output_type": "execute_result",
        },
        _lines_text,
        st.one_of(st.none(), st.integers(1, 99)),
    ),
    st.builds(
        lambda e: {"ename": e, "evalue": e, "output_type": "error", "traceback": [e]},
        _text,
    ),
)


@st.composite
def random_notebooks(draw: st.DrawFn) -> tuple[str, StripOptions]:
    minor = draw(st.integers(0, 5))
    cells = []
    for index in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["code", "code", "markdown", "raw"]))
        source: Any = draw(_lines_text)
        if draw(st.booleans()):
            source = source.splitlines(True)
        cell: dict[str, Any] = {
            "cell_type": kind,
            "metadata": draw(_meta),
            "source": source,
        }
        if kind == "code":
            cell["outputs"] = draw(st.lists(_output, max_size=3))
            cell["execution_count"] = draw(st.one_of(st.none(), st.integers(1, 99)))
        if minor >= 5 or draw(st.integers(0, 9)) == 0:
            cell["id"] = draw(st.sampled_from([str(index), f"id-{index}", "abcd1234"]))
        cells.append(cell)
    metadata = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "widgets": st.just({"state": {}}),
                "kernelspec": st.just({"name": "python3"}),
                "title": _text,
            },
        )
    )
    nb = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": minor}
    layout = draw(st.sampled_from(["nbformat", "indent2", "compact", "crlf"]))
    options = StripOptions(
        keep_output=draw(st.sampled_from([None, None, True])),
        keep_count=draw(st.booleans()),
        drop_empty_cells=draw(st.booleans()),
        strip_init_cells=draw(st.booleans()),
        drop_tagged_cells=draw(st.sampled_from([(), ("plot",)])),
        keep_output_types=draw(st.sampled_from([(), ("stream",), ("error",)])),
        drop_output_types=draw(st.sampled_from([(), ("stream:stderr",)])),
        max_size=draw(st.sampled_from([0, 0, 30])),
    )
    return serialise(nb, layout).decode("utf-8"), options


@pytest.mark.filterwarnings("ignore::UserWarning")  # nbformat repairing ids
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_notebooks())
def test_random_notebooks_match_nbstripout(case: tuple[str, StripOptions]) -> None:
    text, options = case
    reference = _nbstripout_in_process(text, options)
    path = Path("random.ipynb")
    if reference is None:  # where nbstripout fails, mlqa reports an error
        with pytest.raises(InputError):
            try:
                strip_text(text, str(path), options)
            except InputError:
                raise
            except Exception as exc:  # strip_file turns these into InputError
                raise InputError(path, str(exc)) from exc
        return
    expected, expected_change = reference
    # nbstripout reads with universal newlines; a file it does not change keeps its bytes.
    if not expected_change:
        expected = text
    result = strip_text(text, str(path), options)
    assert result.changed == expected_change
    actual = result.output.decode("utf-8") if result.output is not None else text
    assert actual == expected


# --------------------------------------------------------------------------- command line


@pytest.fixture()
def dirty(tmp_path: Path) -> Path:
    path = tmp_path / "nb.ipynb"
    path.write_bytes(serialise(make_notebook(4), "nbformat"))
    return path


def test_verify_changes_nothing_and_exits_1(
    dirty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dirty.read_bytes()
    assert main(["--verify", str(dirty)]) == 1
    assert dirty.read_bytes() == before
    out = capsys.readouterr().out
    assert out.startswith(
        f"{dirty}:1:1: NB001 would strip 5 outputs, 4 execution counts"
    )
    assert main([str(dirty)]) == 1
    assert main(["--verify", str(dirty)]) == 0


def test_strip_is_idempotent_and_reports(
    dirty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(dirty)]) == 1
    assert "NB001 stripped" in capsys.readouterr().out
    once = dirty.read_bytes()
    assert main([str(dirty)]) == 0
    assert capsys.readouterr().out == ""
    assert dirty.read_bytes() == once


def test_write_is_atomic_and_keeps_mode(dirty: Path) -> None:
    os.chmod(dirty, 0o640)
    inode = dirty.stat().st_ino
    assert main([str(dirty)]) == 1
    assert stat.S_IMODE(dirty.stat().st_mode) == 0o640
    assert dirty.stat().st_ino != inode  # replaced, not rewritten in place
    assert sorted(p.name for p in dirty.parent.iterdir()) == ["nb.ipynb"]


def test_symlink_target_is_stripped_and_link_kept(dirty: Path) -> None:
    link = dirty.parent / "link.ipynb"
    link.symlink_to(dirty.name)
    assert main([str(link)]) == 1
    assert link.is_symlink()
    assert b'"output_type"' not in dirty.read_bytes()


def test_unwritable_directory_is_an_error_and_file_unchanged(dirty: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    before = dirty.read_bytes()
    os.chmod(dirty.parent, 0o555)
    try:
        assert main([str(dirty)]) == 2
    finally:
        os.chmod(dirty.parent, 0o755)
    assert dirty.read_bytes() == before


BROKEN = {
    "bad-json.ipynb": (b'{"cells": [}', "bad-json.ipynb:1:12: invalid JSON"),
    "empty.ipynb": (b"", "the file is empty"),
    "blank.ipynb": (b"  \n", "the file is empty"),
    "list.ipynb": (b"[1, 2]", "not a notebook: the top-level JSON value is an array"),
    "no-version.ipynb": (b'{"cells": [], "metadata": {}}', "no 'nbformat' version key"),
    "v3.ipynb": (
        b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}',
        "unsupported nbformat version 3",
    ),
    "v5.ipynb": (
        b'{"nbformat": 5, "cells": [], "metadata": {}}',
        "unsupported nbformat",
    ),
    "no-cells.ipynb": (
        b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
        "no 'cells'",
    ),
    "cells-object.ipynb": (
        b'{"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": {}}',
        "'cells' is an object, not an array",
    ),
    "no-metadata.ipynb": (
        b'{"nbformat": 4, "nbformat_minor": 2, "cells": []}',
        "'metadata'",
    ),
    "cell-no-type.ipynb": (
        b'{"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": [{"metadata": {}}]}',
        "cell 0 has no 'cell_type'",
    ),
    "code-no-outputs.ipynb": (
        b'{"nbformat": 4, "nbformat_minor": 2, "metadata": {},'
        b' "cells": [{"cell_type": "code", "metadata": {}, "source": ""}]}',
        "cell 0 is a code cell without an 'outputs' array",
    ),
    "latin1.ipynb": (
        b'{"nbformat": 4, "nbformat_minor": 2, "metadata": {"t": "caf\xe9"}, "cells": []}',
        "latin1.ipynb:1:60: not valid UTF-8 (byte 0xe9)",
    ),
    "contradiction.ipynb": (
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 4,
                "metadata": {},
                "cells": [
                    {
                        "cell_type": "code",
                        "metadata": {"keep_output": False, "tags": ["keep_output"]},
                        "outputs": [],
                        "execution_count": 1,
                        "source": "",
                    }
                ],
            }
        ).encode(),
        "contradicts tags",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_input_is_a_clear_error_and_untouched(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data, message = BROKEN[name]
    path = tmp_path / name
    path.write_bytes(data)
    for flags in ([], ["--verify"]):
        assert main([*flags, str(path)]) == 2
        err = capsys.readouterr().err
        assert message in err
        assert err.startswith(str(path)) and err.count("\n") == 1
        assert "Traceback" not in err
        assert path.read_bytes() == data


def test_missing_file_and_directory_named_like_a_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.ipynb"
    assert main([str(missing)]) == 2
    assert f"{missing}: no such file or directory" in capsys.readouterr().err
    folder = tmp_path / "folder.ipynb"
    folder.mkdir()
    (folder / "inner.ipynb").write_bytes(serialise(make_notebook(3), "nbformat"))
    assert main([str(folder)]) == 1  # a directory is searched for notebooks
    assert "inner.ipynb:1:1: NB001 stripped" in capsys.readouterr().out


def test_good_and_bad_files_in_one_run(
    tmp_path: Path, dirty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_bytes(b"{oops")
    other = tmp_path / "other.ipynb"
    other.write_bytes(serialise(make_notebook(5), "crlf"))
    assert main([str(bad), str(dirty), str(other)]) == 2
    captured = capsys.readouterr()
    assert "bad.ipynb:1:2: invalid JSON" in captured.err
    assert captured.out.count("NB001 stripped") == 2
    assert bad.read_bytes() == b"{oops"
    assert (
        b'"output_type"' not in dirty.read_bytes()
        and b'"output_type"' not in other.read_bytes()
    )


def test_bom_is_read_and_written_without(tmp_path: Path) -> None:
    data = serialise(make_notebook(4), "nbformat")
    path = tmp_path / "bom.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + data)
    reference = tmp_path / "plain.ipynb"
    reference.write_bytes(data)
    assert main([str(path), str(reference)]) == 1
    assert path.read_bytes() == reference.read_bytes()


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "no notebook or directory given" in capsys.readouterr().err
    assert main(["--extra-keys", "foo", str(tmp_path)]) == 2
    assert "invalid metadata key 'foo'" in capsys.readouterr().err
    assert main(["--max-size", "12X", str(tmp_path)]) == 2
    assert "--max-size='12X' is not a size" in capsys.readouterr().err
    assert main(["--no-such-flag", str(tmp_path)]) == 2
    assert main(["--help"]) == 0
    assert "--verify" in capsys.readouterr().out


def test_directories_skip_checkpoints_and_respect_exclude(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = serialise(make_notebook(4), "nbformat")
    for relative in (
        "a.ipynb",
        "sub/b.ipynb",
        ".ipynb_checkpoints/a-checkpoint.ipynb",
        "old/c.ipynb",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    (tmp_path / "pyproject.toml").write_text('[tool.mlqa]\nexclude = ["old/**"]\n')
    assert main(["--verify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "a.ipynb" in out and "sub/b.ipynb" in out
    assert "checkpoint" not in out and "old" not in out


def test_config_table_sets_defaults_and_flags_override(
    tmp_path: Path, dirty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.mlqa.notebooks]\nkeep-output = true\nextra-keys = ['metadata.kernelspec']\n"
    )
    assert main([str(dirty)]) == 1
    kept = json.loads(dirty.read_text(encoding="utf-8"))
    assert kept["cells"][2]["outputs"] and "kernelspec" not in kept["metadata"]
    assert kept["cells"][1]["execution_count"] is None
    assert main(["--no-keep-output", str(dirty)]) == 1
    assert not json.loads(dirty.read_text(encoding="utf-8"))["cells"][2]["outputs"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("keep-outputs = true", "[tool.mlqa.notebooks] unknown key 'keep-outputs'"),
        ("keep-output = 'yes'", "keep-output must be true or false"),
        ("extra-keys = 3", "extra-keys must be a list of strings"),
        ("extra-keys = ['kernelspec']", "invalid metadata key 'kernelspec'"),
        ("max-size = 'big'", "max-size='big' is not a size"),
    ],
)
def test_bad_config_is_a_one_line_error(
    tmp_path: Path,
    dirty: Path,
    table: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.mlqa.notebooks]\n{table}\n")
    before = dirty.read_bytes()
    assert main([str(dirty)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert dirty.read_bytes() == before


def test_json_format(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--verify", "--format", "json", str(dirty)]) == 1
    (finding,) = json.loads(capsys.readouterr().out)
    assert finding["path"] == str(dirty) and finding["code"] == "NB001"


def test_through_mlqa_cli(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["strip", "--verify", str(dirty)]) == 1
    assert cli.main(["strip", str(dirty)]) == 1
    assert cli.main(["strip", "--verify", str(dirty)]) == 0


def test_real_subprocess(tmp_path: Path, dirty: Path) -> None:
    mlqa = shutil.which("mlqa", path=str(Path(sys.executable).parent))
    command = [mlqa] if mlqa else [sys.executable, "-m", "mlqa"]
    copy_path = tmp_path / "copy.ipynb"
    shutil.copyfile(dirty, copy_path)
    proc = subprocess.run(
        [*command, "strip", str(dirty)], capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stderr
    run_nbstripout([copy_path], [], tmp_path)
    assert dirty.read_bytes() == copy_path.read_bytes()
    bad = tmp_path / "bad.ipynb"
    bad.write_text("[]")
    proc = subprocess.run([*command, "strip", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert (
        proc.stderr == f"{bad}: not a notebook: the top-level JSON value is an array\n"
    )


@pytest.mark.parametrize("jobs", ["2", "0"])
def test_jobs_give_the_same_results_in_order(
    tmp_path: Path, jobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = corpus()
    files["bad.ipynb"] = b"[]"
    serial = write_corpus(tmp_path / "serial", files)
    parallel = write_corpus(tmp_path / "parallel", files)
    assert main(["--jobs", "1", *map(str, serial)]) == 2
    first = capsys.readouterr()
    assert main(["--jobs", jobs, *map(str, parallel)]) == 2
    second = capsys.readouterr()
    assert second.out == first.out.replace(
        str(tmp_path / "serial"), str(tmp_path / "parallel")
    )
    assert second.err == first.err.replace(
        str(tmp_path / "serial"), str(tmp_path / "parallel")
    )
    for one, two in zip(serial, parallel, strict=True):
        assert one.read_bytes() == two.read_bytes()


def test_docs_config_example_is_valid(tmp_path: Path) -> None:
    import re

    import tomllib

    page = Path(__file__).resolve().parents[1] / "docs" / "notebooks.md"
    section = (
        page.read_text("utf-8")
        .split("<!-- section: strip -->")[1]
        .split("<!-- /section: strip -->")[0]
    )
    (block,) = re.findall(r"```toml\n(.*?)```", section, re.S)
    table = tomllib.loads(block)["tool"]["mlqa"]["notebooks"]
    settings = notebook_options.validate(table, None)
    assert set(settings) <= set(notebook_options.CONFIG_KEYS)
    (tmp_path / "pyproject.toml").write_text(block)
    path = tmp_path / "nb.ipynb"
    path.write_bytes(serialise(make_notebook(4), "nbformat"))
    assert main([str(path)]) == 1
    assert "celltoolbar" not in path.read_text(encoding="utf-8")
