"""``mlqa types``: mypy, in process, with mlqa's preset and a persistent cache.

With no ``[tool.mypy]`` in the project, mlqa's preset applies: missing
third-party packages are ``Any`` (pre-commit's isolated environment has no
torch), only the given files report errors, and idiomatic PyTorch code passes.
The cache lives in the project's ``.mypy_cache`` so a re-run is fast. Run the
``mlqa-types-system`` hook (``python -m mlqa types`` in the project's own
environment) to check against the real torch types; where torch is missing and
the files import it, ``mlqa types`` says so once on stderr.

The preset enables :mod:`mlqa.mypy_plugin` (torch modules, ``torch.compile``,
DDP). This runner also reports each problem once: the per-parameter errors of
one ``f(**config)`` expansion become one finding, and assignments that only
fail against torch's too-narrow ``Module.__setattr__`` annotation (any value
may be set on a module) are dropped.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mlqa.config import Config, line_of
from mlqa.diagnostics import Finding, InputError
from mlqa.files import display
from mlqa.runner import Result
from mlqa.tools._common import preset, run_command
from mlqa.tools.mypy_guesses import drop_guesses
from mlqa.tools.mypy_untyped import project_asks

NAME = "mypy"
_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<level>error|note|warning): "
    r"(?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_EXPANSION = re.compile(
    r'^(?P<head>Argument \S+ to "[^"]*" has incompatible type "\*\*[^"]*"); '
    r'expected (?P<expected>".*")$'
)
# torch annotates ``Module.__setattr__(name, value: Tensor | Module)``, but any
# value may be set on a module (``model.require_backward_grad_sync = True``).
_MODULE_SETATTR = 'variable has type "Tensor | Module")'
# ``nn.Module`` calls ``forward`` through ``__call__(*args, **kwargs)``: a
# subclass of a torch module (``class Model(nn.Transformer)``) may take other
# arguments; callers see the subclass's own signature.
_TORCH_FORWARD = re.compile(
    r'^Signature of "forward" incompatible with supertype "torch\.[^"]*"$'
)
# torch types the items of ``ModuleList``/``Sequential`` as ``nn.Module``, so
# unpacking one (``for block1, block2, attn in self.downs``: a list of lists,
# every U-Net's stages) looks like iterating a plain module; the items are
# containers whenever the loop runs at all.
_MODULE_ITERATED = 'Module has no attribute "__iter__"; maybe "__dir__"? (not iterable)'
_IMPORTS_TORCH = re.compile(rb"^\s*(?:import|from)\s+torch\b", re.MULTILINE)
TORCH_MISSING = (
    "mlqa types: torch is not installed in this environment, so torch types are "
    "Any here; run the mlqa-types-system hook (mlqa types in the project's "
    "environment) to check them"
)
_CONFIG_ERROR = re.compile(
    r"^(?P<path>.+?): \[(?P<section>mypy[^\]]*)\]: (?P<message>.*)$"
)


def config_args(config: Config) -> list[str]:
    """Return the options that choose mypy's config and cache.

    Args:
        config: The project config.

    Returns:
        ``--config-file`` for the project's own config or mlqa's preset, and
        ``--cache-dir`` in the project root unless the project sets one.
    """
    own = config.tool_config("mypy")
    args = ["--config-file", os.fspath(own or preset("mypy.ini"))]
    mypy_table = (
        config.raw.get("tool", {}).get("mypy", {}) if own == config.pyproject else {}
    )
    if own is None or "cache_dir" not in mypy_table:
        args += ["--cache-dir", os.fspath(config.root / ".mypy_cache")]
    return args


def in_scope(files: list[str], config: Config) -> list[str]:
    """Keep the files inside the project's ``[tool.mypy] files``, when it sets them.

    A whole-repo run (``mlqa run``) would hand mypy every file; a project
    that types only its package (``files = ["pkg"]``) means mypy to look
    there only. Files named explicitly (pre-commit) are checked as given, as
    mypy itself does.

    Args:
        files: The candidate files.
        config: The project config.

    Returns:
        The files inside the configured scope (all of them when none is set).
    """
    table = (
        config.raw.get("tool", {}).get("mypy", {})
        if config.has_tool_config("mypy")
        else {}
    )
    scope = table.get("files")
    if isinstance(scope, str):
        scope = [part.strip() for part in scope.split(",")]
    if not isinstance(scope, list) or not scope:
        return files
    roots = [str((config.root / str(entry)).resolve()) for entry in scope]
    return [
        f
        for f in files
        if any(
            (full := str(Path(f).resolve())) == root or full.startswith(root + os.sep)
            for root in roots
        )
    ]


def collapse(findings: list[Finding]) -> list[Finding]:
    """Report each problem once.

    mypy reports ``f(**config)`` once per parameter type the dict's values do
    not match (``expected "int"``, ``expected "float"``...): one finding per
    expansion lists every expected type. Assignments that fail only against
    torch's ``Module.__setattr__`` annotation, a ``forward`` whose
    signature differs from the torch module it subclasses, and iterating an
    item of a list of modules (typed ``nn.Module``) are dropped.

    Args:
        findings: mypy's findings, in its order.

    Returns:
        The findings with those collapsed or dropped, otherwise in order.
    """
    kept: list[Finding] = []
    expansions: dict[tuple[str, int, str], int] = {}
    for finding in findings:
        if finding.code == "assignment" and finding.message.endswith(_MODULE_SETATTR):
            continue
        if finding.code == "override" and _TORCH_FORWARD.match(finding.message):
            continue
        if finding.message == _MODULE_ITERATED:
            continue
        match = (
            _EXPANSION.match(finding.message) if finding.code == "arg-type" else None
        )
        if match is None:
            kept.append(finding)
            continue
        where = (finding.path, finding.line, match["head"])
        if where not in expansions:
            expansions[where] = len(kept)
            kept.append(finding)
            continue
        first = kept[expansions[where]]
        message = f"{first.message}, {match['expected']}"
        kept[expansions[where]] = first._replace(message=message)
    return kept


def torch_missing(files: list[Path]) -> bool:
    """Tell whether the files import torch where torch is not installed.

    Args:
        files: The files to check.

    Returns:
        True when torch cannot be imported here and one of the files
        imports it (its types are then all ``Any``).
    """
    if importlib.util.find_spec("torch") is not None:
        return False
    for path in files:
        try:
            if _IMPORTS_TORCH.search(path.read_bytes()):
                return True
        except OSError:
            continue
    return False


#: What mypy says when two files map to one module name (scripts in folders).
_DUPLICATE = ": error: Duplicate module named "


@contextmanager
def _in(root: Path) -> Iterator[None]:
    """Work in root (mypy reads its config and relative paths from there)."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(cwd)


def _api_run(args: list[str], root: Path) -> tuple[str, str, int]:
    """Run mypy in process from the project root.

    Args:
        args: mypy's command line.
        root: The project root (mypy reads its config and paths from there).

    Returns:
        mypy's stdout, stderr and exit status.
    """
    from mypy import api

    threshold = gc.get_threshold()
    gc.unfreeze()  # a previous run's graph may be collected again
    try:
        with _in(root):
            return api.run(args)
    finally:
        # mypy keeps its whole module graph (millions of objects over torch)
        # referenced from a module global until the next run, and leaves gc's
        # threshold raised. Freezing moves those objects out of gc's reach, so
        # the collections during interpreter exit no longer walk them: a cold
        # run over torch ended ~10 s after its last finding before this.
        gc.freeze()
        gc.set_threshold(*threshold)


def module_groups(args: list[str], root: Path) -> list[list[str]]:
    """Split the files into as few groups as can each be one mypy run.

    mypy refuses a run in which two files map to the same module name, as
    the scripts of a tutorial or examples repository do (``main.py``,
    ``previous_chapters.py`` in many folders). Each group holds whole
    folders (mypy's package bases) and at most one file per module name,
    named as mypy itself names them (its own ``process_options``, the one
    place mlqa calls it).

    Args:
        args: mypy's command line, the files last.
        root: The project root.

    Returns:
        The files, in groups (none when mypy cannot name them).
    """
    from mypy.main import process_options

    try:
        with _in(root):
            sources, _ = process_options(args, stdout=sys.stderr, stderr=sys.stderr)
    except SystemExit:  # pragma: no cover - the same args just ran
        return []
    # A folder of scripts goes whole into one group: `import model` in
    # super_resolution/main.py must find super_resolution/model.py, not the
    # model.py of another folder checked in the same run.
    folders: dict[str | None, dict[str, str]] = {}
    for source in sources:
        if source.path is not None:
            folders.setdefault(source.base_dir, {})[source.module] = source.path
    names: list[set[str]] = []
    groups: list[list[str]] = []
    for modules in folders.values():
        for taken, group in zip(names, groups, strict=True):
            if taken.isdisjoint(modules):
                taken.update(modules)
                group.extend(modules.values())
                break
        else:
            names.append(set(modules))
            groups.append(list(modules.values()))
    return groups


def _run_in_groups(
    args: list[str], groups: list[list[str]], root: Path
) -> tuple[str, str, int]:
    """Run mypy once per group of files whose module names are distinct.

    Args:
        args: mypy's options (no files).
        groups: The files, grouped by :func:`module_groups`.
        root: The project root.

    Returns:
        The runs' stdout and stderr joined (each stderr line once), and the
        highest exit status.
    """
    outs: list[str] = []
    errs: dict[str, None] = {}
    status = 0
    for group in groups:
        stdout, stderr, code = _api_run([*args, *group], root)
        outs.append(stdout)
        errs.update(dict.fromkeys(stderr.splitlines()))
        status = max(status, code)
    return "".join(outs), "\n".join(errs), status


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Type-check files with mypy.

    Args:
        files: The files to check.
        config: The project config.
        fix: Unused: mypy does not rewrite files.

    Returns:
        One finding per problem mypy reports (see :func:`collapse`); syntax
        errors and unreadable files as input errors.
    """
    del fix
    if torch_missing(files):
        print(TORCH_MISSING, file=sys.stderr)

    result = Result(NAME, files=len(files))
    args = [
        *config_args(config),
        "--show-column-numbers",
        "--show-error-codes",
        "--no-error-summary",
        "--no-pretty",
        "--hide-error-context",
        "--no-color-output",
        "--show-absolute-path",
    ]
    paths = [os.path.abspath(f) for f in files]
    stdout, stderr, status = _api_run([*args, *paths], config.root)
    if status == 2 and _DUPLICATE in stdout:
        groups = module_groups([*args, *paths], config.root)
        if len(groups) > 1:  # otherwise mypy's own error stands
            stdout, stderr, status = _run_in_groups(args, groups, config.root)
    for raw in stdout.splitlines():
        match = _LINE.match(raw)
        if match is None or match["level"] != "error":
            continue
        path = display(Path(match["path"]))
        line, col = int(match["line"]), int(match["col"] or 1)
        code = match["code"] or "misc"
        if code == "syntax" or "invalid syntax" in match["message"]:
            if all(err.path != path for err in result.errors):  # one line per file
                message = f"syntax error: {match['message']}"
                result.errors.append(InputError(path, message, line, col))
        else:
            result.findings.append(Finding(path, line, col, code, match["message"]))
    for raw in stderr.splitlines():  # mypy warns about bad config, then goes on
        match = _CONFIG_ERROR.match(raw)
        if match:
            where = Path(match["path"])
            config_line: int | None = None
            if where.name == "pyproject.toml" and where.is_file():
                text = match["message"].removeprefix("Unrecognized option: ")
                key = text.split(":", 1)[0].split(" = ")[0].strip()
                config_line = line_of(
                    where.read_text(errors="replace"), key, "tool.mypy"
                )
            message = f"mypy config {match['section']}: {match['message']}"
            result.errors.append(InputError(display(where), message, config_line))
    if status == 2 and not result.errors:
        errors = [line for line in stdout.splitlines() if ": error: " in line]
        message = (
            errors[0]
            if errors
            else (stderr.strip() or stdout.strip() or "mypy failed").splitlines()[-1]
        )
        result.errors.append(
            InputError(display(config.pyproject or config.root), message)
        )
    result.findings = [
        finding._replace(code=f"mypy[{finding.code}]")  # a code, not a word
        for finding in collapse(
            drop_guesses(
                result.findings,
                optional_uses=config.get("report-optional-uses"),
                untyped_guesses=config.get("report-untyped-guesses")
                or project_asks(config),
            )
        )
    ]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa types``.

    Args:
        argv: Command arguments: ``[--format FMT] [PATHS...]``.

    Returns:
        0 clean, 1 type errors, 2 unreadable input or bad config.
    """
    return run_command(
        "types",
        argv,
        prog="mlqa types",
        description="Type-check with mypy.",
        fixer=False,
    )
