"""Family name -> adapter class; `build_adapter(cfg)` for training, `load_adapter(folder)` for eval."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from models.base import ModelConfig, VideoLVLMAdapter

# family -> "module:Class" (imported lazily so `--help` stays instant)
FAMILIES: dict[str, str] = {
    "llava_onevision": "models.llava_onevision:LlavaOnevisionAdapter",
    "llava_next_video": "models.llava_next_video:LlavaNextVideoAdapter",
    "video_llava": "models.video_llava:VideoLlavaAdapter",
    "qwen2_5_vl": "models.qwen2_5_vl:Qwen25VLAdapter",
}
# transformers config.json model_type -> family, for folders that were not written by us
MODEL_TYPES: dict[str, str] = {
    "llava_onevision": "llava_onevision", "llava_next_video": "llava_next_video",
    "video_llava": "video_llava", "qwen2_5_vl": "qwen2_5_vl",
}


def adapter_class(family: str) -> type[VideoLVLMAdapter]:
    if family not in FAMILIES:
        raise ValueError(f"model.family={family!r} is unknown; choose one of {sorted(FAMILIES)}")
    module, name = FAMILIES[family].split(":")
    return getattr(importlib.import_module(module), name)


def build_adapter(cfg: ModelConfig) -> VideoLVLMAdapter:
    """Build from cfg.path (local folder or hub id) or a tiny random-init model when path is None."""
    return adapter_class(cfg.family).build(cfg)


def load_adapter(path: str | Path, **overrides) -> VideoLVLMAdapter:
    """Load a folder written by `adapter.save` (or any HF folder of a known family).

    `overrides` replace ModelConfig fields (e.g. attn_implementation, max_length, dtype).
    """
    from dreamframe.config import from_dict
    from models.saving import META_FILE

    folder = Path(path)
    meta_file, config_file = folder / META_FILE, folder / "config.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        cfg = from_dict(ModelConfig, meta["model_config"])
        cfg.family = meta["family"]
    elif config_file.is_file():
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
        if model_type not in MODEL_TYPES:
            raise ValueError(f"{config_file}: model_type {model_type!r} has no adapter; known: {sorted(MODEL_TYPES)}")
        cfg, meta = ModelConfig(family=MODEL_TYPES[model_type]), {}
    else:
        raise FileNotFoundError(f"{folder} is not a model folder (no {META_FILE} or config.json)")
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise ValueError(f"load_adapter: unknown ModelConfig field {key!r}")
        setattr(cfg, key, value)
    cfg.lora = None
    cfg.path = meta.get("base_path", str(folder))
    adapter = adapter_class(cfg.family).build(cfg)
    if meta.get("lora_adapter"):
        from peft import PeftModel

        adapter.model = PeftModel.from_pretrained(adapter.model, str(folder / meta["lora_adapter"]))
    adapter.trained_clip = meta.get("trained_clip")
    return adapter


def trained_clip(path: str | Path) -> dict | None:
    """{"rule", "num_frames"} a saved model folder was trained on (None: not trained by training/), read
    without loading the model, so eval can materialise its tasks with them first."""
    from models.saving import META_FILE

    meta_file = Path(path) / META_FILE
    if not meta_file.is_file():
        return None
    return json.loads(meta_file.read_text(encoding="utf-8")).get("trained_clip")
