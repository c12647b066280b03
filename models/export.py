"""Write a model folder that transformers (and `models.registry.load_adapter`) load: a tiny random-init
model for tests and demos, or a pretrained one re-exported (e.g. after a dtype change or a LoRA merge).

    python -m models.export --config configs/models/tiny_llava_onevision.yaml --out runs/models/tiny_ov
    python -m models.export --model.family qwen2_5_vl --model.path /data/Qwen2.5-VL-7B-Instruct \\
        --model.dtype bfloat16 --out runs/models/qwen25vl_bf16
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dreamframe.atomic import WriteError, atomic_folder
from models.base import ModelConfig


@dataclass
class ExportConfig:
    """Build a model from `model` and save it as a HF folder (safetensors)."""

    out: str = "runs/models/tiny_llava_onevision"
    """Output folder; must be empty or absent unless `overwrite`. Written atomically: a killed export leaves
    the old folder (or none), never half a model."""
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: Literal["merge", "adapter"] = "merge"
    """With model.lora: merge it into the weights, or write it as a peft adapter beside the base."""
    overwrite: bool = False
    """Replace an existing non-empty folder."""


def export(cfg: ExportConfig) -> Path:
    from models.registry import build_adapter

    out = Path(cfg.out)
    if out.exists() and any(out.iterdir()) and not cfg.overwrite:
        raise FileExistsError(f"--out {out} is not empty; choose another folder or pass --overwrite true")
    adapter = build_adapter(cfg.model)
    with atomic_folder(out) as partial:
        adapter.save(partial, lora=cfg.lora) if cfg.model.lora else adapter.save(partial)
    return out


def main(argv: list[str] | None = None) -> None:
    from dreamframe.config import parse_config

    cfg = parse_config(ExportConfig, argv, prog="python -m models.export",
                       description="Build a video LVLM (tiny random-init or pretrained) and save it as a HF folder.")
    try:
        out = export(cfg)
    except (FileExistsError, FileNotFoundError, ValueError, ImportError, WriteError) as err:
        raise SystemExit(f"error: {err}") from err
    print(f"wrote {out} (family {cfg.model.family}); load with models.registry.load_adapter({str(out)!r})")


if __name__ == "__main__":
    main()
