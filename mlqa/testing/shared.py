"""``assert_no_shared_params``: no parameter is reachable under two names by mistake."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from mlqa.testing._core import check, describe, fail

if TYPE_CHECKING:
    from torch import nn


def _groups(model: nn.Module) -> list[list[str]]:
    """Names that reach the same parameter (or the same memory), two or more per group."""
    groups: dict[object, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        # distinct Parameters that view the same memory are shared too
        key: object = (
            (param.device, param.data_ptr(), int(param.storage_offset()))
            if param.numel()
            else id(param)
        )
        groups.setdefault(key, []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def _validate(tied: object, names: set[str]) -> list[tuple[str, ...]]:
    if isinstance(tied, str) or not isinstance(tied, Iterable):
        raise ValueError(f"tied={tied!r} must be a list of name pairs")
    groups = []
    for group in tied:
        if isinstance(group, str) or not isinstance(group, Sequence) or len(group) < 2:
            raise ValueError(f"tied entry {group!r} must be a pair of parameter names")
        for name in group:
            if name not in names:
                raise ValueError(f"tied name {name!r} is not a parameter of the model")
        groups.append(tuple(group))
    return groups


def _declared(tied: list[tuple[str, ...]]) -> dict[str, str]:
    """Union-find over the declared ties: each name mapped to its group's root."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for group in tied:
        for name in group[1:]:
            parent[root(name)] = root(group[0])
    return {name: root(name) for name in parent}


@check
def assert_no_shared_params(
    model: nn.Module, *, tied: Sequence[Sequence[str]] = ()
) -> None:
    """Assert no parameter is reachable under two names unless the tie is declared.

    One module placed twice (``nn.ModuleList([block] * n)``, a layer reused by
    mistake) makes every copy train the same weights. Parameter names are those
    of ``named_parameters(remove_duplicate=False)``; distinct Parameters viewing
    the same memory count as shared too. Declared ties (an output layer tied to
    the embedding) pass, and each declared tie must really be shared.

    Fails (AssertionError) naming every group of names that reach one parameter
    without a declared tie, and every declared tie that is not shared.

    Args:
        model: The module (not run, not changed).
        tied: Groups (usually pairs) of parameter names meant to share one
            parameter, e.g. ``[("tok.weight", "head.weight")]``.

    Raises:
        ValueError: If ``tied`` is malformed or names an unknown parameter.
    """
    params = dict(model.named_parameters(remove_duplicate=False))
    declared_groups = _validate(tied, set(params))
    declared = _declared(declared_groups)
    groups = _groups(model)
    problems = []
    for names in groups:
        roots = {declared.get(name, name) for name in names}
        if len(roots) > 1:
            shown = ", ".join(repr(n) for n in names[1:6])
            more = f" (+{len(names) - 6} more)" if len(names) > 6 else ""
            problems.append(
                f"parameter {names[0]!r} ({describe(params[names[0]])}) is also "
                f"reachable as {shown}{more}: one tensor, {len(names)} names"
            )
    shared_with = {name: i for i, names in enumerate(groups) for name in names}
    for group in declared_groups:
        found = {shared_with.get(name, -1 - i) for i, name in enumerate(group)}
        if len(found) > 1:
            problems.append(
                f"tied={group!r} is declared but these are different tensors: the tie "
                "is broken (re-created after tying, or copied by load/to())"
            )
    if problems:
        fail(
            problems,
            hint="nn.ModuleList([block] * n) or a list of the same module repeats one "
            "module: build a new one per slot (nn.ModuleList(Block() for _ in "
            "range(n)) or copy.deepcopy); declare deliberate ties with tied=",
        )
