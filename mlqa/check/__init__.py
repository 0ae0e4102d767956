"""``mlqa check``: the ML rules (MLQ1xx hyperparameters, MLQ2xx devices) over files.

The ``rules`` step of the pipeline. :func:`run` follows the runner contract
(:mod:`mlqa.runner`): it takes the files :func:`mlqa.files.select` chose, picks
the rules each file gets (``select``, ``ignore``, ``per-file-ignores``; none in
tests and ``config-paths``), reuses cached results, checks the rest (in the
shared process pool when there are many, :mod:`mlqa.parallel`) and returns
the findings; files that cannot be read or parsed are errors while every
other file is still checked. Files are never written (``fix`` is ignored).

:func:`main` is the ``mlqa check`` door: it parses its options, layers them
onto the config and runs the step through :func:`mlqa.runner.run_paths`.
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mlqa.check.analysis import (
    SYNTAX_ERROR,
    FileResult,
    Task,
    analyze,
    analyze_task,
)
from mlqa.config import Config, load
from mlqa.diagnostics import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Finding,
    InputError,
    emit,
)
from mlqa.files import display, is_test, matches, relative
from mlqa.parallel import pmap, workers
from mlqa.rules.context import Options
from mlqa.rules.hyperparameter_apis import DEFAULT_NAMES
from mlqa.rules.registry import all_rules, expand
from mlqa.runner import Result

if TYPE_CHECKING:
    from mlqa.cache import ResultCache

__all__ = ["analyze", "main", "run", "select_rules"]

NAME = "rules"
#: Below this many files to check, a second process costs more than it saves:
#: on 2 cores, 40 torch files took 0.24-0.26 s in one process and 0.19 s in
#: two; 680 took 1.26 s and 0.67 s (benchmarks/bench_check.py).
PARALLEL_MIN_FILES = 32


def _workers(files: int) -> int:
    """How many worker processes to use (1: this process); ``MLQA_JOBS`` overrides."""
    return workers(files, min_items=PARALLEL_MIN_FILES)


class RuleSelection(NamedTuple):
    """Which rules run where, from the config.

    Attributes:
        codes: The selected codes (``select`` minus ``ignore``).
        per_file: ``per-file-ignores``: glob -> codes.
        names: The hyperparameter keyword names in effect.
        config_paths: Globs of config files (no rules there).
    """

    codes: frozenset[str]
    per_file: dict[str, frozenset[str]]
    names: frozenset[str]
    config_paths: tuple[str, ...]

    def options(self, rel: str) -> Options:
        """Return the options of one file.

        Args:
            rel: The file's path relative to the project root.

        Returns:
            Its names and codes; no codes in tests and config files, where
            literal values belong.
        """
        if is_test(rel) or matches(rel, self.config_paths):
            return Options(self.names, frozenset())
        codes = self.codes
        for glob, ignored in self.per_file.items():
            if matches(rel, [glob]):
                codes = codes - ignored
        return Options(self.names, codes)


def select_rules(config: Config) -> RuleSelection:
    """Read which rules run where from the config.

    Args:
        config: The project config (with command-line options layered on).

    Returns:
        The selection.

    Raises:
        ValueError: For a code or prefix that matches no rule.
    """
    codes = [*all_rules(), SYNTAX_ERROR]  # NB100: a notebook cell that is not Python
    chosen = expand(list(config.get("select")) or ["ALL"], codes)
    chosen -= expand(list(config.get("ignore")), codes)
    per_file = {
        glob: frozenset(expand(list(values), codes))
        for glob, values in dict(config.get("per-file-ignores")).items()
    }
    names = frozenset(config.get("hyperparameter-names")) | DEFAULT_NAMES
    return RuleSelection(
        frozenset(chosen), per_file, names, tuple(config.get("config-paths"))
    )


def _sources() -> list[Path]:
    """The files whose code decides results (their stamps key the cache)."""
    here = Path(__file__).parent
    files = [*here.glob("*.py"), *(here.parent / "rules").glob("*.py")]
    notebooks = here.parent / "notebooks"  # the cell reader and IPython's syntax
    files += [notebooks / name for name in ("cells.py", "io.py", "ipysyntax.py")]
    return sorted(files)


def _cache(config: Config, names: frozenset[str]) -> ResultCache:
    from mlqa import __version__
    from mlqa.cache import ResultCache

    stamps = []
    for source in _sources():
        try:
            stat = source.stat()
        except OSError:
            continue
        stamps.append(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return ResultCache(config.root, "|".join([__version__, *stamps, *sorted(names)]))


def _check(tasks: list[Task]) -> list[FileResult]:
    # Syntax trees hold no reference cycles: reference counting frees them, and
    # the cyclic collector would only rescan millions of live nodes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return pmap(analyze_task, tasks, _workers(len(tasks)))
    finally:
        if collecting:
            gc.enable()


def _outcomes(
    files: list[Path], shown: list[str], config: Config, chosen: RuleSelection
) -> list[FileResult]:
    """Each file's findings and errors: from the cache when unchanged, else checked."""
    from mlqa.cache import digest

    cache = _cache(config, chosen.names) if config.get("cache") else None
    outcomes: list[FileResult] = [([], []) for _ in files]
    todo: list[tuple[int, str, str, str]] = []  # index, rel, kind, content hash
    tasks: list[Task] = []
    for index, path in enumerate(files):
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = f"cannot read file: {exc.strerror or exc}"
            outcomes[index] = ([], [(None, None, reason)])
            continue
        rel = relative(path, config.root)
        options = chosen.options(rel)
        kind = ",".join(sorted(options.codes or ()))
        content_hash = digest(data) if cache is not None else ""
        hit = cache.get(rel, content_hash, kind) if cache is not None else None
        if hit is not None:
            outcomes[index] = (
                [(f[0], f[1], f[2], f[3]) for f in hit[0]],
                [(e[0], e[1], e[2]) for e in hit[1]],
            )
            continue
        todo.append((index, rel, kind, content_hash))
        tasks.append((data, shown[index], path.suffix == ".ipynb", options))
    for (index, rel, kind, content_hash), found in zip(
        todo, _check(tasks), strict=True
    ):
        outcomes[index] = found
        if cache is not None:
            cache.put(rel, content_hash, kind, [found[0], found[1]])
    if cache is not None:
        cache.save()
    return outcomes


def run(files: list[Path], config: Config, *, fix: bool) -> Result:
    """Run the ML rules over files (the ``rules`` step).

    Args:
        files: The selected ``.py`` and ``.ipynb`` files.
        config: The project config: ``select``, ``ignore``, ``per-file-ignores``,
            ``hyperparameter-names``, ``config-paths`` and ``cache``.
        fix: Ignored: the rules never rewrite files.

    Returns:
        The findings, sorted; unreadable or unparsable files as errors.
    """
    result = Result(NAME, files=len(files))
    try:
        chosen = select_rules(config)
    except ValueError as exc:
        where = display(config.pyproject) if config.pyproject else "mlqa check"
        result.errors.append(InputError(where, str(exc)))
        return result
    problems = []
    shown = [display(path) for path in files]
    for name, (findings, errors) in zip(
        shown, _outcomes(files, shown, config, chosen), strict=True
    ):
        result.findings += [Finding(name, *f) for f in findings]
        problems += [(name, line or 0, col or 0, text) for line, col, text in errors]
    result.findings.sort()
    result.errors = [
        InputError(name, text, line or None, col or None)
        for name, line, col, text in sorted(problems)
    ]
    return result


def _statistics(findings: list[Finding], fmt: str) -> str:
    import json

    rules = all_rules()
    counts = Counter(f.code for f in findings)
    rows = [
        (code, counts[code], rules[code].name if code in rules else "")
        for code in sorted(counts)
    ]
    if fmt == "json":
        items = [{"code": c, "name": n, "count": k} for c, k, n in rows]
        return json.dumps(items, indent=2) + "\n"
    return "".join(f"{count:>5}  {code}  {name}\n" for code, count, name in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa check``.

    Args:
        argv: The arguments after ``mlqa check``; ``sys.argv[2:]`` if None.

    Returns:
        0 clean, 1 findings, 2 usage error or unreadable/unparsable input.
    """
    from mlqa.check.arguments import HELP, USAGE, parse_arguments, wants_help
    from mlqa.runner import STEPS, run_paths

    argv = list(sys.argv[2:] if argv is None else argv)
    if wants_help(argv):
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
    settings: dict[str, object] = {}
    if args.select:
        settings["select"] = args.select
    if args.ignore:
        settings["ignore"] = [*config.get("ignore"), *args.ignore]
    if args.no_cache:
        settings["cache"] = False
    config = config.with_settings(settings)
    try:
        codes = select_rules(config).codes
    except ValueError as exc:
        print(f"mlqa check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    result = run_paths(STEPS[NAME], paths, config, fix=False)
    for error in result.errors:
        print(error, file=sys.stderr)
    if args.statistics:
        sys.stdout.write(_statistics(result.findings, args.format))
        status = EXIT_FINDINGS if result.findings else EXIT_CLEAN
    else:
        summaries = {c: r.summary for c, r in all_rules().items() if c in codes}
        summaries[SYNTAX_ERROR] = "Notebook code cell that is not valid Python."
        status = emit(result.findings, args.format, rules=summaries)
    if result.errors:
        return EXIT_ERROR
    return EXIT_CLEAN if args.exit_zero else status
