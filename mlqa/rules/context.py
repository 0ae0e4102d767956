"""What a check sees: the options, where the walk is, and the file's shared facts.

Checks receive a :class:`FileContext` (the parsed file, its imports, cached
scopes, and :meth:`FileContext.report`) and a :class:`State` (what encloses
the node: functions, a device test, a config class, a class body). They only
collect findings; printing is the door's job.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, NamedTuple

from mlqa.rules.hyperparameter_apis import DEFAULT_NAMES
from mlqa.rules.resolve import Scope
from mlqa.rules.scope import gpu_only, trains

if TYPE_CHECKING:
    from mlqa.rules.registry import Rule

#: A finding before it has a path: (line, column, code, message), 1-based.
RawFinding = tuple[int, int, str, str]


class Options(NamedTuple):
    """What varies between files and projects.

    Attributes:
        hyperparameter_names: Keyword names flagged at any call (the defaults
            plus ``hyperparameter-names``).
        codes: The selected rule codes; None selects every rule.
    """

    hyperparameter_names: frozenset[str] = DEFAULT_NAMES
    codes: frozenset[str] | None = None


class State(NamedTuple):
    """Where the walk is: what encloses the node being visited.

    Attributes:
        scopes: The enclosing function nodes, innermost last.
        guarded: Inside a test about the device (``if torch.cuda.is_available()``),
            a conditional expression or code named for the device: a CPU
            fallback exists.
        in_config: Inside a config class (dataclass, pydantic, ``TrainConfig``):
            where hyperparameters belong.
        class_body: Directly in a class body (fields, not code).
        smoke: Inside an ``if __name__ == "__main__":`` smoke test (no
            optimizer, no loop): nothing there is a run setting.
        in_class: Anywhere inside a class (a model or layer definition).
    """

    scopes: tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...] = ()
    guarded: bool = False
    in_config: bool = False
    class_body: bool = False
    smoke: bool = False
    in_class: bool = False


#: Words in a test that make its branches device code: a CPU fallback exists
#: (``if torch.cuda.is_available()``), or the branch is multi-GPU by design
#: (``if ddp:``, ``if args.distributed:``, ``if world_size > 1:``).
_DEVICE_WORDS = (
    "cuda",
    "gpu",
    "device",
    "avail",
    "accel",
    "mps",
    "ddp",
    "distributed",
    "world_size",
    "local_rank",
)


def device_specific(name: str) -> bool:
    """Tell whether a function or class is named for a device (``def cuda(self)``).

    Code whose job is that device leaves the fallback to its callers.

    Args:
        name: The function or class name.

    Returns:
        True when it mentions cuda, gpu or mps.
    """
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


def configurator_line(tree: ast.Module) -> int:
    """Find a module-level ``exec(open(...).read())`` that overrides the settings above it.

    nanoGPT's ``exec(open("configurator.py").read())`` reads the command line
    and config files into the module's globals: the assignments above it are
    its defaults, i.e. configuration.

    Args:
        tree: The module.

    Returns:
        The statement's line, or 0 when there is none.
    """
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id == "exec"
            and stmt.value.args
            and "open" in ast.dump(stmt.value.args[0])
        ):
            return stmt.lineno
    return 0


class FileContext:
    """The per-file facts the checks share, and the findings they collect.

    Args:
        tree: The parsed module.
        lines: The source lines, for columns.
        options: What to check.
        codes: The selected codes (only these are recorded).
        source: The text, for the file-level facts (:mod:`~mlqa.rules.scope`);
            the lines joined when not given.
    """

    def __init__(
        self,
        tree: ast.Module,
        lines: list[str],
        options: Options,
        codes: frozenset[str],
        source: str | None = None,
    ) -> None:
        self.tree = tree
        self.lines = lines
        self.options = options
        self.codes = codes
        text = "\n".join(lines) if source is None else source
        #: Whether the file trains a model (the hyperparameter rules apply).
        self.trains = trains(text)
        #: Whether the file needs a GPU by design (the device rules do not apply).
        self.gpu_only = gpu_only(text)
        #: Module-level settings before this line are overridden at run time
        #: (nanoGPT's ``exec(open("configurator.py").read())``); 0 when none.
        self.config_line = configurator_line(tree) if "exec(" in text else 0
        self.imports: dict[str, str] = {}
        self.findings: list[RawFinding] = []
        self._reported: set[tuple[int, int, str]] = set()
        self._scopes: dict[int, Scope] = {}
        self._functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] | None = None

    def function(self, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """Return the module-level function of this file with that name, if one.

        Args:
            name: The function's name.

        Returns:
            Its definition, or None (also when defined twice).
        """
        if self._functions is None:
            found: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
            for stmt in self.tree.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found.setdefault(stmt.name, []).append(stmt)
            self._functions = {k: v[0] for k, v in found.items() if len(v) == 1}
        return self._functions.get(name)

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

    def wants(self, rule: Rule) -> bool:
        """Tell whether a rule is selected for this file.

        Args:
            rule: The rule.

        Returns:
            True when its findings are recorded.
        """
        return rule.code in self.codes

    def report(self, node: ast.AST, rule: Rule, message: str) -> None:
        """Record a finding of ``rule`` at ``node`` (once per place and code).

        Nothing is recorded when the rule is not selected.

        Args:
            node: Where; its ``lineno`` and ``col_offset`` are used.
            rule: The rule.
            message: One line.
        """
        code = rule.code
        if code not in self.codes:
            return
        line, offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        key = (line, offset, code)
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append((line, self.column(line, offset), code, message))
