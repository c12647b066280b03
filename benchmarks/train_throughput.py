"""Training throughput of `training.train` vs a plain transformers Trainer: same tiny model, same data, same run.

    python benchmarks/train_throughput.py                  # tiny_cpu.yaml, 40 steps each
    python benchmarks/train_throughput.py --steps 100 --batch-size 16 --pack-length 256

Three rows: ours with sequence packing (random batches, samples packed into rows of --pack-length
tokens), ours with length-grouped batches (one padded row per sample), and the Trainer's default
random batches, each padded to its longest sample. Prints tokens/s (real tokens, padding excluded),
samples/s and padding fraction, the speed-ups over the Trainer (targets: >= 1.3x tokens/s, <= 5%
padding) and the load average before and after. On a shared, busy machine the wall-clock figures move
with other jobs (the three runs are sequential), so each row also gives tokens per CPU-second of this
process: with one torch thread (OMP_NUM_THREADS=1) that measures the work per token, whatever the load.
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


def load_cfg(config: str, out: str, steps: int, batch_size: int, workers: int, *extra: str):
    from dreamframe.config import parse_config
    from training.config import TrainConfig

    return parse_config(TrainConfig, ["--config", config, f"--out={out}", f"--max_steps={steps}", "--eval.enabled=false",
                                      "--export=false", f"--data.batch_size={batch_size}", "--log.every_n_steps=10",
                                      f"--data.num_workers={workers}", *extra],
                        prog="bench", description="")


def ours(cfg) -> dict:
    from training.train import run

    return run(cfg)["throughput"]


def baseline(cfg) -> dict:
    """The same adapter, items and collate through transformers.Trainer with its default random sampler."""
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from models.registry import build_adapter
    from training.data import ItemDataset, resolve_clip, source_items

    torch.manual_seed(cfg.seed)
    adapter = build_adapter(cfg.model)
    clip = resolve_clip(cfg.model, [src.path for src in cfg.data.sources])  # the clip training.train would use
    items = [it for src in cfg.data.sources for it in source_items(src, clip)]
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
            self.t0, self.cpu0 = time.perf_counter(), time.process_time()

        def on_train_end(self, args, state, control, **kw):
            counts["seconds"] = time.perf_counter() - self.t0
            counts["cpu_seconds"] = time.process_time() - self.cpu0

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.data.batch_size, max_steps=cfg.max_steps,
                                 learning_rate=cfg.optim.lr, lr_scheduler_type="cosine", warmup_steps=int(cfg.optim.warmup_ratio * cfg.max_steps),
                                 max_grad_norm=cfg.optim.grad_clip, use_cpu=True, report_to=[], save_strategy="no",
                                 logging_steps=10**6, remove_unused_columns=False,
                                 dataloader_num_workers=cfg.data.num_workers,
                                 seed=cfg.seed, disable_tqdm=True)
        Trainer(model=adapter.model, args=args, train_dataset=ItemDataset(items), data_collator=collate,
                callbacks=[Clock()]).train()
    s = counts["seconds"]
    return {"tokens_per_s": counts["tokens"] / s, "samples_per_s": counts["samples"] / s,
            "padding_fraction": 1 - counts["tokens"] / counts["slots"],
            "tokens_per_cpu_s": counts["tokens"] / counts["cpu_seconds"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "configs/train/tiny_cpu.yaml"))
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--pack-length", type=int, default=256, help="tokens per packed row (data.pack_length)")
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader workers, the same for all")
    a = p.parse_args()
    os.environ.setdefault("WANDB_MODE", "disabled")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        common = (a.config, a.steps, a.batch_size, a.num_workers)
        grouped_cfg = load_cfg(common[0], tmp + "/grouped", *common[1:], "--data.packing=false",
                               "--data.group_by_length=true")
        packed_cfg = load_cfg(common[0], tmp + "/packed", *common[1:], "--data.packing=true",
                              f"--data.pack_length={a.pack_length}", "--data.group_by_length=false")
        from training.train import ensure_data

        ensure_data(grouped_cfg)
        base = baseline(grouped_cfg)
        grouped = ours(grouped_cfg)
        packed = ours(packed_cfg)
    load_after = os.getloadavg()
    rows = {f"training.train (packed, {a.pack_length})": packed, "training.train (length-grouped)": grouped,
            "transformers.Trainer (default)": base}
    print(f"{'':36s} {'tokens/s':>10s} {'samples/s':>10s} {'padding':>8s} {'vs Trainer':>11s} "
          f"{'tokens/CPU-s':>13s} {'vs Trainer':>11s}")
    for name, r in rows.items():
        print(f"{name:36s} {r['tokens_per_s']:10.0f} {r['samples_per_s']:10.2f} {100 * r['padding_fraction']:7.1f}% "
              f"{r['tokens_per_s'] / base['tokens_per_s']:10.2f}x {r['tokens_per_cpu_s']:13.0f} "
              f"{r['tokens_per_cpu_s'] / base['tokens_per_cpu_s']:10.2f}x")
    print(f"targets: >= 1.3x tokens/s over the Trainer, <= 5% padding; load average (1 min) "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after on {os.cpu_count()} CPUs")
    print(json.dumps({"packed": packed, "grouped": grouped, "trainer": base, "steps": a.steps,
                      "batch_size": a.batch_size, "pack_length": a.pack_length, "num_workers": a.num_workers,
                      "loadavg_before": load_before, "loadavg_after": load_after}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
