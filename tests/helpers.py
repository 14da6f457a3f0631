"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import importlib.util
import inspect
import os
import resource
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
DATA = Path(__file__).resolve().parent / "data"
#: A spec using every construct of the format, and the spec it uses.
CONSTRUCTS = DATA / "constructs"


def screenshots_tool():
    """tools/docs_screenshots.py as a module (a dataclass's module must be in sys.modules)."""
    if "docs_screenshots" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "docs_screenshots", ROOT / "tools" / "docs_screenshots.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["docs_screenshots"] = module
        spec.loader.exec_module(module)
    return sys.modules["docs_screenshots"]


def all_specs() -> list[Path]:
    """Every bundled spec file."""
    return sorted(SPECS.rglob("*.yaml"))


def structural_values(spec) -> dict:
    """The symbols that decide how many layers there are (stage depths, RegNet's design
    parameters), at their defaults as ``--set`` takes them: an analysis never leaves them open."""
    return {
        n: (str(spec.symbols[n].default))
        for n in sorted(spec.structural)
        if spec.symbols[n].default is not None
    }


def small_values(spec) -> dict:
    """Small concrete symbol values for running a spec quickly.

    Spatial input symbols (axes 2 and up) at most 64 and at least what the spec's constraints
    require; the batch symbol 2; symbols without a default 5; the others (stage depths among
    them) their defaults.
    """
    from cnncalc.core.engine import analyze

    spatial = {n for e in spec.input[2:] for n in e.names}
    batch = set(spec.input[0].names)
    values = {}
    for name, sym in spec.symbols.items():
        if name in batch:
            values[name] = 2
        elif name in spatial:
            values[name] = min(sym.default or 64, 64)
        elif sym.default is None and sym.derived is None:  # a derived one follows the others
            values[name] = 5
    # Raise sizes to the lower bounds the symbolic analysis reports.
    for c in analyze(spec, structural_values(spec), symbolic=True).constraints:
        name, op, bound = c.condition.partition(" >= ")
        if op and name in values and bound.isdigit():
            values[name] = max(values[name], int(bound))
    return values


def run_forked(
    args: list[str], stdin, tmp_path: Path, *, timeout: float, memory: int
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``cnncalc.cli.main(args)`` run in a forked child that may
    map ``memory`` bytes more than the test process; the test fails if it runs over ``timeout``
    seconds.

    The child inherits the imports of the test process, so a run costs only its own work.
    ``stdin`` is an open file for standard input (default: /dev/null).
    """
    import cnncalc.cli
    import cnncalc.report
    from cnncalc.core import dims

    dims.sp()
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            status = 70
            try:
                # The child inherits the test process's address space (numba, onnxruntime and
                # torch reserve gigabytes of it): the limit is ``memory`` beyond what it has.
                with open("/proc/self/statm") as statm:
                    mapped = int(statm.read().split()[0]) * resource.getpagesize()
                resource.setrlimit(resource.RLIMIT_AS, (mapped + memory, mapped + memory))
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                if stdin is not None:
                    os.dup2(stdin.fileno(), 0)
                else:
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                sys.stdin = open(0, closefd=False)  # noqa: SIM115
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                # The child starts deep in pytest's (and xdist's) frames: give it the room a
                # fresh interpreter's command line has above them.
                depth = len(inspect.stack(0))
                sys.setrecursionlimit(sys.getrecursionlimit() + depth)
                status = cnncalc.cli.main(args)
            except SystemExit as exc:  # argparse's refusals
                status = exc.code if isinstance(exc.code, int) else 2
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        status = 71
                os._exit(status)
    deadline = time.monotonic() + timeout
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail(f"cnncalc {' '.join(args)[:200]} ran for more than {timeout} s")
        time.sleep(0.01)
    return (
        os.waitstatus_to_exitcode(wait_status),
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
    )


def torch_flop_counter_macs(model, x) -> int:
    """torch's flop counter (``torch.utils.flop_counter``), halved: the multiply-accumulates of
    every convolution and matrix product the model runs (``mm``, ``addmm``, ``bmm``), bias
    excluded. The oracle of transformers, whose attention the hooks of :func:`torch_macs` do not
    see (``nn.MultiheadAttention`` calls its projections as functions, and the products of
    attention are not modules). Attention runs in its plain ``math`` form, whose products the
    counter sees, and with gradients on, so that ``nn.MultiheadAttention`` takes its counted path
    rather than its fused inference kernel."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with sdpa_kernel(SDPBackend.MATH), counter:
        model(x)
    flops = counter.get_total_flops()
    assert flops % 2 == 0, flops
    return flops // 2


def torch_macs(model, x, *, meta: bool = True) -> int:
    """torch's own count of a model's multiply-accumulates: forward hooks on ``Conv2d`` (output
    elements x input channels per group x kernel area) and ``Linear`` (output elements x input
    features), bias excluded. With ``meta`` the model is moved to the meta device (shapes only,
    no arithmetic; the model is left there), else it runs where it is."""
    import torch

    total = 0

    def conv(m, _inputs, out):
        nonlocal total
        total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, _inputs, out):
        nonlocal total
        total += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear))
    if meta:
        model, x = model.to("meta"), x.to("meta")
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return total
