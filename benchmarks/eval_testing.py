"""Side by side: the bug zoo (tests/bugzoo.py) through pytest-torch, mlqa's API and mlqa's battery.

For each zoo model, every tool runs the checks a user would write with its
documented API, given what the user knows about the model (its output shape
and dtype, its sequence dimension, its frozen and tied parameters). A bug is
*caught* when at least one check fails on it; a correct model that fails any
check is a *false alarm*.

- pytest-torch (``pip install pytest-torch``, not a dependency of mlqa):
  ``check_inference_contract`` (eval mode, finite, deterministic, batch
  invariance, no state mutation), ``assert_output_spec`` (shape and dtype),
  ``assert_gradients_finite``, ``assert_all_params_receive_grad``,
  ``assert_overfits_one_batch``, ``assert_checkpoint_roundtrip``,
  ``assert_frozen`` (declared frozen patterns), ``assert_optimizer_coverage``.
  It has no causality or shared-parameter check.
- mlqa API: every ``mlqa.testing`` assertion that applies.
- mlqa battery: ``pytest --mlqa`` on a generated ``[tool.mlqa.models.*]`` table
  per model (a subprocess in a temporary directory; outcomes from JUnit XML).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/eval_testing.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import bugzoo  # noqa: E402

Checks = dict[str, Callable[[], Any]]


def fresh(spec: bugzoo.Spec, seed: int = 0) -> tuple[torch.nn.Module, Any, Any]:
    torch.manual_seed(seed)
    model = spec.factory()
    inputs, targets = spec.batch()
    return model, inputs, targets


def torch_checks(spec: bugzoo.Spec) -> Checks:
    import pytest_torch as pt

    def loss_of(targets: Any) -> Callable[[Any], torch.Tensor]:
        return lambda output: spec.loss(output, targets)

    def contract() -> None:
        model, x, _ = fresh(spec)
        pt.check_inference_contract(model.eval(), x, devices=[])

    def output_spec() -> None:
        model, x, _ = fresh(spec)
        with torch.inference_mode():
            out = model.eval()(x)
        shape = tuple(spec.shape)
        pt.assert_output_spec(
            out, pt.TensorSpec(shape, dtype=torch.float32), B=x.shape[0]
        )

    def gradients_finite() -> None:
        model, x, y = fresh(spec)
        pt.assert_gradients_finite(model.train(), x, loss_of(y))

    def params_receive_grad() -> None:
        model, x, y = fresh(spec)
        pt.assert_all_params_receive_grad(model.train(), x, loss_of(y))

    def overfits() -> None:
        model, x, y = fresh(spec)
        pt.assert_overfits_one_batch(model.train(), x, loss_of(y))

    def checkpoint() -> None:
        _, x, _ = fresh(spec)
        pt.assert_checkpoint_roundtrip(spec.factory, x)

    def frozen() -> None:
        model, x, y = fresh(spec)
        patterns = [f"{p}.*" for p in spec.frozen]
        pt.assert_frozen(model, x, loss_of(y), patterns)

    def optimizer_coverage() -> None:
        model, _, _ = fresh(spec)
        trainable = [p for p in model.parameters() if p.requires_grad]
        pt.assert_optimizer_coverage(model, torch.optim.Adam(trainable))

    checks: Checks = {
        "contract": contract,
        "output_spec": output_spec,
        "gradients_finite": gradients_finite,
        "params_receive_grad": params_receive_grad,
        "overfits_one_batch": overfits,
        "checkpoint_roundtrip": checkpoint,
        "optimizer_coverage": optimizer_coverage,
    }
    if spec.frozen:
        checks["frozen"] = frozen
    return checks


def mlqa_checks(spec: bugzoo.Spec) -> Checks:
    import mlqa.testing as mt

    def batch() -> tuple[torch.nn.Module, Any]:
        model, x, y = fresh(spec)
        return model, (x, y)

    checks: Checks = {
        "output_shape": lambda: mt.assert_output_shape(
            fresh(spec)[0], fresh(spec)[1], spec.shape, dtype=torch.float32
        ),
        "finite": lambda: mt.assert_finite(*batch(), spec.loss),
        "params_update": lambda: mt.assert_params_update(
            *batch(), spec.loss, frozen=list(spec.frozen)
        ),
        "overfit": lambda: mt.assert_overfits_batch(*batch(), spec.loss),
        "batch_independent": lambda: mt.assert_batch_independent(
            fresh(spec)[0], fresh(spec)[1]
        ),
        "eval_mode": lambda: mt.assert_eval_mode(fresh(spec)[0], fresh(spec)[1]),
        "dtype_consistent": lambda: mt.assert_dtype_consistent(
            fresh(spec)[0], fresh(spec)[1]
        ),
        "checkpoint_roundtrip": lambda: mt.assert_checkpoint_roundtrip(
            spec.factory, fresh(spec)[1]
        ),
        "shared_params": lambda: mt.assert_no_shared_params(
            fresh(spec)[0], tied=[list(t) for t in spec.tied]
        ),
        "deterministic": lambda: mt.assert_deterministic(
            spec.factory, spec.batch(), spec.loss
        ),
    }
    if spec.causal:
        checks["causal"] = lambda: mt.assert_causal(fresh(spec)[0], fresh(spec)[1])
    return checks


def run_checks(checks: Checks) -> tuple[list[str], float]:
    failed = []
    start = time.perf_counter()
    for name, check in checks.items():
        try:
            check()
        except AssertionError:
            failed.append(name)
        except (
            Exception
        ) as exc:  # noqa: BLE001 - a crash on a model counts as a finding
            failed.append(f"{name}!{type(exc).__name__}")
    return failed, time.perf_counter() - start


def toml_value(value: Any) -> str:
    return json.dumps(value)


def battery(names: list[str]) -> tuple[dict[str, list[str]], float]:
    """Run ``pytest --mlqa`` on one table per zoo model; return the failing items."""
    tables = []
    for name in names:
        spec = bugzoo.ZOO[name]
        lines = [
            f"[tool.mlqa.models.{name}]",
            f'factory = "bugzoo:{spec.factory.__name__}"',
            f'batch = "bugzoo:{spec.batch.__name__}"',
            f'loss = "bugzoo:{spec.loss.__name__}"',
            f"output_shape = {toml_value(list(spec.shape))}",
            'output_dtype = "float32"',
            f"frozen = {toml_value(list(spec.frozen))}",
        ]
        if spec.causal:
            lines.append("causal_dim = 1")
        if spec.tied:
            lines.append(f"tied = {toml_value([list(t) for t in spec.tied])}")
        tables.append("\n".join(lines))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "tests" / "bugzoo.py", tmp)
        Path(tmp, "pyproject.toml").write_text("\n\n".join(tables) + "\n")
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=tmp)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "--mlqa", "-q", "-p", "no:cacheprovider",
             "-p", "no:randomly", "--junitxml=out.xml", "-o", "junit_family=xunit2"],
            cwd=tmp, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        failed: dict[str, list[str]] = {name: [] for name in names}
        for case in ET.parse(Path(tmp, "out.xml")).iter("testcase"):
            if case.find("failure") is None and case.find("error") is None:
                continue
            # mlqa::<model>::<check> is classname "mlqa.<model>", name "<check>"
            model = case.get("classname", "").removeprefix("mlqa.")
            failed.setdefault(model, []).append(case.get("name", ""))
    return failed, elapsed


def battery_in_process(name: str) -> tuple[dict[str, float], float]:
    """Time every default battery item of one zoo model in this process (warm: second run)."""
    from mlqa.testing.battery import CHECKS, ModelSpec
    from mlqa.testing.battery_items import run_check

    spec = bugzoo.ZOO[name]
    model_spec = ModelSpec(
        name=name,
        factory=spec.factory,
        batch=spec.batch,
        loss=spec.loss,
        checks=CHECKS,
        output_shape=tuple(spec.shape),
        output_dtype="float32",
        frozen=tuple(spec.frozen),
        tied=tuple(spec.tied),
    )
    checks = [c for c in CHECKS if c not in ("loss_at_init", "causal", "device_parity")]
    times: dict[str, float] = {}
    for _ in range(2):
        for check in checks:
            start = time.perf_counter()
            run_check(model_spec, check, device="cpu")
            times[check] = time.perf_counter() - start
    return times, sum(times.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="zoo names (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = args.only or list(bugzoo.ZOO)
    for warm_up in (torch_checks, mlqa_checks):  # imports and first calls, untimed
        run_checks(warm_up(bugzoo.ZOO["mlp"]))
    rows = []
    times = {"pytest-torch": 0.0, "mlqa API": 0.0}
    for name in names:
        spec = bugzoo.ZOO[name]
        pt_failed, pt_time = run_checks(torch_checks(spec))
        api_failed, api_time = run_checks(mlqa_checks(spec))
        times["pytest-torch"] += pt_time
        times["mlqa API"] += api_time
        rows.append((name, spec, pt_failed, api_failed))
    battery_failed, times["mlqa battery"] = battery(names)

    def verdict(spec: bugzoo.Spec, failed: list[str]) -> str:
        if spec.catches:
            return "caught" if failed else "MISSED"
        return "FALSE ALARM" if failed else "ok"

    print(f"torch {torch.__version__}, 1 thread; {len(names)} zoo models")
    print(
        f"{'model':28} {'bug: intended check':24} {'pytest-torch':34} {'mlqa API':34} mlqa battery"
    )
    totals: dict[str, list[int]] = {k: [0, 0] for k in times}
    for name, spec, pt_failed, api_failed in rows:
        bat_failed = battery_failed.get(name, [])
        cells = []
        for tool, failed in (
            ("pytest-torch", pt_failed),
            ("mlqa API", api_failed),
            ("mlqa battery", bat_failed),
        ):
            v = verdict(spec, failed)
            totals[tool][0 if spec.catches else 1] += v in ("caught", "FALSE ALARM")
            cells.append(f"{v} ({', '.join(failed)})" if failed else v)
        intended = spec.catches[0] if spec.catches else "(correct)"
        print(f"{name:28} {intended:24} {cells[0]:34} {cells[1]:34} {cells[2]}")
    bugs = sum(1 for _, spec, _, _ in rows if spec.catches)
    correct = len(rows) - bugs
    exact = {
        "mlqa API": sum(set(api) == set(s.catches) for _, s, _, api in rows),
        "mlqa battery": sum(
            set(battery_failed.get(n, [])) == set(s.catches) for n, s, _, _ in rows
        ),
    }
    print()
    for tool, (caught, alarms) in totals.items():
        print(
            f"{tool:13} caught {caught}/{bugs} bugs, false alarms {alarms}/{correct} "
            f"correct models, {times[tool]:.1f} s"
            + (
                f"; exactly the zoo's expected checks fail on {exact[tool]}/{len(rows)}"
                if tool in exact
                else ""
            )
        )
    times_cnn, total = battery_in_process("cnn_batchnorm")
    print(
        f"\ndefault battery of cnn_batchnorm in process (warm): {total:.2f} s = "
        + ", ".join(f"{c} {t * 1000:.0f} ms" for c, t in times_cnn.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
