"""Lightning strategy from the config: one device, DDP, or DeepSpeed ZeRO-2/3 (+ CPU offload) from a JSON file.

The JSON under configs/deepspeed/ holds only the ZeRO settings; batch size, accumulation, clipping and
precision come from the training config (through Lightning's Trainer), so they are written in one place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.config import TrainConfig


def deepspeed_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The DeepSpeed config: the JSON file plus the keys the training config owns."""
    path = cfg.strategy.deepspeed_config
    if not path:
        raise ValueError("strategy.name=deepspeed needs strategy.deepspeed_config (e.g. configs/deepspeed/zero3.json)")
    try:
        ds = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"strategy.deepspeed_config {path}: {err}") from err
    if "zero_optimization" not in ds:
        raise ValueError(f"{path}: no zero_optimization section")
    for key in ("train_batch_size", "gradient_accumulation_steps", "bf16", "fp16"):
        if key in ds:  # Lightning sets these from Trainer(accumulate_grad_batches, precision)
            raise ValueError(f"{path}: remove {key!r}; it comes from the training config (optim.accumulate, "
                             "data.batch_size, precision)")
    ds["train_micro_batch_size_per_gpu"] = cfg.data.batch_size
    ds["gradient_clipping"] = cfg.optim.grad_clip
    return ds


def offloads_optimizer(ds: dict[str, Any]) -> bool:
    return ds.get("zero_optimization", {}).get("offload_optimizer", {}).get("device", "none") in ("cpu", "nvme")


def zero_stage(cfg: TrainConfig) -> int:
    return deepspeed_dict(cfg)["zero_optimization"].get("stage", 0) if cfg.strategy.name == "deepspeed" else 0


def build_strategy(cfg: TrainConfig) -> Any:
    """A Lightning strategy object (or the string `auto`)."""
    name = cfg.strategy.name
    if name == "auto":
        return "auto"
    if name == "ddp":
        from lightning.pytorch.strategies import DDPStrategy

        return DDPStrategy(find_unused_parameters=cfg.strategy.find_unused_parameters)
    if name == "deepspeed":
        from lightning.pytorch.strategies import DeepSpeedStrategy

        return DeepSpeedStrategy(config=deepspeed_dict(cfg))
    raise ValueError(f"strategy.name: unknown {name!r} (auto, ddp, deepspeed)")
