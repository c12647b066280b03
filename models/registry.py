"""The model families `model.family` may name; `build_adapter(cfg)` for training, `load_adapter(folder)` for eval.

Add a family: one module with a `VideoLVLMAdapter` subclass that implements every abstract method (most
come from `models.common.HFVideoAdapter`; models/qwen2_5_vl.py is a short one; a class that leaves one
abstract is refused when `model.family` names it, naming the methods), one
`FAMILIES.add` line below (with the transformers `model_type` its config.json says, so public
checkpoints load too), and a tiny config configs/models/tiny_<family>.yaml (tests build every family).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dreamframe.registry import Registry
from models.base import ModelConfig, VideoLVLMAdapter

FAMILIES: Registry[type[VideoLVLMAdapter]] = Registry("model family", VideoLVLMAdapter, option="model.family",
                                                      subclass=True)
FAMILIES.add("llava_onevision", "models.llava_onevision:LlavaOnevisionAdapter", __file__, model_type="llava_onevision")
FAMILIES.add("llava_next_video", "models.llava_next_video:LlavaNextVideoAdapter", __file__, model_type="llava_next_video")
FAMILIES.add("video_llava", "models.video_llava:VideoLlavaAdapter", __file__, model_type="video_llava")
FAMILIES.add("qwen2_5_vl", "models.qwen2_5_vl:Qwen25VLAdapter", __file__, model_type="qwen2_5_vl")


def family_of_model_type(model_type: Any) -> str | None:
    """The family whose transformers `model_type` this is (for folders we did not write), else None."""
    return next((e.name for e in FAMILIES.entries() if e.info["model_type"] == model_type), None)


def adapter_class(family: str) -> type[VideoLVLMAdapter]:
    """The family's adapter class (imported now); an unknown family is a ValueError naming model.family."""
    return FAMILIES.load(family)


def build_adapter(cfg: ModelConfig) -> VideoLVLMAdapter:
    """Build from cfg.path (local folder or hub id) or a tiny random-init model when path is None."""
    return adapter_class(cfg.family).build(cfg)


def load_adapter(path: str | Path, **overrides) -> VideoLVLMAdapter:
    """Load a folder written by `adapter.save` (or any HF folder of a known family).

    `overrides` replace ModelConfig fields (e.g. attn_implementation, max_length, dtype).
    """
    from dreamframe.config import from_dict
    from models.saving import META_FILE, read_model_meta

    folder = Path(path)
    meta, config_file = read_model_meta(folder), folder / "config.json"
    if meta is not None:
        cfg = from_dict(ModelConfig, meta.model_config)
        cfg.family = meta.family
    elif config_file.is_file():
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
        family = family_of_model_type(model_type)
        if family is None:
            known = sorted(e.info["model_type"] for e in FAMILIES.entries())
            raise ValueError(f"{config_file}: model_type {model_type!r} has no adapter; known: {known}")
        cfg = ModelConfig(family=family)
    else:
        raise FileNotFoundError(f"{folder} is not a model folder (no {META_FILE} or config.json)")
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise ValueError(f"load_adapter: unknown ModelConfig field {key!r}")
        setattr(cfg, key, value)
    cfg.lora = None
    cfg.path = meta.base_path if meta and meta.base_path else str(folder)
    adapter = adapter_class(cfg.family).build(cfg)
    if meta and meta.lora_adapter:
        from peft import PeftModel

        from models.saving import check_weights

        check_weights(folder / meta.lora_adapter)
        adapter.model = PeftModel.from_pretrained(adapter.model, str(folder / meta.lora_adapter))
    adapter.trained_clip = meta.trained_clip if meta else None
    return adapter
