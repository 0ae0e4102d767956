"""Tests for mlqa.mypy_plugin through ``mlqa types`` and real mypy.

One mypy run (module fixture, one ``.mypy_cache`` in the project) checks three
files: idiomatic PyTorch that must be clean, probes that assign each resolved
attribute to ``str`` (the error names the type the plugin found, so ``Any``
would pass silently and fail the test), and real errors that must still be
reported. The no-torch case runs in a real environment without torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from mlqa.diagnostics import Finding
from mlqa.tools import mypy as types

IDIOMS = '''"""Idioms from nanoGPT, minGPT and the DDP tutorials: must check clean."""
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Iterable

import torch
import torch.nn as nn
from torch.distributed.fsdp import FSDPModule, fully_shard
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
import numpy as np


class Block(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.fc = nn.Linear(n, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.fc(x))


class GPT(nn.Module):
    def __init__(self, n: int, flash: bool) -> None:
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(10, n),
            h=nn.ModuleList([Block(n) for _ in range(2)]),
            ln_f=nn.LayerNorm(n),
        ))
        self.heads = nn.ModuleDict({"a": nn.Linear(n, 2), "b": Block(n)})
        self.seq = nn.Sequential(nn.Linear(n, n), nn.ReLU())
        self.lm_head = nn.Linear(n, 10, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        if not flash:
            self.register_buffer("bias", torch.tril(torch.ones(4, 4)).view(1, 1, 4, 4))
        self.register_parameter("scale", nn.Parameter(torch.ones(1)))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.transformer.wte(idx)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.h[0](x)
        x = self.transformer.ln_f(x) * self.scale
        m = self.heads
        y = m.a(x) + self.heads.b(x)[..., :2]
        for layer in self.seq:
            x = layer(x)
        x = self.seq[0](x)
        att = x.masked_fill(self.bias[:, :, :4, :4] == 0, float("-inf"))
        n_params: int = self.transformer.wte.weight.numel()
        return self.lm_head(x) + att.sum() + y.sum() + n_params


def train() -> None:
    model = GPT(8, flash=True)
    model = torch.compile(model)
    model = DDP(model, device_ids=[0])
    raw_model = model.module if torch.cuda.is_available() else model
    raw_model.transformer.wte.weight.numel()
    model.require_backward_grad_sync = True
    out = model(torch.zeros(1, 4, dtype=torch.long))
    print(out.shape, raw_model.lm_head.in_features)


def from_pretrained(name: str):  # untyped: returns Any
    return GPT(8, flash=True)


def resume(init_from: str) -> None:
    if init_from == "scratch":
        model = GPT(8, flash=True)
    else:
        model = from_pretrained(init_from)  # model: GPT | Any
    model = torch.compile(model)
    model = DDP(model)
    raw_model = model.module
    print(raw_model.transformer.wte.weight.shape, raw_model.state_dict())


def run_epoch(loader: DataLoader[Any], epoch: int) -> float:
    loader.sampler.set_epoch(epoch)  # a DistributedSampler
    return 1.0 / len(loader.dataset)


def shard(model: GPT) -> None:
    fully_shard(model)


def save(model: FSDPModule) -> None:  # as in pytorch/examples' FSDP2 checkpoint
    model.reshard()
    print(model.state_dict(), sum(p.numel() for p in model.parameters()))


class CfgNode:
    """minGPT's config: attributes set through __dict__."""

    def __init__(self, **kwargs: object) -> None:
        self.__dict__.update(kwargs)


def get_default_config() -> CfgNode:
    C = CfgNode()
    C.model_type = "gpt"
    C.n_layer = C.n_head = 12
    return C


print(get_default_config().n_layer + 1)


@dataclass
class GPTConfig:  # nanoGPT: each key of model_args fits its own field
    n_layer: int = 12
    vocab_size: int = 50304
    dropout: float = 0.0
    bias: bool = True


model_args = dict(n_layer=4, dropout=0.0, bias=False, vocab_size=None)
model_args["vocab_size"] = 65
gptconf = GPTConfig(**model_args)
counts = dict(n_layer=4, bias=False)  # dict[str, int]: fits n_layer, goes to both
print(GPTConfig(**counts), gptconf)
loader_kwargs = {"num_workers": 1, "pin_memory": True}
print(DataLoader(torch.utils.data.TensorDataset(torch.zeros(4)), 2, **loader_kwargs))


class Checkpointer:  # pytorch/examples' FSDP2 example
    def load_model(self, model: FSDPModule) -> None:
        model.reshard()


def sharded_training(block: Block) -> None:
    fully_shard(block)  # block is now an FSDPModule too
    save(block)
    Checkpointer().load_model(block)


def load_weights(path: str) -> None:
    allowed = [GPT, Block]  # list[type]: invariance would reject it
    with torch.serialization.safe_globals(allowed):
        torch.load(path)
    torch.serialization.add_safe_globals(allowed)


def sparse_adjacency(edges: "np.ndarray") -> torch.Tensor:
    return torch.sparse_coo_tensor(edges.T, np.ones(len(edges)), (4, 4))


def sgd_step(model: nn.Module, lr: float) -> None:
    for p in model.parameters():
        p.data.add_(-lr * p.grad)
        p.data.add_(p.grad, alpha=-lr)
        p.grad = None


def pick_device() -> torch.device:
    if torch.accelerator.is_available():
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")
    print(device.type)
    return device


class TransformerModel(nn.Transformer):  # pytorch/examples' word_language_model
    def forward(self, src: torch.Tensor, has_mask: bool = True) -> torch.Tensor:
        return src


vgg_outputs = namedtuple("VggOutputs", ["relu1_2", "relu2_2"])


def head(nlayers: int, use_bn: bool) -> nn.Sequential:  # DINO's projection head
    layers = [nn.Linear(4, 8)]
    if use_bn:
        layers.append(nn.BatchNorm1d(8))
    layers.insert(1, nn.GELU())
    layers.extend([nn.ReLU(), nn.Dropout()])
    return nn.Sequential(*layers)


def numpy_habits(x: torch.Tensor) -> torch.Tensor:  # axis= is torch's alias of dim=
    m = torch.mean(x, axis=1, keepdims=True) + x.sum(axis=0)
    return torch.cat([m, x.max(axis=1).values], axis=0)


class FeedForward(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Experts(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Layer(nn.Module):  # LLMs-from-scratch's Qwen3 block: a module class per branch
    def __init__(self, moe: bool) -> None:
        super().__init__()
        if moe:
            self.ff = Experts()
        else:
            self.ff = FeedForward()


class KVCache(nn.Module):  # LLMs-from-scratch's KV cache
    def __init__(self):
        super().__init__()
        self.register_buffer("cache_k", None, persistent=False)

    def forward(self, keys):
        if self.cache_k is None:
            self.cache_k, self.cache_v = keys, keys
        else:
            self.cache_k = torch.cat([self.cache_k, keys], dim=1)
        return self.cache_k

    def reset(self):
        self.cache_k, self.cache_v = None, None


class Head(nn.Module):  # a slot holding one layer or another
    def __init__(self, nlayers: int) -> None:
        super().__init__()
        if nlayers == 1:
            self.mlp = nn.Linear(4, 2)
        else:
            self.mlp = nn.Sequential(nn.Linear(4, 4), nn.GELU())


def centered(x: torch.Tensor, mean: list[float]) -> torch.Tensor:  # DINO's PCA
    return x - torch.cuda.FloatTensor(mean)  # a legacy type torch's stubs lack


class Decoder(nn.Module):  # whisper's: the items' class, annotated
    def __init__(self, n: int) -> None:
        super().__init__()
        self.blocks: Iterable[Head] = nn.ModuleList([Head(1) for _ in range(n)])


class Block3d(nn.Module):  # a slot set to None, then to one layer or another
    def __init__(self, factorize: bool) -> None:
        super().__init__()
        self.attn = None
        if factorize:
            self.attn = nn.ModuleList([Head(1), Head(2)])
        else:
            self.attn = Head(1)


class Film(nn.Module):  # vit-pytorch's: a slot that may be off
    def __init__(self, film: bool) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 2) if film else None, nn.ReLU()])


def grid(h: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return torch.meshgrid((h, w), indexing="ij")


class Stages(nn.Module):  # lucidrains' U-Nets: a list of lists, unpacked
    def __init__(self) -> None:
        super().__init__()
        self.downs = nn.ModuleList([nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, act in self.downs:
            x = act(block(x))
        return x
'''

# Each line assigns a resolved attribute to ``str``: the error names its type.
PROBES = """import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from idioms import GPT

g = GPT(4, flash=False)
a: str = g.transformer.wte
b: str = g.transformer.h
c: str = g.bias
d: str = g.scale
e: str = g.heads.b
f: str = torch.compile(g)
h: str = DDP(g).module
i: str = torch.zeros(1).grad
j: str = torch.accelerator.current_accelerator()
"""
PROBED = {
    6: "Embedding",
    7: "ModuleList",
    8: "Tensor",
    9: "Parameter",
    10: "Block",
    11: "GPT",
    12: "GPT",
    13: "Tensor",
    14: "device",
}

WRONG = """from dataclasses import dataclass

import torch
from torch import nn

x: torch.Tensor = 5


def f(t: torch.Tensor) -> int:
    return t


layer = nn.Linear(in_features="4", out_features=2)
y = torch.zeros(1).no_such_attribute


@dataclass
class Config:
    n_layer: int = 12
    dropout: float = 0.0
    bias: bool = True
    name: str = "gpt"


model_args = dict(n_layer=b"4", dropout=b"0.1")  # bytes fit no field
config = Config(**model_args)


class Plain:
    def __init__(self) -> None:
        self.a = 1


print(Plain().b)
acc: torch.device = torch.accelerator.current_accelerator(check_available=True)
print(acc.type)


def needs_sharded(model: torch.distributed.fsdp.FSDPModule) -> None:
    print(model)


needs_sharded(5)
torch.sparse_coo_tensor([[0]], [1.0], size="2")


class Base:
    def forward(self, x: int) -> int:
        return x


class Sub(Base):  # not a torch module: the override is checked
    def forward(self, x: str) -> int:
        return 0


layers = [nn.Linear(4, 8)]
layers.append("relu")


class Slot:
    def __init__(self, deep: bool) -> None:
        self.mlp: nn.Linear = nn.Linear(4, 2)
        if deep:
            self.mlp = nn.Sequential(nn.Linear(4, 4))


print(torch.sum(torch.ones(2), axis="0"))
print(len([3, 1], axis=0))


class Expert(nn.Module):
    pass


class Dense(nn.Module):
    pass


class Annotated(nn.Module):
    def __init__(self, moe: bool) -> None:
        super().__init__()
        self.ff: Expert = Expert()
        if not moe:
            self.ff = Dense()


legacy = torch.cuda.FloatTensr([1.0])


class Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[nn.Linear] = nn.ModuleList([nn.ReLU(), nn.Linear(2, 2)])


weight, bias = nn.Linear(2, 2)
mixed = nn.ModuleList([nn.Linear(2, 2), "relu"])
print(torch.meshgrid((1, 2)))
"""


@pytest.fixture(scope="module")
def checked(
    tmp_path_factory: pytest.TempPathFactory, torch_mypy_cache: Path
) -> dict[str, object]:
    """Run ``mlqa types`` once over all three files (one shared mypy cache)."""
    root = tmp_path_factory.mktemp("plugin")
    shutil.copytree(torch_mypy_cache, root / ".mypy_cache")  # torch analysed once
    # KVCache's unannotated methods test the buffer filter, not mypy_untyped's
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'p'\n[tool.mlqa]\nreport-untyped-guesses = true\n"
    )
    for name, text in (("idioms", IDIOMS), ("probes", PROBES), ("wrong", WRONG)):
        (root / f"{name}.py").write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "mlqa", "types", "--format", "json"]
        + ["idioms.py", "probes.py", "wrong.py"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    )
    return {
        "rc": proc.returncode,
        "stderr": proc.stderr,
        "items": json.loads(proc.stdout or "[]"),
    }


def findings(checked: dict[str, object], path: str) -> list[dict[str, object]]:
    items = checked["items"]
    assert isinstance(items, list)
    return [i for i in items if i["path"] == path]


@pytest.mark.slow
def test_torch_idioms_check_clean(checked: dict[str, object]) -> None:
    assert findings(checked, "idioms.py") == []
    assert checked["stderr"] == ""  # torch is installed: no note


@pytest.mark.slow
def test_attributes_resolve_to_precise_types(checked: dict[str, object]) -> None:
    got = {i["line"]: i for i in findings(checked, "probes.py")}
    assert sorted(got) == sorted(PROBED)
    for line, type_name in PROBED.items():
        assert got[line]["code"] == "mypy[assignment]"
        assert f'expression has type "{type_name}"' in str(got[line]["message"])


@pytest.mark.slow
def test_real_errors_still_reported(checked: dict[str, object]) -> None:
    got = [(i["line"], i["code"]) for i in findings(checked, "wrong.py")]
    assert got == [
        (6, "mypy[assignment]"),  # x: torch.Tensor = 5
        (10, "mypy[return-value]"),  # a Tensor returned as int
        (13, "mypy[arg-type]"),  # nn.Linear(in_features="4")
        (14, "mypy[attr-defined]"),  # unknown Tensor attribute
        (26, "mypy[arg-type]"),  # Config(**bytes values): one finding, not four
        (34, "mypy[attr-defined]"),  # unknown attribute of a plain class
        (35, "mypy[assignment]"),  # check_available=True: None is possible
        (43, "mypy[arg-type]"),  # an int is no FSDPModule, nor a module
        (44, "mypy[arg-type]"),  # the size of a sparse tensor is still checked
        (53, "mypy[override]"),  # forward of a class that is no torch module
        (58, "mypy[arg-type]"),  # a list of layers takes layers only
        (65, "mypy[assignment]"),  # a slot the user annotated keeps its type
        (68, "mypy[call-overload]"),  # axis= is checked as dim= is
        (69, "mypy[call-arg]"),  # and is no keyword of functions outside torch
        (85, "mypy[assignment]"),  # a slot the user annotated keeps its type
        (88, "mypy[attr-defined]"),  # torch.cuda has no FloatTensr
        (94, "mypy[assignment]"),  # a ReLU among them is no Linear
        (97, "mypy[attr-defined]"),  # a Linear is no container: unpacking fails
        (98, "mypy[list-item]"),  # None may be in a ModuleList, a string not
        (99, "mypy[arg-type]"),  # a tuple of tensors, not of ints
    ]
    assert checked["rc"] == 1
    (expansion,) = [
        i["message"] for i in findings(checked, "wrong.py") if i["line"] == 26
    ]
    assert 'incompatible type "**dict[str, ' in str(expansion)
    assert all(f'"{t}"' in str(expansion) for t in ("int", "float", "bool", "str"))


def test_collapse_one_finding_per_expansion() -> None:
    head = 'Argument 1 to "C" has incompatible type "**dict[str, object]"; expected'
    mypy_says = [
        Finding("a.py", 3, 5, "arg-type", f'{head} "int"'),
        Finding("a.py", 3, 5, "arg-type", f'{head} "float"'),
        Finding("a.py", 3, 9, "arg-type", 'Argument "x" to "f" ... expected "int"'),
        Finding("a.py", 4, 5, "arg-type", f'{head} "bool"'),
        Finding(
            "a.py",
            5,
            1,
            "assignment",
            'Incompatible types in assignment (expression has type "bool", '
            'variable has type "Tensor | Module")',
        ),
        Finding("a.py", 6, 1, "assignment", "Incompatible types (...)"),
    ]
    assert types.collapse(mypy_says) == [
        Finding("a.py", 3, 5, "arg-type", f'{head} "int", "float"'),
        mypy_says[2],
        mypy_says[3],
        mypy_says[5],
    ]


def _env_without_torch(where: Path) -> Path:
    """Make a real Python environment with mypy and mlqa but no torch.

    A fresh venv whose one ``.pth`` line adds a folder of links to this
    environment's packages, torch left out: mypy then finds no torch, as in
    pre-commit's isolated hook environment.
    """
    import mypy

    venv.create(where / "venv", with_pip=False)
    site = where / "site"
    site.mkdir()
    for entry in Path(mypy.__file__).parents[1].iterdir():
        if entry.suffix != ".pth" and not entry.name.startswith(
            ("torch", "functorch", "mlqa")
        ):
            (site / entry.name).symlink_to(entry)
    (site / "mlqa").symlink_to(Path(types.__file__).parents[1])
    pth = next((where / "venv" / "lib").glob("python*/site-packages"))
    (pth / "extra.pth").write_text(f"{site}\n")
    return where / "venv" / "bin" / "python"


def test_isolated_env_says_once_that_torch_is_missing(tmp_path: Path) -> None:
    python = _env_without_torch(tmp_path / "env")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (proj / "a.py").write_text("import torch\n\nx: torch.Tensor = 5\n")
    (proj / "b.py").write_text("from torch import nn\n\ny: int = 'a'\n")
    (proj / "c.py").write_text("z = 1\n")
    proc = subprocess.run(
        [str(python), "-m", "mlqa", "types", "a.py", "b.py", "c.py"],
        cwd=proj,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    # Without torch its types are Any: only the plain type error is found.
    assert proc.stdout.splitlines() == [
        "b.py:3:10: mypy[assignment] Incompatible types in assignment (expression has "
        'type "str", variable has type "int")'
    ]
    assert proc.stderr.splitlines() == [types.TORCH_MISSING]
    assert "mlqa-types-system" in types.TORCH_MISSING
    # No torch import, no note.
    proc = subprocess.run(
        [str(python), "-m", "mlqa", "types", "c.py"],
        cwd=proj,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
