"""The refusal table: model files, state blobs and settings that every surface must refuse,
each with the one status and message the core gives (docs/design.md §5, "Surfaces and the
single core").

    python csrc/capi/tests/make_refusals.py OUT_DIR

writes OUT_DIR/refusals.tsv and the files it names, made from the repository's default model
(gazehead_rt/models/default.safetensors) with the installed gazehead_rt. Three drivers read
the same table and must agree with it, case by case:

* Python: python_tests/test_refusal_table.py (the package API, and libgazehead via ctypes);
* C: csrc/capi/tests/test_capi.c (its optional third argument, OUT_DIR);
* C#: bindings/csharp/tests/GazeHeadTest.cs (its optional third argument, OUT_DIR).

refusals.tsv has one case per line, five tab-separated columns:

    name  op  arg  status  message

op and arg:
    model_file    FILE     load the model file OUT_DIR/FILE (message: "<path>: " + message)
    state_blob    FILE     load the blob OUT_DIR/FILE into a generator (below)
    temperature   X        set the temperature
    style         A B C D  set both agents' styles (propensity, idle)
    neck_limits   P Y R    set the neck half-ranges (rad)
    update_dt     X        update() with a valid gaze and this dt (s)
    step_gaze     A B C D  step() with this gaze (pitch, yaw per agent, rad)
    reset_agent   K        reset agent K

Numbers are Python float text ("nan", "-nan", "inf" included). Everything but model_file runs on a
generator of the default model with NUM_AGENTS agents, SEED and TEMPERATURE that has taken
one step() and one update() with WARMUP_GAZE; after each refusal its saved state must be
byte for byte what it was. status is the C name without GAZEHEAD_ERR_ (MODEL, STATE,
INVALID_ARGUMENT); Python raises ModelError, StateError and ValueError for them, C# throws
ModelException, StateException and ArgumentException. The message must match exactly.
"""

from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "gazehead_rt", "models", "default.safetensors")
)
NUM_AGENTS, SEED, TEMPERATURE = 2, 7, 0.8
WARMUP_GAZE = (0.1, 0.3, -0.2, 0.5)  # step() and update(., 1/60) with this before each case
TABLE = "refusals.tsv"

# ---- model files -------------------------------------------------------------------------


def _split(raw: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _join(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _with_meta(raw: bytes, **changes) -> bytes:
    """The file with metadata entries changed (None: removed)."""
    header, data = _split(raw)
    meta = header["__metadata__"]
    for k, v in changes.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    return _join(header, data)


def _with_config(raw: bytes, **changes) -> bytes:
    header, _ = _split(raw)
    config = json.loads(header["__metadata__"]["config"])
    config.update(changes)
    return _with_meta(raw, config=json.dumps(config))


def _with_tensor_value(raw: bytes, name: str, value: float) -> bytes:
    """Tensor `name`'s first float set to `value`, with the integrity hash made to match (so
    the value check, not the hash, must refuse it)."""
    from gazehead_rt.model_file import tensors_sha256

    header, data = _split(raw)
    data = bytearray(data)
    begin = header[name]["data_offsets"][0]
    data[begin : begin + 4] = struct.pack("<f", value)
    tensors = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        tensors[k] = np.frombuffer(bytes(data[b:e]), "<f4").reshape(v["shape"])
    header["__metadata__"]["tensors_sha256"] = tensors_sha256(tensors)
    return _join(header, bytes(data))


def model_cases(raw: bytes) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, message after "<path>: ")."""
    header, data = _split(raw)
    first = sorted(k for k in header if k != "__metadata__")[0]
    flipped = bytearray(raw)
    flipped[8 + len(raw) - len(data) - 8 + header[first]["data_offsets"][0] + 1] ^= 0x10
    huge_header = struct.pack("<Q", 32 << 20) + raw[8:]
    bad_utf8 = bytearray(_with_meta(raw, code_revision="RR"))
    at = bytes(bad_utf8).index(b'"RR"') + 1
    bad_utf8[at : at + 2] = b"\xff\xfe"
    return [
        ("empty.safetensors", b"", "file is empty"),
        (
            "short.safetensors",
            raw[:5],
            "not a readable safetensors file (file is shorter than the 8-byte header length)",
        ),
        (
            "header_cap.safetensors",
            huge_header,
            f"not a readable safetensors file (header is {32 << 20} bytes, over the 1048576 "
            "byte cap)",
        ),
        (
            "bit_flip.safetensors",
            bytes(flipped),
            "metadata 'tensors_sha256' does not match the tensors (the file is corrupted or "
            "was edited)",
        ),
        (
            "no_hash.safetensors",
            _with_meta(raw, tensors_sha256=None),
            "metadata has no 'tensors_sha256' entry (the integrity hash save_model writes)",
        ),
        (
            "format_2.safetensors",
            _with_meta(raw, format_version="2"),
            "format_version 2 (motion model v3) is not supported; this runtime runs "
            "format_version 3 (motion model v4): retrain or use gazehead_rt<0.3",
        ),
        (
            "hidden_64_9.safetensors",
            _with_config(raw, hidden_size=64.9),
            "config.hidden_size must be an integer, got 64.9",
        ),
        (
            "fps_true.safetensors",
            _with_config(raw, fps=True),
            "config.fps must be a number, got True",
        ),
        (
            "fps_tiny.safetensors",
            _with_config(raw, fps=1e-30),
            "config.fps 1e-30 is outside [1.0, 1000.0]",
        ),
        (
            "latent_5000.safetensors",
            _with_config(raw, latent_size=5000),
            "config.latent_size is over 4096",
        ),
        (
            "unknown_key.safetensors",
            _with_config(raw, residual=True),
            "config has unknown keys ['residual']",
        ),
        (
            "weight_1e20.safetensors",
            _with_tensor_value(raw, first, 1e20),
            f"tensor '{first}' holds values beyond +-10000",
        ),
        (
            "weight_nan.safetensors",
            _with_tensor_value(raw, first, float("nan")),
            f"tensor '{first}' holds non-finite values",
        ),
        (
            "bad_utf8.safetensors",
            bytes(bad_utf8),
            "not a readable safetensors file (header is not UTF-8)",
        ),
    ]


# ---- state blobs -------------------------------------------------------------------------
# Layout (csrc/core/src/saved_state.cpp): "GZHS" u32 version | u64 size | u64 fingerprint |
# i64 N | i32 H | i32 Z | u32 seed | f32 temperature | f32 neck[3] | s | head | head_vel | z |
# gaze | style | has_prev | frame | episode | i32 started | i64 frames | f64 phase |
# f64 dropped | prev | curr | gaze_last | snap | u64 FNV-1a 64 of everything before.
_HEADER = 60


def _reseal(blob: bytearray) -> bytes:
    from make_expected import fnv1a64  # next to this file

    blob[-8:] = struct.pack("<Q", fnv1a64(bytes(blob[:-8])))
    return bytes(blob)


def _offsets(n: int, h: int, z: int) -> dict[str, int]:
    sizes = [
        ("s", n * h * 4),
        ("head", n * 12),
        ("head_vel", n * 12),
        ("z", n * z * 4),
        ("gaze", n * 8),
        ("style", n * 8),
        ("has_prev", n),
        ("frame", n * 4),
        ("episode", n * 4),
        ("started", 4),
        ("frames", 8),
        ("phase", 8),
        ("dropped", 8),
        ("prev", n * 24),
        ("curr", n * 24),
        ("gaze_last", n * 16),
        ("snap", n),
    ]
    out, at = {}, _HEADER
    for name, size in sizes:
        out[name] = at
        at += size
    return out


def state_cases(blob: bytes, blob_other_n: bytes, h: int, z: int) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, message) of blobs for a generator of NUM_AGENTS agents."""
    off = _offsets(NUM_AGENTS, h, z)

    def edit(at: int, fmt: str, value) -> bytes:
        b = bytearray(blob)
        struct.pack_into(fmt, b, at, value)
        return _reseal(b)

    corrupted = bytearray(blob)
    corrupted[off["s"]] ^= 0x01
    fp = struct.unpack_from("<Q", blob, 16)[0]
    return [
        ("empty.state", b"", "state: not a gazehead generator state (bad magic or too short)"),
        (
            "bad_magic.state",
            b"GZHX" + blob[4:],
            "state: not a gazehead generator state (bad magic or too short)",
        ),
        (
            "version_1.state",
            edit(4, "<I", 1),
            "state: version 1 is not supported (this library reads version 2)",
        ),
        (
            "truncated.state",
            blob[:-9],
            f"state: the blob says it has {len(blob)} bytes, {len(blob) - 9} were passed",
        ),
        (
            "checksum.state",
            bytes(corrupted),
            "state: checksum mismatch (the blob is corrupted)",
        ),
        (
            "other_model.state",
            edit(16, "<Q", fp ^ 1),
            f"state: it was taken with a different model file (fingerprint {fp ^ 1:016x}, this "
            f"generator has {fp:016x})",
        ),
        (
            "other_agents.state",
            blob_other_n,
            f"state: it holds {NUM_AGENTS + 1} agents, this generator has {NUM_AGENTS}",
        ),
        (
            "temperature_11.state",
            edit(44, "<f", 11.0),
            "state: temperature: expected a finite number >= 0 and <= 10, got 11.0",
        ),
        (
            "neck_pitch_0.state",
            edit(48, "<f", 0.0),
            "state: neck_limits: pitch limit 0 rad is outside (0, pi/2] (pitch, yaw, roll "
            "half-ranges, radians)",
        ),
        ("gru_2.state", edit(off["s"], "<f", 2.0), "state: 's' holds values beyond [-1, 1]"),
        (
            "style_nan.state",
            edit(off["style"], "<f", float("nan")),
            "state: 'style' holds non-finite values",
        ),
        (
            "style_3e38.state",
            edit(off["style"] + 4, "<f", 3e38),
            "state: 'style' holds values beyond +-10 (check_styles)",
        ),
        (
            "clock_phase_nan.state",
            edit(off["phase"], "<d", float("nan")),
            "state: the update() clock holds invalid counters (started, frames, phase or "
            "dropped time)",
        ),
        (
            "clock_gaze_nan.state",
            edit(off["gaze_last"], "<d", float("nan")),
            "state: the update() clock holds a last gaze that is not finite or outside the "
            "gaze range",
        ),
        (
            "clock_pose_1e30.state",
            edit(off["curr"] + 8, "<d", 1e30),
            "state: the update() clock holds a pose beyond +-pi rad",
        ),
    ]


# ---- settings ----------------------------------------------------------------------------


def setting_cases() -> list[tuple[str, str, str, str]]:
    """(name, op, arg, message), all INVALID_ARGUMENT."""
    t = "temperature: expected a finite number >= 0 and <= 10, got {}"
    neck = "neck_limits: {} limit {} rad is outside {} (pitch, yaw, roll half-ranges, radians)"
    dt = "dt_s must be finite and >= 0 seconds, got {}"
    style = "style: the style of agent {} is {}, outside [-10, 10] (propensity, idle)"
    return [
        ("temperature_negative", "temperature", "-0.5", t.format("-0.5")),
        ("temperature_11", "temperature", "11.0", t.format("11.0")),
        ("temperature_nan", "temperature", "nan", t.format("nan")),
        ("temperature_inf", "temperature", "inf", t.format("inf")),
        (
            "style_nan",
            "style",
            "0.5 nan 0.5 0.5",
            "style: the style of agent 0 is not finite",
        ),
        (
            "style_11",
            "style",
            "0.5 0.5 11.0 0.5",
            style.format(1, "(11, 0.5)"),
        ),
        (
            "style_3e38",
            "style",
            "0.5 0.5 0.5 -3e+38",
            style.format(1, "(0.5, -3e+38)"),
        ),
        ("neck_pitch_0", "neck_limits", "0.0 1.0 0.5", neck.format("pitch", "0", "(0, pi/2]")),
        ("neck_yaw_pi", "neck_limits", "0.5 3.2 0.5", neck.format("yaw", "3.2", "(0, pi)")),
        ("neck_roll_nan", "neck_limits", "0.5 1.0 nan", neck.format("roll", "nan", "(0, pi/2]")),
        # a NaN with its sign bit set (C#'s double.NaN cast to float is one) reads "nan" too
        (
            "neck_pitch_minus_nan",
            "neck_limits",
            "-nan 1.0 0.5",
            neck.format("pitch", "nan", "(0, pi/2]"),
        ),
        ("dt_negative", "update_dt", "-0.001", dt.format("-0.001")),
        ("dt_nan", "update_dt", "nan", dt.format("nan")),
        ("dt_inf", "update_dt", "inf", dt.format("inf")),
        (
            "gaze_nan",
            "step_gaze",
            "0.0 0.0 nan 0.1",
            'gaze of agent 1 is not finite (nan, 0.1); pass nan_policy="hold" to keep the '
            "last valid gaze",
        ),
        (
            "gaze_pitch",
            "step_gaze",
            "1.6 0.0 0.0 0.0",
            "gaze pitch of agent 0 is 1.600000 rad, outside [-pi/2, pi/2] (angles are radians; "
            "convert degrees with numpy.deg2rad)",
        ),
        (
            "gaze_yaw",
            "step_gaze",
            "0.0 0.0 0.0 -3.2",
            "gaze yaw of agent 1 is -3.200000 rad, outside [-pi, pi] (angles are radians; wrap "
            "yaw or convert degrees with numpy.deg2rad)",
        ),
        ("reset_2", "reset_agent", "2", "agents: id 2 is out of range for 2 agents (valid 0..1)"),
        (
            "reset_negative",
            "reset_agent",
            "-1",
            "agents: id -1 is out of range for 2 agents (valid 0..1)",
        ),
    ]


# ---- the table ---------------------------------------------------------------------------


def warm_generator(num_agents: int = NUM_AGENTS):
    """The generator every non-file case runs on, in the state the drivers bring theirs to."""
    import gazehead_rt as gh

    gen = gh.Generator(
        MODEL, num_agents=num_agents, backend="cpu", seed=SEED, temperature=TEMPERATURE
    )
    g = np.zeros((num_agents, 2), np.float32)
    g[:2] = np.asarray(WARMUP_GAZE, np.float32).reshape(2, 2)
    gen.step(g)
    gen.update(g, 0.0)
    gen.update(g, 1 / 60)
    return gen


def write(out_dir: str) -> str:
    """Writes the table and its files; returns the table's path."""
    os.makedirs(out_dir, exist_ok=True)
    with open(MODEL, "rb") as f:
        raw = f.read()
    gen = warm_generator()
    blob = gen.save_state()
    other = warm_generator(NUM_AGENTS + 1).save_state()
    h, z = struct.unpack_from("<ii", blob, 32)
    rows = []
    for name, data, message in model_cases(raw):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        rows.append((name.split(".")[0], "model_file", name, "MODEL", message))
    for name, data, message in state_cases(blob, other, h, z):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        rows.append((name.split(".")[0], "state_blob", name, "STATE", message))
    for name, op, arg, message in setting_cases():
        rows.append((name, op, arg, "INVALID_ARGUMENT", message))
    path = os.path.join(out_dir, TABLE)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            assert all("\t" not in c and "\n" not in c for c in row), row
            f.write("\t".join(row) + "\n")
    return path


def read(out_dir: str) -> list[dict[str, str]]:
    with open(os.path.join(out_dir, TABLE), encoding="utf-8") as f:
        keys = ("name", "op", "arg", "status", "message")
        return [dict(zip(keys, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = write(argv[0])
    print(f"wrote {path} ({len(read(argv[0]))} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
