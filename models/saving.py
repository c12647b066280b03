"""Export of a video LVLM adapter as a HF folder (safetensors, tokenizer, preprocessor JSON) plus
dreamframe_model.json, which `read_model_meta` reads back (the one reader: `models.registry.load_adapter`,
eval's frame defaults, fingerprints and protocols all go through it). Mixed into `HFVideoAdapter`."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from dreamframe.config import to_dict

META_FILE = "dreamframe_model.json"
LORA_DIR = "lora_adapter"


class SavingMixin:
    """Needs the adapter's `cfg`, `model`, `tokenizer`, `spec`, `family`, `model_class`, `trained_clip`."""

    model: Any
    trained_clip: ClipSpec | None

    def save(self, path: str | Path, lora: str = "merge") -> None:
        """HF folder: safetensors weights, tokenizer (with chat template), preprocessor JSON, and
        dreamframe_model.json (family, model config, frame spec, the clip it was trained on) for `models.registry.load_adapter`.

        With LoRA: lora="merge" merges the adapter into the weights (this adapter then holds the
        merged model); lora="adapter" writes the base weights (or only a reference to cfg.path)
        plus the peft adapter under lora_adapter/.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        cfg = copy.deepcopy(self.cfg)
        meta: dict[str, Any] = {"family": self.family, "frame_spec": self.spec.to_json()}
        if self.trained_clip:
            meta["trained_clip"] = self.trained_clip.as_dict()
        if self.cfg.lora and lora == "merge":
            self.model = self.model.merge_and_unload()
            self.model.save_pretrained(path, safe_serialization=True)
            cfg.lora = None
        elif self.cfg.lora and lora == "adapter":
            self.model.save_pretrained(path / LORA_DIR, safe_serialization=True)
            meta["lora_adapter"] = LORA_DIR
            if self.cfg.path:  # a hub id, or a local folder made absolute so the export can move
                local = Path(self.cfg.path)
                meta["base_path"] = str(local.resolve()) if local.is_dir() else self.cfg.path
            else:
                self._base_model_copy().save_pretrained(path, safe_serialization=True)
        elif self.cfg.lora:
            raise ValueError(f"save(lora=...) must be 'merge' or 'adapter', got {lora!r}")
        else:
            self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        cfg.path, cfg.tiny = None, replace(cfg.tiny, corpus=[])
        meta["model_config"] = to_dict(cfg)
        for name, data in self.processor_files().items():
            (path / name).write_text(json.dumps(data, indent=2), encoding="utf-8")
        (path / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def _base_model_copy(self) -> Any:
        """The pretrained weights without LoRA layers, as a fresh transformers model."""
        import transformers

        base = self.model.get_base_model()
        sd = {k.replace(".base_layer", ""): v for k, v in base.state_dict().items() if "lora_" not in k}
        fresh = getattr(transformers, self.model_class)._from_config(base.config)
        fresh.load_state_dict(sd, strict=True)
        return fresh

    def processor_files(self) -> dict[str, dict[str, Any]]:
        """Preprocessor JSON files so transformers / vLLM processors see our sizes and statistics."""
        return {}


@dataclass(frozen=True)
class ModelMeta:
    """What dreamframe_model.json says about a saved model folder."""

    family: str
    model_config: dict[str, Any] = field(default_factory=dict)
    """The ModelConfig fields it was built with (path and the tiny corpus left out)."""
    frame_spec: dict[str, Any] | None = None
    """The family's frame preprocessing (models.preprocess.FrameSpec fields)."""
    trained_clip: ClipSpec | None = None
    """The clip the model was trained on (None: not trained by training/); eval scores it with it by default."""
    lora_adapter: str | None = None
    """Subfolder of a peft adapter saved beside base weights (lora="adapter")."""
    base_path: str | None = None
    """Where the base weights of such an adapter live, when not in this folder."""


def read_model_meta(folder: str | Path) -> ModelMeta | None:
    """The record of a folder written by `SavingMixin.save` (None: no dreamframe_model.json, e.g. a public
    checkpoint); a damaged one is a ValueError naming the file and key."""
    path = Path(folder) / META_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not readable JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("family"), str):
        raise ValueError(f"{path}: needs a mapping with a 'family' string")
    clip = data.get("trained_clip")
    return ModelMeta(family=data["family"], model_config=dict(data.get("model_config") or {}),
                     frame_spec=data.get("frame_spec"), lora_adapter=data.get("lora_adapter"),
                     base_path=data.get("base_path"),
                     trained_clip=None if clip is None else ClipSpec.from_dict(clip, f"{path}: trained_clip"))


def check_weights(folder: str | Path) -> None:
    """Raise ValueError naming the first `*.safetensors` file of `folder` (and its LoRA adapter) that is cut
    short or damaged: its header must parse and its tensors end exactly at the end of the file. The loaders
    would stop with the safetensors library's own message, which names no file."""
    import struct

    for file in sorted([*Path(folder).glob("*.safetensors"), *Path(folder).glob(f"{LORA_DIR}/*.safetensors")]):
        size = file.stat().st_size
        try:
            with open(file, "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                if n > min(size - 8, 100_000_000):
                    raise ValueError(f"header of {n} bytes in a file of {size}")
                header = json.loads(fh.read(n))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (struct.error, ValueError, KeyError, TypeError, IndexError) as err:
            raise ValueError(f"{file}: not a readable safetensors file ({err}); export the model again") from None
        if 8 + n + end != size:
            raise ValueError(f"{file}: truncated or damaged safetensors file ({size} bytes, its header says "
                             f"{8 + n + end}); export the model again")


def folder_chat_template(path: str) -> str | None:
    """Processor chat templates live beside the tokenizer in HF folders (chat_template.json / .jinja)."""
    folder = Path(path)
    if (folder / "chat_template.jinja").is_file():
        return (folder / "chat_template.jinja").read_text(encoding="utf-8")
    if (folder / "chat_template.json").is_file():
        return json.loads((folder / "chat_template.json").read_text(encoding="utf-8"))["chat_template"]
    return None
