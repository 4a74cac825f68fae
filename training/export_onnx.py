"""ONNX export of one v3 step for N agents, with the whole per-agent state explicit.

``export_step_onnx(model_path, out_path)`` writes a graph that any ONNX host (ONNX Runtime,
Unity Sentis, Unreal NNE, TensorRT's ``trtexec``) can run frame by frame: the host keeps the
state, feeds it back, and supplies the noise ``eps`` (drawn with
:func:`gazehead_rt.philox_normal` when it wants the runtime's exact samples; docs/onnx.md).

The graph is :meth:`training.model.GazeHeadModel.step` with the model's normalization,
fps, neck softness and eye limit baked in as constants. The GRU cell is written out as
MatMul/Sigmoid/Tanh: no ``GRU`` operator, no control flow, so an engine runtime with a
small operator set (GPU shader back-ends, TensorRT without plugins) runs it as is.

Command line: ``gazehead-rt export-onnx MODEL -o step.onnx [--opset 17]``.
"""

from __future__ import annotations

import io
import json
import os

import onnx
import torch
from torch import nn

from gazehead_rt.files import write_atomically
from gazehead_rt.model_file import FORMAT_VERSION, STYLE_SIZE, load_model

from .model import GazeHeadModel, StepState, condition_features, reach_target

__all__ = ["INPUT_NAMES", "OUTPUT_NAMES", "StepGraph", "export_step_onnx", "gru_cell"]

#: graph inputs in order; shapes with N the dynamic agent axis
#: Opsets the step exports to: from 11 (older ones lack the ops the graph needs, and the
#: exporter fails with an assertion) to 23 (the newest the TorchScript exporter of the pinned
#: torch 2.13 writes).
MIN_OPSET, MAX_OPSET = 11, 23
INPUT_NAMES = (
    "gaze",
    "gaze_prev",
    "has_prev",
    "head_prev",
    "head_vel_prev",
    "z_prev",
    "s_prev",
    "style",
    "eps",
    "temperature",
    "neck_limits",
)
#: graph outputs in order; (head_vel, z, s) are the next frame's (head_vel_prev, z_prev, s_prev)
OUTPUT_NAMES = ("head", "eye", "head_vel", "z", "s")
#: the per-agent inputs and outputs (dynamic N); temperature and neck_limits are shared
_BATCHED = tuple(n for n in INPUT_NAMES if n not in ("temperature", "neck_limits")) + OUTPUT_NAMES


def gru_cell(x: torch.Tensor, h: torch.Tensor, cell: nn.GRUCell) -> torch.Tensor:
    """``cell(x, h)`` written with matmuls and pointwise ops (PyTorch gate order r, z, n).

    The last line follows ATen's CPU GRU cell, ``(h - n) * z + n``, rather than the textbook
    ``(1 - z) * n + z * h``, so the exported graph rounds like the reference.
    """
    gi = torch.matmul(x, cell.weight_ih.t()) + cell.bias_ih
    gh = torch.matmul(h, cell.weight_hh.t()) + cell.bias_hh
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (h - n) * z + n


class StepGraph(nn.Module):
    """The v3 step as a pure function of explicit tensors (what the ONNX graph computes)."""

    def __init__(self, model: GazeHeadModel):
        super().__init__()
        self.m = model.eval()

    def forward(
        self,
        gaze,
        gaze_prev,
        has_prev,
        head_prev,
        head_vel_prev,
        z_prev,
        s_prev,
        style,
        eps,
        temperature,
        neck_limits,
    ):
        m = self.m
        state = StepState(
            s_prev, head_prev, head_vel_prev, z_prev, gaze_prev, has_prev > 0.5, style
        )
        x = condition_features(
            gaze, state.gaze, state.head, state.head_vel, state.style, state.has_prev, m.config.fps
        )
        s = gru_cell(m.encode(x, state.z), state.s, m.gru)
        mu, sigma = m.split_gaussian(m.prior(s))
        z = mu + temperature * sigma * eps
        v = m.velocity(s, z, x, reach_target(gaze, state.head))
        head, vel = m.limit(state.head, v, neck_limits)
        eye = m.eye_out(gaze, head)
        return head, eye, vel, z, s


def _example_inputs(hidden: int, latent: int, n: int = 2) -> tuple[torch.Tensor, ...]:
    z = torch.zeros
    return (
        z(n, 2),
        z(n, 2),
        z(n),
        z(n, 3),
        z(n, 3),
        z(n, latent),
        z(n, hidden),
        z(n, STYLE_SIZE),
        z(n, latent),
        torch.ones(1),
        torch.full((3,), 0.5),
    )


def _metadata(loaded) -> dict[str, str]:
    import gazehead_rt

    c = loaded.config
    return {
        "gazehead.format_version": str(FORMAT_VERSION),
        "gazehead.model_sha256": loaded.sha256,
        "gazehead.runtime_version": getattr(gazehead_rt, "__version__", "unknown"),
        "gazehead.config": c.to_json(),
        "gazehead.fps": repr(float(c.fps)),
        "gazehead.hidden_size": str(c.hidden_size),
        "gazehead.latent_size": str(c.latent_size),
        "gazehead.style_size": str(STYLE_SIZE),
        "gazehead.style_mean": json.dumps(list(c.style_mean)),
        "gazehead.style_std": json.dumps(list(c.style_std)),
        "gazehead.neck_limits": json.dumps(list(c.neck_limits)),
        "gazehead.neck_soft": repr(float(c.neck_soft)),
        "gazehead.eye_limit": repr(float(c.eye_limit)),
        "gazehead.inputs": ",".join(INPUT_NAMES),
        "gazehead.outputs": ",".join(OUTPUT_NAMES),
        "gazehead.noise": (
            "eps[a, j] = Box-Muller of Philox4x32-10(counter=(frame, j // 4, "
            "episode, 0), key=(seed, agent)); gazehead_rt.philox_normal"
        ),
    }


def export_step_onnx(
    model_path: str | os.PathLike, out_path: str | os.PathLike, opset: int = 17
) -> str:
    """Write the v3 step of ``model_path`` to ``out_path`` as ONNX; returns ``out_path``.

    Raises :class:`gazehead_rt.ModelError` for a bad model file (format 1 files included).
    """
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(
            f"opset: expected an integer in [{MIN_OPSET}, {MAX_OPSET}] (the step graph needs "
            f"opset {MIN_OPSET} or newer), got {opset!r}"
        )
    loaded = load_model(model_path)
    model = GazeHeadModel.from_loaded(loaded).eval()
    graph = StepGraph(model)
    c = loaded.config
    # The TorchScript exporter (dynamo=False): it needs no onnxscript, which the package's
    # extras do not bring, and this small static graph needs nothing from the dynamo one.
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            graph,
            _example_inputs(c.hidden_size, c.latent_size),
            buf,
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={k: {0: "N"} for k in _BATCHED},
            opset_version=int(opset),
            do_constant_folding=True,
            dynamo=False,
        )
    proto = onnx.load_from_string(buf.getvalue())
    for k, v in _metadata(loaded).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.doc_string = (
        "gazehead_rt motion model v3: one step for N agents; the host carries "
        "(gaze, head, head_vel, z, s) into the next frame's *_prev inputs"
    )
    ops = {n.op_type for n in proto.graph.node}
    if ops & {"GRU", "RNN", "LSTM", "Loop", "Scan", "If"}:
        raise RuntimeError(f"exported step holds control-flow or recurrent ops {sorted(ops)}")
    onnx.checker.check_model(proto, full_check=True)
    out_path = os.fspath(out_path)

    def write(fd: int, _tmp: str) -> None:
        with os.fdopen(fd, "wb") as f:
            f.write(proto.SerializeToString())

    # the CLI's writer: a fresh temp file (a planted OUT.tmp link is never followed), removed
    # on failure, renamed over a regular file only
    write_atomically(out_path, write)
    return out_path
