"""``mlqa check``: the ML rules (MLQ1xx hyperparameters, MLQ2xx devices) over files.

A thin layer over :mod:`mlqa.rules.engine`: find the files (``.py`` and the
code cells of ``.ipynb``), skip the excluded ones, reuse cached results, check
the rest (in a process pool when there are many), drop suppressed findings and
print them through :mod:`mlqa.diagnostics`. Unreadable or unparsable files are
reported on stderr as ``path:line:col: message`` (exit 2) while every other
file is still checked; files are never written.

Notebook findings name the notebook and carry ``[cell N, line M]`` in the
message; their line is the line of the ``.ipynb`` file that holds that source
line (as Jupyter and nbformat lay notebooks out), so an editor or a GitHub
annotation lands on the offending code.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from mlqa import __version__
from mlqa.cache import ResultCache, digest
from mlqa.config import Config, load
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    FORMATS,
    Finding,
    InputError,
    decode_source,
    emit,
)
from mlqa.files import SKIP_DIRS
from mlqa.rules.engine import Options, analyze_source, analyze_tree, parse
from mlqa.rules.registry import all_rules, expand

#: Below this many files to check, a process pool costs more than it saves.
PARALLEL_MIN_FILES = 300
#: Nor does it pay on fewer CPUs: on 2 shared cores, 680 torch files took
#: 2.1-2.4 s serially and 2.4-4.2 s with a pool (benchmarks/bench_check.py).
PARALLEL_MIN_CPUS = 4


def _workers(files: int) -> int:
    """How many worker processes to use (1: check in this process).

    ``MLQA_JOBS=N`` overrides the choice.
    """
    setting = os.environ.get("MLQA_JOBS", "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    cpus = os.cpu_count() or 1
    if files < PARALLEL_MIN_FILES or cpus < PARALLEL_MIN_CPUS:
        return 1
    return min(cpus, 8)


# A result as cached: (findings [(line, col, code, message)], errors [(line, col, message)]).
Result = tuple[
    list[tuple[int, int, str, str]], list[tuple[int | None, int | None, str]]
]


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """Compile a glob: ``**`` spans directories, ``*`` does not; no ``/`` = any depth."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    anywhere = "/" not in pattern.rstrip("/")
    pattern = pattern.strip("/")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    prefix = "(?:.*/)?" if anywhere else ""
    return re.compile(prefix + "".join(out) + r"(?:/.*)?\Z")


def matches(rel: str, patterns: Iterable[str]) -> bool:
    """Tell whether a root-relative path matches any glob.

    Args:
        rel: A posix path relative to the project root.
        patterns: Globs as in ``exclude`` and ``config-paths``.

    Returns:
        True if one matches the path (or a directory above it).
    """
    return any(_glob(p).match(rel) for p in patterns)


def is_test(rel: str) -> bool:
    """Tell whether a path is a test (``test_*.py``, ``*_test.py``, ``conftest.py``, ``tests/``).

    Args:
        rel: A posix path.

    Returns:
        True for test files and anything under a ``tests``, ``test``,
        ``testing`` or ``test_*`` directory.
    """
    parts = rel.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0]
    return (
        stem.startswith("test_")
        or stem.endswith("_test")
        or name == "conftest.py"
        or any(
            p in ("tests", "test", "testing") or p.startswith("test_")
            for p in parts[:-1]
        )
    )


def _syntax(exc: SyntaxError) -> tuple[int | None, int | None, str]:
    return exc.lineno, exc.offset, f"syntax error: {exc.msg}"


def _analyze_notebook(text: str, path: str, options: Options) -> Result:
    from mlqa.nbcells import Cell, code_cells, combine

    errors: list[tuple[int | None, int | None, str]] = []
    good = []
    for cell in code_cells(text, path):
        try:
            parse(cell.source, path, top_level_await=True)
        except SyntaxError as exc:
            line = exc.lineno or 1
            errors.append(
                (
                    cell.file_line(line),
                    exc.offset,
                    f"[cell {cell.number}, line {line}] {_syntax(exc)[2]}",
                )
            )
            continue
        good.append(cell)
    combined = combine(good)
    try:
        trees = [(parse(combined.source, path, top_level_await=True), combined)]
    except SyntaxError:  # e.g. ``from __future__`` in a later cell: check cells alone
        trees = []
        for cell in good:
            one = combine([cell])
            trees.append((parse(one.source, path, top_level_await=True), one))
    findings = []
    for tree, joined in trees:
        origin = joined.origin

        def where(
            match: re.Match[str], origin: tuple[tuple[Cell, int], ...] = origin
        ) -> str:
            number = int(match.group(1))
            if 0 < number <= len(origin):
                cell, line = origin[number - 1]
                return f"(cell {cell.number}, line {line})"
            return match.group(0)

        for line, col, code, message in analyze_tree(tree, joined.source, options):
            cell, cell_line = origin[line - 1]
            message = re.sub(r"\(line (\d+)\)", where, message)
            findings.append(
                (
                    cell.file_line(cell_line),
                    col,
                    code,
                    f"[cell {cell.number}, line {cell_line}] {message}",
                )
            )
    return findings, errors


def analyze(data: bytes, path: str, notebook: bool, options: Options) -> Result:
    """Check one file's bytes; every failure becomes an error entry, never an exception.

    Args:
        data: The file's contents.
        path: The path shown in messages.
        notebook: Whether it is a ``.ipynb`` notebook.
        options: What to check.

    Returns:
        The findings and the errors.
    """
    try:
        text = decode_source(data, path)
        if notebook:
            return _analyze_notebook(text, path, options)
        return analyze_source(text, path, options), []
    except InputError as exc:
        return [], [(exc.line, exc.column, exc.message)]
    except SyntaxError as exc:
        return [], [_syntax(exc)]
    except (RecursionError, MemoryError):
        return [], [(1, 1, "too deeply nested to analyse")]
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        return [], [(1, 1, f"cannot parse: {exc}")]


def _analyze_task(task: tuple[bytes, str, bool, Options]) -> Result:
    # A bug in a rule must not become a traceback for the user: one line, exit 2.
    try:
        return analyze(*task)
    except Exception as exc:  # noqa: BLE001
        name = type(exc).__name__
        return [], [
            (1, 1, f"internal error in mlqa check ({name}: {exc}); please report it")
        ]


class _Target:
    __slots__ = ("display", "absolute", "rel", "notebook", "options", "kind")

    def __init__(self, display: str, absolute: Path, rel: str, notebook: bool) -> None:
        self.display = display
        self.absolute = absolute
        self.rel = rel
        self.notebook = notebook
        self.options = Options()
        self.kind = ""


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def gitignore_patterns(root: Path) -> list[str]:
    """Read the project root's ``.gitignore`` as globs (negations are not supported).

    Args:
        root: The project root.

    Returns:
        The patterns; empty when there is no readable ``.gitignore``.
    """
    try:
        text = (root / ".gitignore").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "!"))
    ]


def discover(paths: Sequence[str], config: Config) -> tuple[list[_Target], list[str]]:
    """Expand the command-line paths into files to check.

    Args:
        paths: Files and directories; directories are walked for ``.py`` and
            ``.ipynb`` files, skipping VCS, virtual-env and cache directories
            and what the root ``.gitignore`` ignores (unless the directory
            named is itself ignored).
        config: The project config (``exclude`` applies to named files too,
            as pre-commit passes every staged file by name).

    Returns:
        The files, and one-line errors for paths that do not exist.
    """
    root = config.root
    exclude = list(config.get("exclude"))
    all_ignored = gitignore_patterns(root)
    targets: list[_Target] = []
    errors: list[str] = []
    seen: set[Path] = set()

    def add(display: str, absolute: Path) -> None:
        if absolute in seen:
            return
        rel = _relative(absolute, root)
        if exclude and matches(rel, exclude):
            return
        seen.add(absolute)
        targets.append(_Target(display, absolute, rel, display.endswith(".ipynb")))

    for arg in paths:
        given = Path(arg)
        absolute = (
            given.resolve() if given.is_absolute() else (Path.cwd() / given).resolve()
        )
        if absolute.is_file():
            add(arg, absolute)
            continue
        if not absolute.is_dir():
            errors.append(f"{arg}: no such file or directory")
            continue
        # A directory named on the command line is checked even if .gitignore
        # ignores it (its contents are then walked without .gitignore).
        ignored = [] if matches(_relative(absolute, root), all_ignored) else all_ignored
        for directory, dirnames, filenames in os.walk(absolute):
            here = Path(directory)
            keep = []
            for name in sorted(dirnames):
                sub = here / name
                if name in SKIP_DIRS or (sub / "pyvenv.cfg").exists():
                    continue
                rel = _relative(sub, root)
                if (exclude and matches(rel, exclude)) or (
                    ignored and matches(rel, ignored)
                ):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if name.endswith((".py", ".ipynb")):
                    full = here / name
                    if ignored and matches(_relative(full, root), ignored):
                        continue
                    shown = os.path.normpath(
                        os.path.join(arg, os.path.relpath(full, absolute))
                    )
                    add(shown, full)
    return targets, errors


def _codes(values: Sequence[str] | None) -> list[str]:
    return [c for v in values or () for c in re.split(r"[\s,]+", v) if c]


USAGE = (
    "usage: mlqa check [-h] [--select CODES] [--ignore CODES]\n"
    "                  [--format {text,json,github,sarif}] [--no-cache]\n"
    "                  [--exit-zero] [--statistics] [PATH ...]"
)
HELP = f"""{USAGE}

Check Python files and notebooks for hardcoded hyperparameters (MLQ1xx) and
hardcoded devices (MLQ2xx).

positional arguments:
  PATH              files or directories (default: .)

options:
  -h, --help        show this help message and exit
  --select CODES    only these codes or prefixes (MLQ1,MLQ201); repeatable
  --ignore CODES    skip these codes or prefixes; repeatable
  --format FORMAT   output format: text, json, github or sarif (default: text)
  --no-cache        do not read or write the cache
  --exit-zero       exit 0 even with findings
  --statistics      print counts per rule instead of the findings

Run 'mlqa rule' to list the rules, 'mlqa rule CODE' for one rule's docs."""


class Arguments(NamedTuple):
    """The parsed command line of ``mlqa check``.

    Attributes:
        paths: Files and directories.
        select: ``--select`` values as given.
        ignore: ``--ignore`` values as given.
        format: The output format.
        no_cache: Bypass the cache.
        exit_zero: Exit 0 even with findings.
        statistics: Print counts per rule.
    """

    paths: list[str]
    select: list[str]
    ignore: list[str]
    format: str = "text"
    no_cache: bool = False
    exit_zero: bool = False
    statistics: bool = False


def parse_arguments(argv: Sequence[str]) -> Arguments:
    """Parse the command line (a small parser: argparse costs start-up time).

    Args:
        argv: The arguments after ``mlqa check``.

    Returns:
        The arguments.

    Raises:
        ValueError: With a one-line message for a usage error.
    """
    paths: list[str] = []
    values: dict[str, list[str]] = {"--select": [], "--ignore": [], "--format": []}
    flags: set[str] = set()
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == "--":
            paths += argv[index:]
            break
        if not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if name in values:
            if not eq:
                if index >= len(argv):
                    raise ValueError(f"argument {name}: expected one argument")
                value = argv[index]
                index += 1
            values[name].append(value)
        elif name in ("--no-cache", "--exit-zero", "--statistics") and not eq:
            flags.add(name)
        else:
            raise ValueError(f"unrecognized arguments: {arg}")
    fmt = values["--format"][-1] if values["--format"] else "text"
    if fmt not in FORMATS:
        choices = ", ".join(repr(f) for f in FORMATS)
        raise ValueError(
            f"argument --format: invalid choice: {fmt!r} (choose from {choices})"
        )
    return Arguments(
        paths,
        values["--select"],
        values["--ignore"],
        fmt,
        "--no-cache" in flags,
        "--exit-zero" in flags,
        "--statistics" in flags,
    )


def _cache_key(names: frozenset[str]) -> str:
    here = Path(__file__).parent
    stamps = []
    for source in sorted(
        [*here.glob("rules/*.py"), here / "nbcells.py", here / "check.py"]
    ):
        try:
            stat = source.stat()
        except OSError:
            continue
        stamps.append(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join([__version__, *stamps, *sorted(names)])


def _run(
    targets: list[_Target], cache: ResultCache | None
) -> tuple[dict[int, Result], list[str]]:
    results: dict[int, Result] = {}
    errors: list[str] = []
    todo: list[tuple[int, tuple[bytes, str, bool, Options], str]] = []
    for index, target in enumerate(targets):
        try:
            data = target.absolute.read_bytes()
        except OSError as exc:
            errors.append(f"{target.display}: cannot read file: {exc.strerror or exc}")
            continue
        content_hash = digest(data) if cache is not None else ""
        if cache is not None:
            hit = cache.get(target.rel, content_hash, target.kind)
            if hit is not None:
                results[index] = (
                    [(f[0], f[1], f[2], f[3]) for f in hit[0]],
                    [(e[0], e[1], e[2]) for e in hit[1]],
                )
                continue
        todo.append(
            (
                index,
                (data, target.display, target.notebook, target.options),
                content_hash,
            )
        )
    computed: list[Result] = []
    # Syntax trees hold no reference cycles: reference counting frees them, and
    # the cyclic collector would only rescan millions of live nodes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        workers = _workers(len(todo))
        if workers > 1 and len(todo) > 1:
            computed = _parallel([task for _, task, _ in todo], workers)
        if not computed:
            computed = [_analyze_task(task) for _, task, _ in todo]
    finally:
        if collecting:
            gc.enable()
    for (index, _, content_hash), result in zip(todo, computed, strict=True):
        results[index] = result
        if cache is not None:
            target = targets[index]
            cache.put(target.rel, content_hash, target.kind, [result[0], result[1]])
    return results, errors


def _parallel(
    tasks: list[tuple[bytes, str, bool, Options]], workers: int
) -> list[Result]:
    from concurrent.futures import ProcessPoolExecutor

    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(
                    _analyze_task, tasks, chunksize=max(1, len(tasks) // (workers * 4))
                )
            )
    except (OSError, RuntimeError, ImportError):  # no /dev/shm, no fork: stay serial
        return []


def _statistics(findings: list[Finding], fmt: str) -> str:
    import json

    rules = all_rules()
    counts = Counter(f.code for f in findings)
    rows = [
        (code, counts[code], rules[code].name if code in rules else "")
        for code in sorted(counts)
    ]
    if fmt == "json":
        return (
            json.dumps(
                [{"code": c, "name": n, "count": k} for c, k, n in rows], indent=2
            )
            + "\n"
        )
    return "".join(f"{count:>5}  {code}  {name}\n" for code, count, name in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa check``.

    Args:
        argv: The arguments after ``mlqa check``; ``sys.argv[2:]`` if None.

    Returns:
        0 clean, 1 findings, 2 usage error or unreadable/unparsable input.
    """
    argv = list(sys.argv[2:] if argv is None else argv)
    options = argv[: argv.index("--")] if "--" in argv else argv
    if "-h" in options or "--help" in options:
        print(HELP)
        return EXIT_CLEAN
    try:
        args = parse_arguments(argv)
    except ValueError as exc:
        print(f"{USAGE}\nmlqa check: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    paths = args.paths or ["."]
    try:
        config = load(start=paths[0] if Path(paths[0]).exists() else None)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    rules = all_rules()
    codes = list(rules)
    try:
        selected = expand(
            _codes(args.select) or list(config.get("select")) or ["ALL"], codes
        )
        selected -= expand([*config.get("ignore"), *_codes(args.ignore)], codes)
        per_file = {
            glob: expand(list(values), codes)
            for glob, values in dict(config.get("per-file-ignores")).items()
        }
    except ValueError as exc:
        print(f"mlqa check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    names = frozenset(config.get("hyperparameter-names")) | _default_names()
    config_paths = list(config.get("config-paths"))
    targets, errors = discover(paths, config)
    for target in targets:
        ignored = set().union(
            *(v for g, v in per_file.items() if matches(target.rel, [g]))
        )
        active = selected - ignored
        # Tests and config files are where literal values belong.
        exempt = is_test(target.rel) or matches(target.rel, config_paths)
        hp = not exempt and any(c.startswith("MLQ1") for c in active)
        dev = not exempt and any(c.startswith("MLQ2") for c in active)
        target.options = Options(names, hp, dev)
        target.kind = f"{int(hp)}{int(dev)}"
    use_cache = bool(config.get("cache")) and not args.no_cache
    cache = ResultCache(config.root, _cache_key(names)) if use_cache else None
    results, read_errors = _run(targets, cache)
    errors += read_errors
    if cache is not None:
        cache.save()
    findings: list[Finding] = []
    problems: list[tuple[str, int, int, str]] = []
    for index, (found, failed) in sorted(results.items()):
        target = targets[index]
        ignored = set().union(
            *(v for g, v in per_file.items() if matches(target.rel, [g]))
        )
        findings += [
            Finding(target.display, line, col, code, message)
            for line, col, code, message in found
            if code in selected and code not in ignored
        ]
        problems += [
            (target.display, line or 0, col or 0, message)
            for line, col, message in failed
        ]
    for display, line, col, message in sorted(problems):
        print(
            str(InputError(display, message, line or None, col or None)),
            file=sys.stderr,
        )
    for message in errors:
        print(message, file=sys.stderr)
    findings.sort()
    if args.statistics:
        sys.stdout.write(_statistics(findings, args.format))
        status = EXIT_FINDINGS if findings else EXIT_CLEAN
    else:
        summaries = {
            code: rule.summary for code, rule in rules.items() if code in selected
        }
        status = emit(findings, args.format, rules=summaries)
    if problems or errors:
        return EXIT_ERROR
    return EXIT_CLEAN if args.exit_zero else status


def _default_names() -> frozenset[str]:
    from mlqa.rules.hyperparameters import DEFAULT_NAMES

    return DEFAULT_NAMES
