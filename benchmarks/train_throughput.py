"""Training throughput of `training.train` vs a plain transformers Trainer: same tiny model, same data, same run.

    python benchmarks/train_throughput.py                  # tiny_cpu.yaml, 40 steps each
    python benchmarks/train_throughput.py --steps 100 --batch-size 16

Prints tokens/s (real tokens, padding excluded), samples/s and padding fraction for both, and the
speed-up. Ours batches by length (targets: >= 1.3x tokens/s, <= 5% padding); the baseline is the
Trainer's default random batches, each padded to its longest sample.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_cfg(config: str, out: str, steps: int, batch_size: int, workers: int):
    from dreamframe.config import parse_config
    from training.config import TrainConfig

    return parse_config(TrainConfig, ["--config", config, f"--out={out}", f"--max_steps={steps}", "--eval.enabled=false",
                                      "--export=false", f"--data.batch_size={batch_size}", "--log.every_n_steps=10",
                                      f"--data.num_workers={workers}"],
                        prog="bench", description="")


def ours(cfg) -> dict:
    from training.train import run

    return run(cfg)["throughput"]


def baseline(cfg) -> dict:
    """The same adapter, items and collate through transformers.Trainer with its default random sampler."""
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from models.registry import build_adapter
    from training.data import ItemDataset, source_items

    torch.manual_seed(cfg.seed)
    adapter = build_adapter(cfg.model)
    items = [it for src in cfg.data.sources for it in source_items(src, cfg.model)]
    counts = {"tokens": 0.0, "slots": 0.0, "samples": 0.0}

    def collate(samples):
        batch = adapter.collate(samples)
        counts["tokens"] += float(batch["attention_mask"].sum())
        counts["slots"] += batch["input_ids"].numel()
        counts["samples"] += len(samples)
        return batch

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            counts.update(tokens=0.0, slots=0.0, samples=0.0)
            self.t0 = time.perf_counter()

        def on_train_end(self, args, state, control, **kw):
            counts["seconds"] = time.perf_counter() - self.t0

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.data.batch_size, max_steps=cfg.max_steps,
                                 learning_rate=cfg.optim.lr, lr_scheduler_type="cosine", warmup_steps=int(cfg.optim.warmup_ratio * cfg.max_steps),
                                 max_grad_norm=cfg.optim.grad_clip, use_cpu=True, report_to=[], save_strategy="no",
                                 logging_steps=10**6, remove_unused_columns=False,
                                 dataloader_num_workers=cfg.data.num_workers,
                                 seed=cfg.seed, disable_tqdm=True)
        Trainer(model=adapter.model, args=args, train_dataset=ItemDataset(items, cfg.model), data_collator=collate,
                callbacks=[Clock()]).train()
    s = counts["seconds"]
    return {"tokens_per_s": counts["tokens"] / s, "samples_per_s": counts["samples"] / s,
            "padding_fraction": 1 - counts["tokens"] / counts["slots"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "configs/train/tiny_cpu.yaml"))
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader workers, the same for both")
    a = p.parse_args()
    os.environ.setdefault("WANDB_MODE", "disabled")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_cfg(a.config, tmp + "/ours", a.steps, a.batch_size, a.num_workers)
        from training.train import ensure_data

        ensure_data(cfg)
        base = baseline(cfg)
        mine = ours(cfg)
    rows = {"training.train (length-grouped)": mine, "transformers.Trainer (default)": base}
    print(f"{'':34s} {'tokens/s':>10s} {'samples/s':>10s} {'padding':>8s}")
    for name, r in rows.items():
        print(f"{name:34s} {r['tokens_per_s']:10.0f} {r['samples_per_s']:10.2f} {100 * r['padding_fraction']:7.1f}%")
    speed = mine["tokens_per_s"] / base["tokens_per_s"]
    print(f"speed-up (tokens/s): {speed:.2f}x (target >= 1.3x); padding {100 * mine['padding_fraction']:.1f}% (target <= 5%)")
    print(json.dumps({"ours": mine, "trainer": base, "speedup": speed, "steps": a.steps, "batch_size": a.batch_size,
                      "num_workers": a.num_workers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
