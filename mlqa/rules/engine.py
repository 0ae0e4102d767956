"""One pass over a parsed file that runs every rule family and collects findings.

The walk is pruned: a cheap regex first marks the lines where a rule could
fire (a hyperparameter keyword, a known training API, an epoch loop, a
``.cuda(`` call or a ``"cuda"`` string), and only statements spanning such a
line are entered.
Most of a large codebase is never visited, which keeps ``mlqa check`` within a
small factor of a bare ``ast.parse``. The families only collect findings; the
printing is :mod:`mlqa.check`'s job.
"""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import NamedTuple

from mlqa.rules import devices, hyperparameters
from mlqa.rules.resolve import Scope, add_import

#: A finding before it has a path: (line, column, code, message), 1-based.
RawFinding = tuple[int, int, str, str]

_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:\s*,\s*[A-Z]+[0-9]*)*))?", re.IGNORECASE
)


class Options(NamedTuple):
    """What varies between files and projects.

    Attributes:
        hyperparameter_names: Keyword names flagged at any call.
        hyperparameters: Whether the MLQ1xx family runs (not in tests, config).
        devices: Whether the MLQ2xx family runs (not in tests).
    """

    hyperparameter_names: frozenset[str] = hyperparameters.DEFAULT_NAMES
    hyperparameters: bool = True
    devices: bool = True


class State(NamedTuple):
    """Where the walk is: what encloses the node being visited.

    Attributes:
        scopes: The enclosing function nodes, innermost last.
        guarded: Inside a test about the device (``if torch.cuda.is_available()``)
            or a conditional expression: a CPU fallback exists.
        hyperparameters: Whether MLQ1xx applies here (not in parameter defaults,
            decorators or config-class bodies).
        class_body: Directly in a class body (config fields, not code).
    """

    scopes: tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...] = ()
    guarded: bool = False
    hyperparameters: bool = True
    class_body: bool = False


class FileContext:
    """The per-file facts the rules share, and the findings they collect.

    Args:
        tree: The parsed module.
        lines: The source lines, for columns and ``# noqa``.
        options: What to check.
    """

    def __init__(self, tree: ast.Module, lines: list[str], options: Options) -> None:
        self.tree = tree
        self.lines = lines
        self.options = options
        self.imports: dict[str, str] = {}
        self.findings: list[RawFinding] = []
        self._reported: set[tuple[int, int, str]] = set()
        self._scopes: dict[int, Scope] = {}

    def scope(self, node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> Scope:
        """Return the (cached) bindings of a module or function.

        Args:
            node: The scope's node.

        Returns:
            Its :class:`Scope`.
        """
        found = self._scopes.get(id(node))
        if found is None:
            found = self._scopes[id(node)] = Scope(node)
        return found

    def column(self, line: int, col_offset: int) -> int:
        """Turn an AST UTF-8 byte offset into a 1-based character column.

        Args:
            line: 1-based line.
            col_offset: The node's ``col_offset`` (bytes).

        Returns:
            The 1-based column in characters.
        """
        if 0 < line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode()[:col_offset].decode(errors="replace")) + 1
        return col_offset + 1

    def report(self, node: ast.AST, code: str, message: str) -> None:
        """Record a finding at ``node`` (once per place and code).

        Args:
            node: Where; its ``lineno`` and ``col_offset`` are used.
            code: The rule code.
            message: One line.
        """
        line, offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        key = (line, offset, code)
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append((line, self.column(line, offset), code, message))


Hook = Callable[[FileContext, ast.AST, State], None]


def trie_regex(words: Iterable[str]) -> str:
    """Build a regex alternation of words, factored by common prefixes.

    Python's ``re`` tries alternatives one by one; a trie makes the first
    character pick the branch, which is what keeps the candidate scan cheap.

    Args:
        words: Plain words (no regex syntax).

    Returns:
        A regex matching exactly those words (not anchored).
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        ends = "" in node
        branches = [
            re.escape(c) + build(child) for c, child in sorted(node.items()) if c
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else body + "?"
        return body

    return build(trie)


_LOOP_VAR_TEXT = re.compile(
    r"[ \t]*(?:async[ \t]+)?(?:for[ \t][^\n]*?(?:epoch|step|\bitr?\b|\biter|\bupdates?\b|\bep\b)"
    r"|while[ \t])"
)
_DEVICE_TEXTS = (".cuda(", '"cuda', "'cuda", '"mps"', "'mps'", '"gpu"', "'gpu'")
_PATTERNS: dict[frozenset[str], re.Pattern[str]] = {}
_SUFFIXES: re.Pattern[str] | None = None


def _reversed_pattern(words: frozenset[str]) -> re.Pattern[str]:
    # Searching the reversed text for "=" or "(" followed by a reversed word
    # lets the regex engine skip straight to the rare characters "=" and "(".
    pattern = _PATTERNS.get(words)
    if pattern is None:
        plain = {w[::-1] for w in words if w.isidentifier()}
        pattern = _PATTERNS[words] = re.compile(rf"[=(][ \t]*{trie_regex(plain)}(?!\w)")
    return pattern


#: Characters of text scanned with str.find before compiling the word regex.
_FIND_BUDGET = 500_000
_SCANNED = 0


def _find_words(source: str, words: Iterable[str]) -> list[int]:
    """Find ``word =`` / ``word(`` (word-bounded) with str.find; same as the regex."""
    starts: list[int] = []
    size = len(source)
    for word in words:
        index = source.find(word)
        while index != -1:
            end = index + len(word)
            before = source[index - 1] if index else " "
            if not (before.isalnum() or before == "_"):
                after = end
                while after < size and source[after] in " \t":
                    after += 1
                if after < size and source[after] in "=(":
                    starts.append(index)
            index = source.find(word, end)
    for suffix in hyperparameters.API_SUFFIXES:
        index = source.find(suffix)
        while index != -1:
            after = index + len(suffix)
            while after < size and source[after] in " \t":
                after += 1
            if after < size and source[after] == "(":
                starts.append(index)
            index = source.find(suffix, index + len(suffix))
    return starts


def _find_all(source: str, needle: str, starts: list[int]) -> None:
    index = source.find(needle)
    while index != -1:
        starts.append(index)
        index = source.find(needle, index + len(needle))


def candidate_lines(
    source: str, options: Options, aliases: Iterable[str] = ()
) -> tuple[list[int], bool]:
    """Find the 1-based lines where a rule could fire.

    A superset is fine (it only prunes the walk): a hyperparameter keyword or
    known API name followed by ``=`` or ``(``, an epoch/step loop header or a
    ``while`` loop, a ``.cuda(`` call, a ``"cuda..."``, ``"mps"`` or ``"gpu"``
    string.

    Args:
        source: The file's text.
        options: The names in effect.
        aliases: Local names bound by ``import ... as`` to known APIs.

    Returns:
        The sorted line numbers, and whether there is any.
    """
    global _SUFFIXES, _SCANNED
    words = options.hyperparameter_names | hyperparameters.API_NAMES
    if aliases:
        words = words | frozenset(aliases)
    if words not in _PATTERNS and _SCANNED < _FIND_BUDGET:
        # A few small files (the pre-commit hook): plain str.find beats
        # compiling the word regex, which costs milliseconds at start-up.
        _SCANNED += len(source)
        starts = _find_words(source, words)
    else:
        backwards = source[::-1]
        size = len(source)
        starts = [size - m.end() for m in _reversed_pattern(words).finditer(backwards)]
        if _SUFFIXES is None:
            suffixes = {w[::-1] for w in hyperparameters.API_SUFFIXES}
            _SUFFIXES = re.compile(rf"\([ \t]*{trie_regex(suffixes)}")
        starts += [size - m.end() for m in _SUFFIXES.finditer(backwards)]
    if options.hyperparameters:
        heads: list[int] = []
        _find_all(source, "for ", heads)
        _find_all(source, "while ", heads)
        for head in heads:
            line_start = source.rfind("\n", 0, head) + 1
            if not source[line_start:head].strip(" \tasync") and _loop_head(
                source, line_start
            ):
                starts.append(head)
    if options.devices:
        for needle in _DEVICE_TEXTS:
            _find_all(source, needle, starts)
    if not starts:
        return [], False
    starts.sort()
    lines: list[int] = []
    line, pos = 1, 0
    for start in starts:
        line += source.count("\n", pos, start)
        pos = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines, True


def _loop_head(source: str, line_start: int) -> bool:
    return _LOOP_VAR_TEXT.match(source, line_start) is not None


_TRY_STAR: type[ast.Try] = getattr(ast, "TryStar", ast.Try)
_DEVICE_WORDS = ("cuda", "gpu", "device", "avail", "accel", "mps")


def _device_specific(name: str) -> bool:
    # ``def cuda(self)``, ``class CUDAAccelerator``, ``def gpu(i)``: code whose
    # job is that device; its callers hold the fallback.
    lower = name.lower()
    return "cuda" in lower or "gpu" in lower or "mps" in lower


def mentions_device(node: ast.AST) -> bool:
    """Tell whether a test is about the device (``torch.cuda.is_available()``, ``args.gpu``).

    Args:
        node: An ``if``/``while`` test.

    Returns:
        True when a name, attribute or string in it mentions cuda/gpu/device.
    """
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            word = sub.id
        elif isinstance(sub, ast.Attribute):
            word = sub.attr
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            word = sub.value
        else:
            continue
        lower = word.lower()
        if any(w in lower for w in _DEVICE_WORDS):
            return True
    return False


class Walker:
    """The pruned walk: visits candidate statements and calls the rule hooks.

    Args:
        ctx: The file context findings go to.
        lines: The sorted candidate line numbers.
    """

    def __init__(self, ctx: FileContext, lines: list[int]) -> None:
        self.ctx = ctx
        self.lines = lines
        options = ctx.options
        self.hp = (
            hyperparameters.HyperparameterRules() if options.hyperparameters else None
        )
        self.dev = devices.DeviceRules() if options.devices else None

    def touches(self, node: ast.stmt) -> bool:
        """Tell whether a statement spans a candidate line.

        Args:
            node: A statement.

        Returns:
            True if some candidate line lies within it.
        """
        i = bisect_left(self.lines, node.lineno)
        end = node.end_lineno or node.lineno
        return i < len(self.lines) and self.lines[i] <= end

    def run(self) -> None:
        """Walk the module."""
        tree = self.ctx.tree
        self._hoist_imports(tree.body)
        self.body(tree.body, State())

    def _hoist_imports(self, body: list[ast.stmt]) -> None:
        # Module-level imports may come after the functions that use them.
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                add_import(stmt, self.ctx.imports)
            elif isinstance(stmt, (ast.If, ast.Try)):
                self._hoist_imports(stmt.body)
                self._hoist_imports(stmt.orelse)
                if isinstance(stmt, ast.Try):
                    for handler in stmt.handlers:
                        self._hoist_imports(handler.body)

    def body(self, stmts: list[ast.stmt], state: State) -> None:
        """Visit the candidate statements of a block.

        Args:
            stmts: The block.
            state: What encloses it.
        """
        for stmt in stmts:
            if self.touches(stmt):
                self.stmt(stmt, state)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                add_import(stmt, self.ctx.imports)

    def stmt(self, node: ast.stmt, state: State) -> None:  # noqa: C901
        """Visit one statement.

        Args:
            node: The statement.
            state: What encloses it.
        """
        ctx = self.ctx
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            guarded = state.guarded or _device_specific(node.name)
            inner = State(state.scopes + (node,), guarded, state.hyperparameters, False)
            self.body(node.body, inner)
        elif isinstance(node, ast.ClassDef):
            config = hyperparameters.is_config_class(node, ctx.imports)
            guarded = state.guarded or _device_specific(node.name)
            inner = State(
                state.scopes, guarded, state.hyperparameters and not config, True
            )
            self.body(node.body, inner)
        elif isinstance(node, (ast.If, ast.While)):
            self.expr(node.test, state)
            if isinstance(node, ast.While) and self.hp and state.hyperparameters:
                self.hp.on_while(ctx, node, state)
            if not state.guarded and mentions_device(node.test):
                state = state._replace(guarded=True)
            self.body(node.body, state._replace(class_body=False))
            self.body(node.orelse, state._replace(class_body=False))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if self.hp and state.hyperparameters:
                self.hp.on_for(ctx, node, state)
            self.expr(node.iter, state)
            inner = state._replace(class_body=False)
            self.body(node.body, inner)
            self.body(node.orelse, inner)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, state)
            self.body(node.body, state._replace(class_body=False))
        elif isinstance(node, (ast.Try, _TRY_STAR)):
            inner = state._replace(class_body=False)
            self.body(node.body, inner)
            for handler in node.handlers:
                self.body(handler.body, inner)
            self.body(node.orelse, inner)
            self.body(node.finalbody, inner)
        elif isinstance(node, ast.Match):
            self.expr(node.subject, state)
            for case in node.cases:
                self.body(case.body, state._replace(class_body=False))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            add_import(node, ctx.imports)
        else:
            if self.dev and isinstance(node, (ast.Assign, ast.AnnAssign)):
                self.dev.on_assign(ctx, node, state)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, state)

    def expr(self, node: ast.expr, state: State) -> None:
        """Visit every call in an expression.

        Args:
            node: The expression.
            state: What encloses it.
        """
        ctx, hp, dev, lines = self.ctx, self.hp, self.dev, self.lines
        stack: list[tuple[ast.AST, bool]] = [(node, state.guarded)]
        while stack:
            sub, guarded = stack.pop()
            first = getattr(sub, "lineno", None)
            if first is not None:
                i = bisect_left(lines, first)
                if i == len(lines) or lines[i] > (
                    getattr(sub, "end_lineno", None) or first
                ):
                    continue
            if isinstance(sub, ast.Call):
                here = (
                    state
                    if guarded == state.guarded
                    else state._replace(guarded=guarded)
                )
                if hp and state.hyperparameters:
                    hp.on_call(ctx, sub, here)
                if dev:
                    dev.on_call(ctx, sub, here)
            elif isinstance(sub, ast.IfExp):
                guarded = True
            elif isinstance(sub, ast.Lambda):
                stack.append((sub.body, guarded))
                continue
            stack.extend((child, guarded) for child in ast.iter_child_nodes(sub))


def suppressed(line_text: str, code: str) -> bool:
    """Tell whether ``# noqa`` on a line suppresses ``code``.

    Args:
        line_text: The source line.
        code: The finding's code.

    Returns:
        True for a bare ``# noqa`` or one listing the code or a prefix of it.
    """
    if "noqa" not in line_text.lower():
        return False
    for match in _NOQA.finditer(line_text):
        codes = match.group("codes")
        if codes is None:
            return True
        if any(code.startswith(c.strip().upper()) for c in codes.split(",")):
            return True
    return False


def parse(source: str, filename: str, *, top_level_await: bool = False) -> ast.Module:
    """Parse Python source without printing SyntaxWarnings.

    Args:
        source: The text.
        filename: For error messages.
        top_level_await: Accept ``await`` at top level (notebook cells).

    Returns:
        The module.

    A source that does not parse raises :class:`SyntaxError` (``ValueError``
    for NUL bytes), as :func:`compile` does.
    """
    flags = ast.PyCF_ONLY_AST | (
        ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if top_level_await else 0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree: ast.Module = compile(source, filename, "exec", flags, dont_inherit=True)
    return tree


def import_aliases(source: str) -> list[str]:
    """Local names that ``import ... as`` gives known APIs, read from the text.

    ``from torch.optim import Adam as A`` makes ``A(`` a candidate. A superset
    is fine (it only widens the candidate lines).

    Args:
        source: The file's text.

    Returns:
        The aliases (``A`` above).
    """
    aliases = []
    index = source.find(" as ")
    while index != -1:
        start = index
        while start > 0 and (source[start - 1].isalnum() or source[start - 1] == "_"):
            start -= 1
        if source[start:index] in hyperparameters.API_NAMES:
            end = index + 4
            while end < len(source) and (source[end].isalnum() or source[end] == "_"):
                end += 1
            if end > index + 4:
                aliases.append(source[index + 4 : end])
        index = source.find(" as ", index + 4)
    return aliases


def analyze_tree(
    tree: ast.Module, source: str, options: Options, lines: list[int] | None = None
) -> list[RawFinding]:
    """Run the rules over a parsed module.

    Args:
        tree: The module.
        source: Its text.
        options: What to check.
        lines: The candidate lines, computed from ``source`` when None.

    Returns:
        The unsuppressed findings, sorted.
    """
    if lines is None:
        lines, _ = candidate_lines(source, options, import_aliases(source))
    if not lines:
        return []
    text_lines = source.splitlines()
    ctx = FileContext(tree, text_lines, options)
    Walker(ctx, lines).run()
    kept = [
        f
        for f in ctx.findings
        if not (0 < f[0] <= len(text_lines) and suppressed(text_lines[f[0] - 1], f[2]))
    ]
    return sorted(kept)


def analyze_source(source: str, filename: str, options: Options) -> list[RawFinding]:
    """Parse and check one Python file's text.

    Args:
        source: The text.
        filename: For syntax error messages.
        options: What to check.

    Returns:
        The findings, sorted.

    A source that does not parse raises :class:`SyntaxError`, as :func:`parse`.
    """
    # Parsed even when no rule can fire: a broken file is reported either way.
    # (compile() to bytecode is stricter and, measured fairly, only ~5-14%
    # cheaper than building the AST, so it is not used as a shortcut.)
    tree = parse(source, filename)
    if not (options.hyperparameters or options.devices):
        return []
    lines, real = candidate_lines(source, options, import_aliases(source))
    if not real:
        return []
    return analyze_tree(tree, source, options, lines)
