"""Training under torchrun: two processes (gloo on CPU) at toy size average their gradients
(the replicas end with identical weights), rank 0 alone writes the log, the checkpoint and the
model, and a resumed run continues from the checkpoint's step on every rank."""

import csv
import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from gazehead_rt.model_file import load_model  # noqa: E402

ARGS = [
    "--no-eyenavgs",
    "--procedural-clips",
    "2",
    "--hidden",
    "16",
    "--latent",
    "2",
    "--enc",
    "16",
    "--dec",
    "16",
    "--prior",
    "16",
    "--batch-size",
    "8",
    "--window-frames",
    "10",
    "--eval-every",
    "3",
    "--threads",
    "1",
    "--no-progress",
]


def _run_torchrun(out, steps: int, *extra: str) -> subprocess.CompletedProcess:
    """Train into ``out`` with two processes; ``extra`` flags come last (the last occurrence
    of a flag wins)."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--standalone",  # a local rendezvous on a free port: tests may run side by side
        "-m",
        "gazehead_rt.training.train",
        "--out",
        str(out),
        "--steps",
        str(steps),
        *ARGS,
        *extra,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # from a neutral folder: in a checkout, ./gazehead_rt is the source tree without training/
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, env=env, cwd=str(out.parent)
    )


def _torchrun(out, steps: int, *extra: str) -> dict:
    """A run that must succeed; rank 0's summary."""
    r = _run_torchrun(out, steps, *extra)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # rank 0 prints the summary as indented JSON
    start = r.stdout.index("{")
    return json.loads(r.stdout[start : r.stdout.index("\n}", start) + 2])


def test_two_processes_train_one_model_and_resume(tmp_path):
    out = tmp_path / "ddp"
    res = _torchrun(out, 6)
    assert res["world_size"] == 2 and res["replicas_in_sync"] is True
    assert res["steps"] == 6
    model = load_model(out / "model.safetensors")
    prov = model.metadata["provenance"]
    assert prov["steps_done"] == 6 and prov["train_config"]["batch_size"] == 8
    assert json.loads((out / "train_config.json").read_text())["world_size"] == 2
    # one log, written by rank 0 only: one header, rows at increasing steps
    rows = list(csv.DictReader(open(out / "log.csv")))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] == 6
    assert {p.name for p in out.iterdir()} >= {"ckpt.pt", "rng_rank0.pt", "rng_rank1.pt"}

    res2 = _torchrun(out, 9, "--resume")
    assert res2["steps"] == 9 and res2["replicas_in_sync"] is True
    ck = torch.load(out / "ckpt.pt", weights_only=False)
    assert ck["step"] == 9
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows][-1] == 9  # appended, not restarted


def test_a_batch_that_does_not_split_over_the_processes_is_refused(tmp_path):
    r = _run_torchrun(tmp_path / "odd", 2, "--batch-size", "7")
    assert r.returncode != 0
    assert "batch_size 7 is not divisible by 2 processes" in r.stderr
