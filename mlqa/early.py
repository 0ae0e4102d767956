"""Start ruff while mlqa is still working out ruff's command line.

``mlqa lint FILE...`` (the pre-commit hook's command) needs about 30 ms of
standard-library imports (``re``, ``pathlib``, ``tomllib``, ``argparse``) and
config reading before it can start ruff, which then runs alone. Instead, the
command line of the last ``mlqa lint`` in this directory (saved in
``.mlqa_cache/lint-command`` by :func:`remember`), with today's files, starts
at once; when mlqa has computed the real command, :func:`take` hands over the
running process only if the two command lines and working directories are
identical, and stops it otherwise (the real command then runs as usual). The
results are always those of the real command; a stale or foreign file costs
a ruff start, nothing else.

Only plain ``mlqa lint`` of Python files, with no option, starts early: any
option, a directory or a notebook (which mlqa reads first) leaves it to the
normal path. ``[tool.mlqa] cache = false`` writes no file.

The saved file is never trusted to name a program or to change files: it is
used only when it runs the ruff installed beside this Python (the usual
virtual environment layout) with ``check`` and exactly the options mlqa
itself passes (``--output-format=concise``, ``--no-cache``,
``--force-exclude``, ``--quiet`` and ``--config`` values that set neither
``output-file`` nor ``cache-dir``), so a file planted in a repository can
start nothing a normal run of its own config would not.
"""

from __future__ import annotations

import os
import subprocess

from mlqa import __version__

# mlqa.cache.CACHE_DIR, spelled out: importing mlqa.cache (json) would delay ruff
SAVED = os.path.join(".mlqa_cache", "lint-command")
_started: tuple[list[str], str, subprocess.Popen[str]] | None = None


def _saved() -> tuple[list[str], str] | None:
    """The command prefix and working directory saved by :func:`remember`."""
    import marshal

    try:
        with open(SAVED, "rb") as handle:
            saved = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (
        isinstance(saved, tuple)
        and len(saved) == 3
        and saved[0] == __version__
        and isinstance(saved[1], list)
        and all(isinstance(part, str) for part in saved[1])
        and isinstance(saved[2], str)
    ):
        return saved[1], saved[2]
    return None


def start(args: list[str]) -> None:
    """Start ruff with the saved command line and these files, if it fits.

    Args:
        args: The arguments after ``mlqa lint``.
    """
    global _started
    if not args or any(arg.startswith("-") for arg in args):
        return
    files = []
    for arg in args:
        if not arg.endswith((".py", ".pyi")) or not os.path.isfile(arg):
            return
        files.append(os.path.abspath(arg))
    saved = _saved()
    if saved is None:
        return
    prefix, cwd = saved
    if cwd != os.getcwd() or not trusted(prefix):
        return
    command = [*prefix, *files]
    try:
        proc = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    except (OSError, ValueError):
        return
    _started = (command, cwd, proc)
    import atexit

    atexit.register(_stop)


_FLAGS = frozenset(
    {"--output-format=concise", "--no-cache", "--force-exclude", "--quiet"}
)


def trusted(prefix: list[str]) -> bool:
    """Tell whether a saved command line is one mlqa itself would run.

    Args:
        prefix: The saved command line, up to and with ``--``.

    Returns:
        True only for ``<the ruff beside this Python> check`` with mlqa's own
        options (see the module docstring).
    """
    import sys

    ruff = os.path.join(os.path.dirname(sys.executable), "ruff")
    if prefix[:2] != [ruff, "check"] or prefix[-1:] != ["--"]:
        return False
    options = prefix[2:-1]
    i = 0
    while i < len(options):
        if options[i] in _FLAGS:
            i += 1
        elif options[i] == "--config" and i + 1 < len(options):
            value = options[i + 1]
            if "output-file" in value or "cache-dir" in value:
                return False
            i += 2
        else:
            return False
    return True


def take(command: list[str], cwd: str) -> subprocess.Popen[str] | None:
    """Hand over the early ruff if it runs exactly this command, else stop it.

    Args:
        command: The command line mlqa computed.
        cwd: Its working directory.

    Returns:
        The running process, or None (then run the command as usual).
    """
    global _started
    started, _started = _started, None
    if started is None:
        return None
    if started[0] == command and started[1] == cwd:
        return started[2]
    _kill(started[2])
    return None


def remember(command: list[str], cwd: str) -> None:
    """Save a lint run's command line (without its files) for the next run.

    Only when ``cwd`` is the working directory (where :func:`start` looks);
    the file is rewritten only when the command line changed. Failures (a
    read-only tree) are ignored.

    Args:
        command: The command line that ran, ending ``-- FILE...``.
        cwd: Its working directory.
    """
    import marshal

    if "--" not in command or "--fix" in command or os.path.abspath(cwd) != os.getcwd():
        return
    prefix = command[: command.index("--") + 1]
    if _saved() == (prefix, cwd):
        return
    from mlqa.cache import save_file

    save_file(cwd, os.path.basename(SAVED), marshal.dumps((__version__, prefix, cwd)))


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.communicate()


def _stop() -> None:
    """At exit: stop an early ruff nobody took (mlqa failed before it)."""
    global _started
    if _started is not None:
        _kill(_started[2])
        _started = None
