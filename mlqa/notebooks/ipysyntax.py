r"""IPython cell syntax to Python, line for line: a pure port of IPython's input transformer.

Jupyter runs a code cell through IPython's
``IPython.core.inputtransformer2.TransformerManager().transform_cell`` before
Python sees it. :func:`transform` does the same steps, in the same order and
with the same rules (IPython 9), without importing IPython (not a dependency):

1. cleanup: leading blank lines are dropped, the common indentation is
   removed (``textwrap.dedent``; a cell starting with a space runs in
   Jupyter), ``>>>``/``...`` and ``In [1]:`` prompts are stripped;
2. a ``%%magic`` first line turns the cell into one
   ``get_ipython().run_cell_magic(...)`` call;
3. token transforms, one at a time, earliest first, re-tokenising after each:
   ``x = %magic``, ``x = !cmd``, escaped lines (``%magic``, ``!cmd``,
   ``!!cmd``, ``?``, ``,f a b``, ``;f a b``, ``/f a b``) and help
   (``obj?``, ``obj??``). A line magic or shell line runs to the end of its
   line, or further only through ``\`` continuations, as in IPython: a magic
   whose bracketed arguments go on to the next line is a syntax error in
   Jupyter too.

Two deliberate differences keep what a linter needs: the result has exactly
as many lines as the cell (a construct IPython joins into one line is
followed by blank lines; leading blank lines stay), with the number of
characters removed from the start of each line in :attr:`Cleaned.shifts`, so
a position in the result maps back to the cell; and the body of a cell magic
that runs Python (:data:`PYTHON_CELL_MAGICS`: ``%%time``, ``%%timeit`` ...) is
kept as transformed Python, where IPython passes it as a string (that magic
transforms and runs it itself), so the rules still see that code.
``tests/test_nbcells.py`` compares :func:`transform` with IPython's own
transformer on a table of real cell sources whenever IPython is installed
(the ``dev`` extra installs it).
"""

from __future__ import annotations

import re
import sys
import tokenize
from textwrap import dedent
from typing import NamedTuple

#: Cell magics whose body is still Python (IPython transforms and runs it).
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
#: A superset of the text IPython's token transforms act on (a fast path).
_MAYBE_SPECIAL = re.compile(r"^[ \t]*[%!?,;/]|\?[ \t]*$|=[\s\\]*[%!]", re.MULTILINE)
_PS1 = re.compile(r"^\s*>>>")
_CLASSIC = (re.compile(r"^\s*>>>[ \t]?"), re.compile(r"^\s*\.\.\.[ \t]?"))
_IPYTHON_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])? )?In \[\d+\]: |\s*\.{3,}: ?)")
_TRIPLE = re.compile(r"(?<!\\)(\"\"\"|''')")
_STRING_PREFIX = re.compile(r"(?i)^[rubf]*$")
_HELP_END = re.compile(
    r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$", re.VERBOSE
)
_ESCAPE_SINGLES = frozenset("!?%,;/")
_ERRORS_TO_CATCH = (
    "unterminated string literal",
    "invalid non-printable character",
    "after line continuation character",
    "invalid decimal literal",
    "invalid binary literal",
    "invalid octal literal",
    "invalid hexadecimal literal",
    "in binary literal",
    "in octal literal",
    "expected EOF",
)
_LOOP_LIMIT = 500


class Cleaned(NamedTuple):
    """A cell as Python.

    Attributes:
        source: The Python source, with as many lines as the cell.
        shifts: For each line, how many characters were removed from its start
            (add it to a 0-based column of ``source`` to get the cell's column).
    """

    source: str
    shifts: tuple[int, ...]


def _triple_quoted(lines: list[str]) -> list[bool]:
    """Which lines sit in a triple-quoted string (IPython's doctest heuristic)."""
    mask: list[bool] = []
    quote: str | None = None
    preserve = seen_prompt = False
    for line in lines:
        mask.append(quote is not None and preserve)
        for match in _TRIPLE.finditer(line):
            if quote is None:
                quote = match.group(1)
                before = line[: match.start()]
                stripped = _CLASSIC[1].sub("", _CLASSIC[0].sub("", before, count=1))
                prompted = stripped != before and seen_prompt
                preserve = bool(not prompted and _STRING_PREFIX.match(stripped.strip()))
                mask[-1] = preserve
            elif quote == match.group(1):
                quote, preserve = None, False
        seen_prompt = seen_prompt or bool(_PS1.match(line))
    return mask


def _doctest_prompts(lines: list[str]) -> list[str]:
    """Strip ``>>>``/``...`` prompts and dedent what was stripped, as IPython does."""
    if not any(">>>" in line for line in lines):  # fast path: no prompt at all
        return lines
    inside = _triple_quoted(lines)
    if not any(
        not q and _PS1.match(line) for line, q in zip(lines, inside, strict=True)
    ):
        return lines
    out, stripped = [], []
    for line, quoted in zip(lines, inside, strict=True):
        new = line
        if not quoted:
            for prompt in _CLASSIC:
                if prompt.match(line):
                    new = prompt.sub("", line, count=1)
                    break
        out.append(new)
        stripped.append(new != line)
    result: list[str] = []
    start = 0
    while start < len(out):
        end = start
        while end < len(out) and inside[end] == inside[start]:
            end += 1
        segment = out[start:end]
        if not inside[start] and any(stripped[start:end]):
            segment = dedent("".join(segment)).splitlines(keepends=True)
        result.extend(segment)
        start = end
    return result


def _ipython_prompts(lines: list[str]) -> list[str]:
    if _IPYTHON_PROMPT.match(lines[0]) or (
        len(lines) > 1 and _IPYTHON_PROMPT.match(lines[1])
    ):
        return [_IPYTHON_PROMPT.sub("", line, count=1) for line in lines]
    return lines


def _dedent(lines: list[str]) -> list[str]:
    if lines[0][:1] not in (" ", "\t"):  # the first line is not blank: no margin
        return lines
    return dedent("".join(lines)).splitlines(keepends=True)


def _cleanup(lines: list[str]) -> list[str]:
    """IPython's cleanup transforms after the leading blank lines (dedent, prompts)."""
    for step in (_dedent, _doctest_prompts, _ipython_prompts):
        new = step(lines)
        if len(new) == len(lines):  # always, barring exotic line separators
            lines = new
    return lines


def _tokens_by_line(lines: list[str]) -> list[list[tokenize.TokenInfo]]:
    """Tokens grouped by logical line, tolerant of IPython syntax (as IPython does)."""
    grouped: list[list[tokenize.TokenInfo]] = [[]]
    depth = 0
    tokens: list[tokenize.TokenInfo] = []
    try:
        try:
            for token in tokenize.generate_tokens(iter(lines).__next__):
                tokens.append(token)
                grouped[-1].append(token)
                if token.type == tokenize.NEWLINE or (
                    token.type == tokenize.NL and depth <= 0
                ):
                    grouped.append([])
                elif token.type == tokenize.OP and token.string in "([{":
                    depth += 1
                elif token.type == tokenize.OP and token.string in ")]}" and depth:
                    depth -= 1
        except tokenize.TokenError as exc:
            if not any(text in str(exc.args[0]) for text in _ERRORS_TO_CATCH):
                raise
            if tokens:
                start = (tokens[-1].start[0], tokens[-1].end[0])
                grouped[-1].append(
                    tokenize.TokenInfo(
                        tokenize.ERRORTOKEN, "", start, start, tokens[-1].line
                    )
                )
            else:
                grouped[-1].append(
                    tokenize.TokenInfo(tokenize.ERRORTOKEN, "", (1, 0), (1, 0), "")
                )
    except (tokenize.TokenError, SyntaxError):  # input ends inside a bracket/string
        pass
    if not grouped[-1]:
        grouped.pop()
    return grouped


def _assign_index(line: list[tokenize.TokenInfo]) -> int | None:
    depth = 0
    for index, token in enumerate(line):
        text = token.string
        if text == "=" and depth == 0:
            return index
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}") and depth > 0:
            depth -= 1
    return None


def _continued(lines: list[str], start: int) -> int:
    """The last line of a line continued with backslashes."""
    end = start
    while lines[end].endswith("\\\n"):
        end += 1
        if end >= len(lines):
            break
    return end


def _assemble(lines: list[str], line: int, col: int, end: int) -> str:
    parts = [lines[line][col:], *lines[line + 1 : end + 1]]
    return " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])


def _help_call(target: str, escape: str) -> str:
    method = "pinfo2" if escape == "??" else "psearch" if "*" in target else "pinfo"
    name, _, args = f"{method} {target}".partition(" ")
    return f"get_ipython().run_line_magic({name.lstrip('%')!r}, {args!r})"


def _escaped(line: str) -> str:
    """The Python call for an escaped line (``%magic args``, ``!cmd`` ...)."""
    escape = line[:2] if line[:2] in ("!!", "??") else line[:1]
    content = line[len(escape) :]
    name, _, args = content.partition(" ")
    if escape == "!":
        return f"get_ipython().system({content!r})"
    if escape == "!!":
        return f"get_ipython().getoutput({content!r})"
    if escape in ("?", "??"):
        return _help_call(content, escape) if content else "get_ipython().show_usage()"
    if escape == "%":
        return f"get_ipython().run_line_magic({name!r}, {args!r})"
    if escape == ",":
        return '{}("{}")'.format(name, '", "'.join(args.split()))
    if escape == ";":
        return f'{name}("{args}")'
    if name == "":  # "/"
        raise SyntaxError('"!" must be followed by a callable name')
    return "{}({})".format(name, ", ".join(args.split()))


class _Match(NamedTuple):
    line: int  # 0-based
    col: int
    priority: int
    kind: str  # "magic=", "system=", "escaped", "help"
    q_line: int = 0


def _find(grouped: list[list[tokenize.TokenInfo]]) -> list[_Match]:
    """The first match of each token transform, as IPython's ``find`` methods."""
    found: dict[str, _Match] = {}
    post_312 = sys.version_info >= (3, 12)
    for line in grouped:
        if not line:
            continue
        at = _assign_index(line)
        if at is not None and len(line) >= at + 2:
            nxt = line[at + 1]
            if (
                "magic=" not in found
                and nxt.string == "%"
                and len(line) > at + 2
                and line[at + 2].type == tokenize.NAME
            ):
                found["magic="] = _Match(nxt.start[0] - 1, nxt.start[1], 10, "magic=")
            if "system=" not in found and not line[at].line.strip().startswith("="):
                index = at + 1
                if post_312:
                    if nxt.type == tokenize.OP and nxt.string == "!":
                        found["system="] = _Match(
                            nxt.start[0] - 1, nxt.start[1], 10, "system="
                        )
                else:
                    while index < len(line) and line[index].type == tokenize.ERRORTOKEN:
                        if line[index].string == "!":
                            start = line[index].start
                            found["system="] = _Match(
                                start[0] - 1, start[1], 10, "system="
                            )
                            break
                        if not line[index].string.isspace():
                            break
                        index += 1
        first = 0
        while first < len(line) and line[first].type in (
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            first += 1
        if (
            "escaped" not in found
            and first < len(line)
            and line[first].string in _ESCAPE_SINGLES
        ):
            start = line[first].start
            found["escaped"] = _Match(start[0] - 1, start[1], 10, "escaped")
        if "help" not in found and len(line) > 2 and line[-2].string == "?":
            first = 0
            while line[first].type in (tokenize.INDENT, tokenize.DEDENT):
                first += 1
            start = line[first].start
            found["help"] = _Match(
                start[0] - 1, start[1], 5, "help", line[-2].start[0] - 1
            )
    return sorted(found.values(), key=lambda m: (m.line, m.col, m.priority))


def _apply(lines: list[str], match: _Match) -> list[str]:
    """Apply one token transform; the lines it joins become blank lines."""
    start, col = match.line, match.col
    if match.kind == "help":
        piece = "".join(lines[start : match.q_line + 1])
        found = _HELP_END.search(piece[col:])
        if not found:
            raise SyntaxError(piece[col:])
        new = piece[:col] + _help_call(found.group(1), found.group(3))
        end = match.q_line
    else:
        end = _continued(lines, start)
        text = _assemble(lines, start, col, end)
        if match.kind == "magic=":
            name, _, args = text[1:].partition(" ")
            call = f"get_ipython().run_line_magic({name!r}, {args!r})"
        elif match.kind == "system=":
            call = f"get_ipython().getoutput({text[1:]!r})"
        else:
            call = _escaped(text)
        new = lines[start][:col] + call
    return [*lines[:start], new + "\n", *["\n"] * (end - start), *lines[end + 1 :]]


def _token_transforms(lines: list[str]) -> list[str]:
    for _ in range(_LOOP_LIMIT):
        for match in _find(_tokens_by_line(lines)):
            try:
                lines = _apply(lines, match)
                break
            except SyntaxError:
                continue
        else:
            return lines
    return lines  # IPython raises here; the parser will report what is left


def transform(cell: str) -> Cleaned:
    """Turn a code cell into Python as Jupyter does, keeping its lines.

    Args:
        cell: The cell's source.

    Returns:
        The Python source (as many lines as ``cell``) and each line's shift.
    """
    parts = cell.split("\n")
    trailing = len(parts) > 1 and parts[-1] == ""
    body = parts[:-1] if trailing else parts
    lines = [part + "\n" for part in body]
    count = len(lines)
    blank = 0
    while blank < count and lines[blank].isspace():
        blank += 1
    if blank == count:  # nothing but blank lines
        return Cleaned(cell, (0,) * len(parts))
    lines = lines[blank:]
    cleaned = _cleanup(lines)
    shifts = [max(len(a) - len(b), 0) for a, b in zip(lines, cleaned, strict=True)]
    lines = cleaned
    if lines[0].startswith("%%") and not re.match(r"%%\w+\?", lines[0]):
        name, _, first = lines[0][2:].rstrip().partition(" ")
        rest = "".join(lines[1:])
        if name in PYTHON_CELL_MAGICS:
            inner = transform(rest[:-1] if rest else rest)
            lines = ["\n", *(line + "\n" for line in inner.source.split("\n"))]
            lines = lines[: len(shifts)]
            shifts = [
                shifts[0],
                *(a + b for a, b in zip(shifts[1:], inner.shifts, strict=True)),
            ]
        else:
            call = f"get_ipython().run_cell_magic({name!r}, {first!r}, {rest!r})\n"
            lines = [call, *["\n"] * (len(lines) - 1)]
    elif _MAYBE_SPECIAL.search("".join(lines)):
        lines = _token_transforms(lines)
    out = ["" for _ in range(blank)] + [line[:-1] for line in lines]
    all_shifts = [0] * blank + shifts
    if trailing:
        out.append("")
        all_shifts.append(0)
    return Cleaned("\n".join(out), tuple(all_shifts))
