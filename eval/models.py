"""PATH_OR_PRESET -> a `models/` adapter, plus what the results record about it.

- `tiny-<family>` (e.g. `tiny-llava_onevision`): a tiny random-init model of that family (tests, CPU demo);
- a local folder saved/exported by `models/` or `training/`: `models.registry.load_adapter`;
- anything else is a hub id or folder of public weights for `--family` (offline runs need it cached).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from models.base import VideoLVLMAdapter

TINY_PREFIX = "tiny-"


def build(model: str, overrides: dict[str, Any] | None = None,
          family: str | None = None) -> tuple[VideoLVLMAdapter, dict[str, Any]]:
    """Build the adapter and describe it: {"model", "base_model", "model_fingerprint", "source"}."""
    from models.base import ModelConfig
    from models.registry import build_adapter, load_adapter

    overrides = dict(overrides or {})
    if model.startswith(TINY_PREFIX):
        cfg = ModelConfig(family=model[len(TINY_PREFIX):], path=None, **overrides)
        adapter, source = build_adapter(cfg), "tiny-random-init"
    elif Path(model).is_dir() and family is None:
        adapter, source = load_adapter(model, **overrides), "local"
    else:
        if family is None:
            raise ValueError(f"--model {model!r} is not a local folder nor a tiny-<family> preset; "
                             "give --family to load it as a hub id / public checkpoint")
        cfg = ModelConfig(family=family, path=model, **overrides)
        adapter, source = build_adapter(cfg), "pretrained"
    info = {
        "model": model,
        "base_model": _base_model(model, adapter),
        "model_fingerprint": fingerprint_adapter(adapter),
        "source": source,
        "family": getattr(adapter, "family", None),
    }
    return adapter, info


def _base_model(model: str, adapter: VideoLVLMAdapter) -> str | None:
    """The checkpoint a saved/fine-tuned folder started from (models/ writes it into its meta file)."""
    from models.saving import read_model_meta

    meta = read_model_meta(model) if Path(model).is_dir() else None
    if meta is not None:
        base = meta.base_path or meta.model_config.get("path")
        return str(base) if base else None
    path = getattr(getattr(adapter, "cfg", None), "path", None)
    return None if path in (None, model) else str(path)


def fingerprint_adapter(adapter: VideoLVLMAdapter) -> str:
    """sha256 over every weight (name, dtype, shape, bytes) and the model config: same weights, same id.

    Hashing reads each parameter once (a 7B model: seconds), cheaper than trusting file names.
    """
    import torch

    h = hashlib.sha256()
    model = adapter.model
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        h.update(json.dumps(_config_identity(config.to_dict()), sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, tensor in sorted(model.state_dict().items()):
            t = tensor.detach().cpu().contiguous()
            h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


_NOT_IDENTITY = ("_name_or_path", "architectures", "transformers_version")


def _config_identity(data: Any) -> Any:
    """The config without where it was loaded from or which class saved it (same model, same id)."""
    if isinstance(data, dict):
        return {k: _config_identity(v) for k, v in data.items() if k not in _NOT_IDENTITY}
    return data
