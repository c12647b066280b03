"""Two CPU ranks under DeepSpeed ZeRO-3 (gloo, the test overrides of conftest) where one rank's batch has
video and the other's has none at the same step. Run by tests/training/test_zero3_mixed.py in a
subprocess with a deadline (a diverged collective order hangs forever):

    python tests/training/zero3_mixed_worker.py --out /tmp/z3 --guard on     # finishes, writes result.json
    python tests/training/zero3_mixed_worker.py --out /tmp/z3 --guard off    # hangs (no vision pass)

Lightning's launcher starts rank 1 by re-running this script. Steps: rank 0 video / rank 1 text, then
the other way round, then both video. `--guard off` replaces the adapter's forward by the bare model
call (what training did before any guard); `after` adds the zero-weighted vision pass after the model
forward (the old guard, which ran the vision tower at a different point of the collective sequence).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PLAN = [("video", "text"), ("text", "video"), ("video", "video")]
"""What rank 0 and rank 1 see at each step."""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--guard", choices=["on", "off", "after"], default="on")
    p.add_argument("--freeze", default="vision", help="comma-separated parts to freeze (vision,projector,llm) or ''")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds a gloo collective may wait")
    p.add_argument("--persistence", type=float, default=0,
                   help="stage3_param_persistence_threshold: 0 gathers every weight as at 7B scale (a mismatch "
                        "then crashes gloo: 'collective mismatch'); the shipped 1e6 keeps the tiny weights "
                        "resident and only the gradient reduction diverges")
    a = p.parse_args()
    import pytest
    import torch
    from lightning import Trainer
    from PIL import Image

    from models.base import ModelConfig, Sample
    from models.registry import build_adapter
    from tests.training.conftest import allow_deepspeed_on_cpu
    from training.config import TrainConfig
    from training.module import make_module
    from training.strategies import build_strategy

    torch.set_num_threads(1)
    allow_deepspeed_on_cpu(pytest.MonkeyPatch())
    adapter = build_adapter(ModelConfig(tiny={"image_size": 32, "patch_size": 8, "hidden_size": 32,
                                              "vision_hidden_size": 32, "vocab_size": 400}, num_frames=2,
                                        freeze=[f for f in a.freeze.split(",") if f]))
    if a.guard == "off":
        adapter.forward = lambda batch: adapter.model(**batch)
    elif a.guard == "after":
        def after(batch):
            out = adapter.model(**batch)
            if not any(k.startswith("pixel_values") for k in batch):
                out.loss = out.loss + adapter.dummy_vision_zero()
            return out
        adapter.forward = after

    chat = [{"role": "user", "content": "what colour"}, {"role": "assistant", "content": "red"}]
    video = adapter.collate([Sample([Image.new("RGB", (32, 32), "red")] * 2, chat, "v")] * 2)
    text = adapter.collate([Sample([], chat, "t")] * 2)

    cfg = TrainConfig()
    cfg.strategy.name, cfg.strategy.deepspeed_config = "deepspeed", str(ROOT / "configs/deepspeed/zero3.json")
    cfg.data.batch_size = 2
    strategy = build_strategy(cfg)
    strategy.config["zero_optimization"]["stage3_param_persistence_threshold"] = a.persistence
    strategy._timeout = timedelta(seconds=a.timeout)
    module = make_module(adapter, cfg.optim, lambda trainer: len(PLAN))
    losses: list[float] = []

    class Loader:
        """This rank's batches (the rank is known once Lightning has launched the processes)."""

        def __iter__(self):
            return iter([video if kinds[trainer.global_rank] == "video" else text for kinds in PLAN])

        def __len__(self) -> int:
            return len(PLAN)

    from lightning import Callback

    class Record(Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            losses.append(float(outputs["loss"]))

    trainer = Trainer(accelerator="cpu", devices=2, strategy=strategy, max_steps=len(PLAN), max_epochs=1,
                      logger=False, enable_checkpointing=False, enable_progress_bar=False, num_sanity_val_steps=0,
                      use_distributed_sampler=False, callbacks=[Record()])
    trainer.fit(module, train_dataloaders=Loader())
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{trainer.global_rank}.json").write_text(json.dumps({"steps": trainer.global_step, "losses": losses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
