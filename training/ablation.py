"""Ablation study: what each training ingredient and each model part buys.

``python -m training.ablation [--steps 500] [--out runs/ablation]`` trains every variant
below with the same reduced budget and seed, then evaluates them together (the same test
split and metrics as ``gazehead-rt evaluate``) plus a stability rollout per variant. Writes
``ablation.md`` and ``ablation.json`` in ``--out``. The reference row ``full`` uses the
default recipe at the same budget, so rows compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import evaluate as E
from . import train as T

#: name -> extra train CLI arguments
VARIANTS = {
    "full": [],
    "no_sched_sampling": ["--ss-prob", "0"],
    "no_rollout_loss": ["--rollout-weight", "0"],
    "no_kl_anneal_free_bits": ["--kl-anneal-steps", "0", "--free-bits", "0"],
    "no_vel_jerk_loss": ["--vel-weight", "0", "--jerk-weight", "0"],
    "no_eye_hinge": ["--eye-weight", "0"],
    "no_gru": ["--ablation", "no_gru"],
    "fixed_prior": ["--ablation", "fixed_prior"],
    "deterministic": ["--ablation", "deterministic"],
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.ablation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="runs/ablation")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--data-root", default=None)
    p.add_argument("--only", default=None, help="comma-separated subset of variants")
    p.add_argument("--rollout-hours", type=float, default=0.25)
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-train", action="store_true", help="evaluate existing runs only")
    a = p.parse_args(argv)
    names = a.only.split(",") if a.only else list(VARIANTS)
    import torch

    torch.set_num_threads(a.threads)
    paths = {}
    for n in names:
        run = os.path.join(a.out, n)
        if not a.skip_train:
            kl = (
                []
                if "--kl-anneal-steps" in VARIANTS[n]
                else ["--kl-anneal-steps", str(a.steps // 5)]
            )
            T.main(
                [
                    "--out",
                    run,
                    "--steps",
                    str(a.steps),
                    "--batch-size",
                    str(a.batch_size),
                    *kl,
                    "--ss-ramp-steps",
                    str(a.steps // 3),
                    "--eval-every",
                    "50",
                    "--no-progress",
                ]
                + (["--data-root", a.data_root] if a.data_root else [])
                + VARIANTS[n]
            )
        paths[n] = os.path.join(run, "model.safetensors")
    from .data.sgaze import load_sgaze_clips
    from .model import GazeHeadModel
    from .paths import sgaze_dir

    clips = load_sgaze_clips(sgaze_dir(a.data_root))
    tr = [c for c in clips if c.split == "train"]
    te = [c for c in clips if c.split == "test"]
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    res = E.evaluate(paths, tr, te, k=a.k, seed=0, rollout_hours=0, log=log)
    res["stability_per_variant"] = {
        n: E.stability_rollout(GazeHeadModel.load(pth), a.rollout_hours, te[0].fps, seed=0)
        for n, pth in paths.items()
    }
    res["budget"] = {"steps": a.steps, "batch_size": a.batch_size}
    with open(os.path.join(a.out, "ablation.json"), "w") as f:
        json.dump(res, f, indent=1)
    table = E.markdown_table(res)
    st = [
        "",
        f"Stability, {a.rollout_hours:g} h rollout per variant (random saccadic gaze):",
        "",
        "| variant | finite | max abs eye ° | eye>50° /1k |",
        "|---|---|---|---|",
    ]
    for n, s in res["stability_per_variant"].items():
        st.append(
            f"| {n} | {s['finite']} | {s['max_abs_eye_deg']:.1f} | {s['eye_viol_per_1000']:.2f} |"
        )
    table += "\n".join(st) + "\n"
    with open(os.path.join(a.out, "ablation.md"), "w") as f:
        f.write(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
