"""A floor for stripping notebooks in CPython: the I/O and one pass, no JSON.

Reads each notebook given, looks once for an output or an execution count
(``bytes.find``, no parsing), and for those that have one writes back bytes
with each ``"execution_count": N`` set to ``null``, atomically (a temporary
file and ``os.replace``), as any correct stripper must. It strips nothing
else and is *not* correct; it measures what no Python stripper can go below
on this machine: interpreter start, reading, one pass over the bytes and the
atomic writes. ``benchmarks/bench_strip.py`` times it beside the real tools.

With ``--in-place`` as the first argument it writes the changed files the way
nbstripout and nbstripout-fast do, truncating and rewriting the original file
(not atomic: a crash or a full disk mid-write leaves a damaged notebook). The
two floors side by side give what the atomic writes cost on this machine.

With ``--processes N`` (before the names) it forks N - 1 children and each
process takes every N-th notebook, as ``mlqa strip`` shares notebooks out on
several cores: the floor of a parallel CPython stripper.
"""

import os
import sys


def strip(names: list[str], in_place: bool) -> None:
    """Null the execution counts of the named notebooks that have one."""
    for name in names:
        with open(name, "rb") as handle:
            data = handle.read()
        parts = data.split(b'"execution_count": ')
        counts = [p for p in parts[1:] if p[:1].isdigit()]
        if not counts and b'"outputs": [\n' not in data:
            continue
        out = parts[0] + b"".join(
            b'"execution_count": '
            + (b"null" + p.lstrip(b"0123456789") if p[:1].isdigit() else p)
            for p in parts[1:]
        )
        if in_place:
            with open(name, "wb") as handle:
                handle.write(out)
            continue
        temp = f"{name}.floor-tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, out)
        os.close(fd)
        os.replace(temp, name)


def main() -> int:
    """Process the notebooks named on the command line; return 0."""
    args = sys.argv[1:]
    in_place = args[:1] == ["--in-place"]
    args = args[in_place:]
    processes = 1
    if args[:1] == ["--processes"]:
        processes, args = int(args[1]), args[2:]
    children = []
    for index in range(1, processes):
        pid = os.fork()
        if pid == 0:
            strip(args[index::processes], in_place)
            os._exit(0)
        children.append(pid)
    strip(args[0::processes], in_place)
    for pid in children:
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
