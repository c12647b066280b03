"""Can the tiny demo model learn one skill in isolation? Generate, train on a few question types, score them.

    python benchmarks/skill_probe.py --out runs/probe/which_first --types temporal,location --steps 1000 \\
        --data_args num_movies=900
    python benchmarks/skill_probe.py --out runs/probe/which_of_these --types action --steps 1000 \\
        --data_args num_movies=900 qa.action_form=which_of_these

The main job (`python -m dreamframe.pipeline`) answers the question for the whole mix with every control;
this is the quick loop that chose the demo's question forms (docs/training.md "Issue 21"): a dataset from
`configs/data_gen/demo_cpu.yaml` with `--data_args` overrides (`<out>/data`), one `training.train` run of
`configs/train/tiny_cpu.yaml` on those types only (`<out>/train`), then each type's held-out accuracy and
`pair_acc` (option log-likelihood, `dreamframe.scoring`) on at most `--per_type` test questions, each on the
clip the model was trained on (its export records it), printed as one JSON line. Steps already done are skipped, so a killed probe resumes.

`--export` scores a model already trained (the main job's `<out>/train/export`) instead of training one, on
data drawn one way at a time - which drawing breaks a skill:

    python benchmarks/skill_probe.py --out runs/probe/off_centre --types count,colour \
        --data_config configs/data_gen/demo_shift.yaml --data_args 'render.figure_scale_range=[1.3, 1.65]' \
        --export runs/demo/train/export
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)


def score(export: Path, data: Path, types: list[str], per_type: int) -> dict:
    import torch

    from dreamframe import scoring
    from dreamframe.clip import qa_clip
    from dreamframe.dataset import DatasetFolder
    from dreamframe.prompts import question_text
    from models.registry import load_adapter

    torch.set_num_threads(1)
    adapter, folder = load_adapter(export), DatasetFolder(data)
    rows = [r for r in folder.load_qa("test") if r["options"] and r["qa_type"] in types]
    rows = scoring.stratified_subset(rows, per_type)
    records = []
    for i in range(0, len(rows), 32):
        batch = rows[i:i + 32]
        clips = [qa_clip(folder.root, r, adapter.trained_clip).load() for r in batch]
        with torch.no_grad():
            logliks = adapter.option_logprobs(clips, [question_text(r["question"], r["options"]) for r in batch],
                                              [list(r["options"]) for r in batch], batch_size=128)
        records += [{"id": r["id"], "qa_type": r["qa_type"], "pair_id": r.get("pair_id"),
                     **scoring.closed_metrics(list(r["options"]), r["answer"], ll, "")}
                    for r, ll in zip(batch, logliks)]
    keep = ("n", "acc", "acc_ci", "pair_acc", "pair_acc_ci")
    return {t: {k: v for k, v in b.items() if k in keep}
            for t, b in scoring.summarise(records, metrics=("acc",))["per_type"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--types", required=True, help="question types trained and scored, comma-separated")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--data_config", default="configs/data_gen/demo_cpu.yaml", help="the data's generate config")
    parser.add_argument("--data_args", nargs="*", default=[], help="key=value overrides of --data_config")
    parser.add_argument("--export", type=Path, help="score this trained model instead of training one")
    parser.add_argument("--train_args", nargs="*", default=[], help="key=value overrides of tiny_cpu.yaml")
    parser.add_argument("--per_type", type=int, default=300, help="test questions scored per type")
    args = parser.parse_args()
    data, train, types = args.out / "data", args.out / "train", args.types.split(",")
    if not (data / "manifest.json").exists():
        run([sys.executable, "-m", "data_gen.generate", "--config", args.data_config,
             f"--out={data}", *(f"--{a}" for a in args.data_args)])
    if args.export is None and not (train / "export").exists():
        source = [{"path": str(data), "qa_types": types}]
        run([sys.executable, "-m", "training.train", "--config", "configs/train/tiny_cpu.yaml", f"--out={train}",
             f"--data.sources={json.dumps(source)}", "--data.generate_config=null", f"--max_steps={args.steps}",
             f"--model.tiny.corpus={json.dumps([str(data)])}", "--eval.enabled=false",
             *(f"--{a}" for a in args.train_args)])
    export = args.export or train / "export"
    print(json.dumps({"export": str(export), "steps": None if args.export else args.steps, "types": types,
                      "data_args": args.data_args, **score(export, data, types, args.per_type)}))


if __name__ == "__main__":
    main()
