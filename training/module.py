"""The LightningModule (loss, AdamW warmup + cosine) and the throughput / MFU callback.

The loss comes from the adapter's `forward`, which keeps the ranks' ZeRO-3 collective sequences
identical when some batches have no video (models/common.py).
"""

from __future__ import annotations

import time
from typing import Any

from models.base import VideoLVLMAdapter
from models.common import PACKED_LENGTHS
from training.config import LogConfig, OptimConfig


def param_counts(model: Any) -> tuple[int, int]:
    """(trainable, frozen) parameter counts; ZeRO-3 partitioned parameters report their full size."""
    trainable = frozen = 0
    for p in model.parameters():
        n = getattr(p, "ds_numel", None) or p.numel()
        if p.requires_grad:
            trainable += n
        else:
            frozen += n
    return trainable, frozen


def flops_per_token(model: Any) -> float:
    """Training FLOPs per token, the usual estimate: 6 per trainable parameter (forward + backward), 2 per
    frozen one (forward only); attention's quadratic term is left out, so MFU is slightly understated."""
    trainable, frozen = param_counts(model)
    return 6.0 * trainable + 2.0 * frozen


def make_module(adapter: VideoLVLMAdapter, optim: OptimConfig, total_steps: Any, cpu_adam: bool = False):
    """`total_steps(trainer) -> int`: optimizer steps of the whole run, for the schedule. (Lightning's
    estimated_stepping_batches would build the train loader before a checkpoint is restored, and the
    loader's mid-epoch position would then never be loaded.) `cpu_adam`: the DeepSpeed config offloads
    the optimizer to the CPU, which DeepSpeed only runs with its own CPU Adam (JIT-built on first use;
    keep TORCH_EXTENSIONS_DIR on a cached disk)."""
    import lightning as L
    import torch

    class VideoLVLMModule(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = adapter.model

        def forward(self, batch: dict[str, Any]):
            return adapter.forward(batch)

        def training_step(self, batch: dict[str, Any], batch_idx: int):
            loss = adapter.forward(batch).loss
            self.log("train/loss", loss, prog_bar=True, on_step=True, batch_size=batch["input_ids"].shape[0])
            return loss

        def configure_optimizers(self):
            from transformers import get_cosine_with_min_lr_schedule_with_warmup

            decay, no_decay = [], []
            for name, p in self.model.named_parameters():
                if p.requires_grad:
                    (no_decay if p.ndim < 2 or "norm" in name.lower() or name.endswith("bias") else decay).append(p)
            if not decay and not no_decay:
                raise ValueError("no trainable parameters: check model.freeze / model.lora")
            groups = [{"params": decay, "weight_decay": optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
            if cpu_adam:
                from deepspeed.ops.adam import DeepSpeedCPUAdam

                opt = DeepSpeedCPUAdam(groups, lr=optim.lr, betas=tuple(optim.betas), adamw_mode=True)
            else:
                opt = torch.optim.AdamW(groups, lr=optim.lr, betas=tuple(optim.betas))
            total = max(1, int(total_steps(self.trainer)))
            warmup = int(round(optim.warmup_ratio * total))
            sched = get_cosine_with_min_lr_schedule_with_warmup(opt, warmup, total, min_lr_rate=optim.min_lr_ratio)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    return VideoLVLMModule()


def make_throughput_callback(log: LogConfig, model: Any, pad_token_id: int | None):
    """Logs tokens/s, samples/s, padding fraction and (given log.peak_tflops) MFU every N optimizer steps,
    summed over ranks."""
    import lightning as L
    import torch

    class Throughput(L.Callback):
        def __init__(self) -> None:
            self.fpt = flops_per_token(model)
            self.summary: dict[str, float] = {}
            self.last_step = -1
            self.total = [0.0, 0.0, 0.0]  # tokens, samples, padded slots over the whole run (this rank)
            self.start: float | None = None
            self.cpu_start = 0.0
            self.reset()

        def reset(self) -> None:
            self.t0, self.cpu_t0, self.counts = time.perf_counter(), time.process_time(), [0.0, 0.0, 0.0]

        def on_train_start(self, trainer, pl_module) -> None:
            self.reset()  # setup (strategy init, checkpoint restore) is not training time

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            ids, mask, lengths = batch["input_ids"], batch.get("attention_mask"), batch.get(PACKED_LENGTHS)
            tokens = lengths.sum() if lengths is not None else mask.sum() if mask is not None else ids.numel()
            samples = len(lengths) if lengths is not None else ids.shape[0]
            got = [float(tokens), float(samples), float(ids.numel())]
            self.counts = [a + b for a, b in zip(self.counts, got)]
            self.total = [a + b for a, b in zip(self.total, got)]
            if self.start is None:
                self.start, self.cpu_start = self.t0, self.cpu_t0
            step = trainer.global_step
            if step > 0 and step % log.every_n_steps == 0 and step != self.last_step:
                self.last_step = step
                pl_module.log_dict(self.rates(trainer, pl_module, self.counts, time.perf_counter() - self.t0),
                                   on_step=True, rank_zero_only=True)
                self.reset()

        def rates(self, trainer, pl_module, counts: list[float], seconds: float) -> dict[str, float]:
            vals = trainer.strategy.reduce(torch.tensor(counts, dtype=torch.float64, device=pl_module.device),
                                           reduce_op="sum")
            tokens, samples, padded = (float(v) for v in vals.cpu())
            out = {"perf/tokens_per_s": tokens / seconds, "perf/samples_per_s": samples / seconds,
                   "perf/padding_fraction": 1 - tokens / padded if padded else 0.0}
            if log.peak_tflops:
                out["perf/mfu"] = self.fpt * tokens / seconds / (log.peak_tflops * 1e12 * trainer.world_size)
            return out

        def on_train_end(self, trainer, pl_module) -> None:
            if self.start is not None:
                rates = self.rates(trainer, pl_module, self.total, time.perf_counter() - self.start)
                self.summary = {k.split("/")[1]: v for k, v in rates.items()} | {"flops_per_token": self.fpt}
                # this process's tokens per CPU-second: comparable across runs on a shared, busy machine
                self.summary["tokens_per_cpu_s"] = self.total[0] / max(time.process_time() - self.cpu_start, 1e-9)

    return Throughput()
