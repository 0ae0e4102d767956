"""A mypy plugin that understands PyTorch modules.

``nn.Module.__getattr__`` is annotated ``-> Tensor | Module``, so without help
mypy types every attribute it cannot find on a module (a ``ModuleDict`` key, a
registered buffer, a submodule added by name) as that union, and idiomatic
code (``self.transformer.wte(idx)``, ``self.bias[:, :T]``) fails to check.
mypy calls the attribute hook for every attribute of a class that defines
``__getattr__``; this plugin answers it:

- a key of ``nn.ModuleDict(dict(a=...))`` / ``nn.ModuleDict({"a": ...})`` has
  the type of its value (the dict's keys travel with the ``ModuleDict`` type,
  so they survive ``self.x = ...``, aliases and mypy's cache);
- a name given to ``self.register_buffer("name", ...)`` is a ``Tensor``, one
  given to ``self.register_parameter`` a ``Parameter`` (found when the class
  is analysed, kept in the class's metadata, so in mypy's cache too);
- ``.module`` of a module is the module itself (see the wrappers below);
- anything else mypy cannot find is ``Any``, never ``Tensor | Module``.

A class that stores its attributes dynamically (``self.__dict__.update(kw)``
or ``setattr(self, name, value)`` with a computed name, as config objects
such as minGPT's ``CfgNode`` do) is treated like a class with an unknown
base: attributes mypy cannot find on it are ``Any`` instead of errors. So is
FSDP2's ``FSDPModule``: ``fully_shard(model)`` turns ``model`` into a subclass
of both ``FSDPModule`` and the model's class, which torch's types cannot say.

``loader.dataset`` and ``loader.sampler`` of a ``DataLoader`` are ``Any``:
torch declares them as the base classes (``Dataset``, ``Sampler |
Iterable``), which lack what the objects passed in have (``len(dataset)``,
``DistributedSampler.set_epoch``).

``torch.compile(m)`` and the wrappers ``DistributedDataParallel(m)``,
``DataParallel(m)`` and ``FullyShardedDataParallel(m)`` have the type of
``m``: ``model = DDP(model)`` keeps ``model`` usable, calling it returns what
calling ``m`` returns, and its ``.module`` is ``m``'s type.

``f(**config)`` with a plain dict is reported only when the dict's value type
fits none of the parameters it may fill (see :mod:`mlqa.mypy_plugin._calls`):
nanoGPT's ``GPTConfig(**model_args)`` checks clean.

Enable it with ``plugins = ["mlqa.mypy_plugin"]`` under ``[tool.mypy]``
(mlqa's own preset does). Without torch installed nothing here applies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from mypy.plugin import (
    AttributeContext,
    ClassDefContext,
    FunctionContext,
    FunctionSigContext,
    MethodSigContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import CallableType, FunctionLike, Type

from mlqa.mypy_plugin._calls import dict_kwargs
from mlqa.mypy_plugin._classes import collect_registered, mark_dynamic
from mlqa.mypy_plugin._torch_api import (
    CURRENT_ACCELERATOR,
    GRAD,
    LIST_METHODS,
    MESHGRID,
    MODULE_LIST,
    SAFE_GLOBALS,
    SPARSE_FACTORIES,
    accept_sharded,
    any_layer,
    current_accelerator,
    gradient,
    numpy_names,
    optional_items,
    tensor_tuples,
    unchecked_arguments,
)
from mlqa.mypy_plugin._types import (
    MODULE,
    any_type,
    module_attribute,
    module_dict,
    same_type,
)

MODULE_DICT = "torch.nn.modules.container.ModuleDict"
# Calls whose result has the type of their first argument.
SAME_TYPE = frozenset(
    {
        "torch.compile",
        "torch.nn.parallel.distributed.DistributedDataParallel",
        "torch.nn.parallel.data_parallel.DataParallel",
        "torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel",
    }
)
_ATTRIBUTE_PREFIX = MODULE + "."
# Attributes torch declares as a base class the real object is always more than.
_LOADER_ATTRIBUTES = frozenset(
    f"torch.utils.data.dataloader.DataLoader.{name}" for name in ("dataset", "sampler")
)


def _source_digest() -> str:
    """Hash this package's sources: mypy hashes only the entry module itself."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class TorchPlugin(Plugin):
    """The mypy plugin: see the module docstring."""

    def report_config_data(self, ctx: ReportConfigContext) -> str:
        """Tie mypy's cache to the plugin's code, all modules of it.

        mypy invalidates its cache when the entry module changes, not when
        another module of the plugin does: an upgrade that changes only
        ``_types.py`` would otherwise keep answers cached by the old code.

        Args:
            ctx: mypy's context (unused: the same data for every module).

        Returns:
            A digest of the plugin's sources.
        """
        del ctx
        return _DIGEST

    def get_attribute_hook(
        self, fullname: str
    ) -> Callable[[AttributeContext], Type] | None:
        """Answer attributes of ``nn.Module`` subclasses (see :func:`module_attribute`).

        Args:
            fullname: ``torch.nn.modules.module.Module.<name>`` for attributes
                found through ``Module.__getattr__``; ``DataLoader.dataset``.

        Returns:
            The hook, or None for other attributes.
        """
        if fullname.startswith(_ATTRIBUTE_PREFIX):
            return partial(module_attribute, fullname[len(_ATTRIBUTE_PREFIX) :])
        if fullname in _LOADER_ATTRIBUTES:
            return any_type
        if fullname in GRAD:
            return gradient
        return None

    def get_function_hook(
        self, fullname: str
    ) -> Callable[[FunctionContext], Type] | None:
        """Answer ``ModuleDict(...)``, ``torch.compile`` and the DDP/FSDP wrappers.

        Args:
            fullname: The called function or class.

        Returns:
            The hook, or None for other calls.
        """
        if fullname == MODULE_DICT:
            return module_dict
        if fullname in SAME_TYPE:
            return same_type
        if fullname == CURRENT_ACCELERATOR:
            return current_accelerator
        return None

    def get_function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        """Check calls as :func:`dict_kwargs` and :mod:`._torch_api` say.

        Args:
            fullname: The called function or class (every call is seen here).

        Returns:
            The hook (cheap for calls without ``**`` or an ``FSDPModule``
            parameter).
        """
        if fullname in SAFE_GLOBALS or fullname in SPARSE_FACTORIES:
            return unchecked_arguments
        widen = _WIDENED.get(fullname)
        if widen is not None:
            return partial(_checked_call, widen=widen)
        return _checked_call

    def get_method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        """Check ``**`` arguments of method calls as :func:`dict_kwargs` says.

        Args:
            fullname: The called method.

        Returns:
            The hook.
        """
        if fullname in LIST_METHODS:
            return any_layer
        return _checked_call

    def get_base_class_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """Record registered buffers and parameters of every class defined.

        Args:
            fullname: A base class of a class being defined.

        Returns:
            The hook (cheap: it reads the class's own method bodies only).
        """
        del fullname
        return collect_registered

    def get_customize_class_mro_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """Find classes that set their attributes dynamically (see :func:`mark_dynamic`).

        Args:
            fullname: The class being defined (every class is seen here).

        Returns:
            The hook.
        """
        del fullname
        return mark_dynamic


_Widen = Callable[[FunctionSigContext | MethodSigContext, CallableType], CallableType]
#: Calls whose parameters torch's stubs make narrower than torch (._torch_api).
_WIDENED: dict[str, _Widen] = {MODULE_LIST: optional_items, MESHGRID: tensor_tuples}


def _checked_call(
    ctx: FunctionSigContext | MethodSigContext, widen: _Widen | None = None
) -> FunctionLike:
    """Widen ``FSDPModule`` parameters (and ``widen``'s), then check ``**`` arguments."""
    signature = dict_kwargs(ctx)
    if isinstance(signature, CallableType):
        if widen is not None:
            signature = widen(ctx, signature)
        return numpy_names(ctx, accept_sharded(ctx, signature))
    return signature


_DIGEST = _source_digest()


def plugin(version: str) -> type[Plugin]:
    """Return the plugin class (mypy's entry point).

    Args:
        version: mypy's version.

    Returns:
        :class:`TorchPlugin`.
    """
    del version
    return TorchPlugin
