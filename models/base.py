"""The contract every video-LVLM family adapter fulfils; training and eval talk only to this.

An adapter owns one transformers model and its tokenizer/processor, and knows how frames + a chat
reach that model. Training calls `collate` (labels masked to assistant tokens) and the model's
forward; eval calls `generate`; both meet only through `save` / `load` folders on disk.

Build with `models.registry.build_adapter(ModelConfig)`, reload a saved folder with
`models.registry.load_adapter(path)`. Beyond the abstract methods below, every adapter in models/
(see models/common.py `HFVideoAdapter`, models/generation.py, models/saving.py) also offers:
- `encode(sample, train=True) -> {"input_ids", "labels", "num_visual_tokens"}`: one sample's exact
  token ids (frames are not read; `frames=[None] * n` stands for n frames) - for length
  grouping, packing and the per-sample budget check before any forward;
- `forward(batch)`: the model's outputs; while training a batch WITHOUT video it adds
  `dummy_vision_zero()` (0 x vision tower + projector on a blank clip) to the token embeddings, so
  every rank runs the vision tower at the same point of its forward and ZeRO-3 never hangs;
- `generate(frames, prompts, max_new_tokens, answer_prefix="", system=None)`, and
  `generate_chats(samples, max_new_tokens, answer_prefix)` for whole chats;
- `save(path, lora="merge"|"adapter")`, `part_of(param_name) -> "vision"|"projector"|"llm"`,
  `unused_keys` (parameters no forward touches; always frozen, so DDP needs no find_unused_parameters).
Frames: the adapter feeds exactly the frames it is handed (one count per batch) and never resamples; the
data layer picks them once (`dreamframe.clip.Clip`, `cfg.num_frames` / `cfg.frame_sampling` in training). Text
may carry "<video>"/"<image>" markers (LLaVA JSON); they are dropped and the family's own video
placeholder is put at the start of the first user turn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from dreamframe.frames import SamplingRule

IGNORE = -100
"""Label of a token the loss skips (prompt, visual and padding tokens)."""


@dataclass
class ModelConfig:
    """Which model to build, and how."""

    family: str = "llava_onevision"
    """Adapter family: see `models.registry.FAMILIES`."""
    path: str | None = None
    """Local folder or hub id of pretrained weights; None builds a tiny random-init model (tests, CPU demo)."""
    tiny: dict[str, Any] = field(default_factory=dict)
    """Tiny random-init settings when `path` is None: image_size (64), patch_size (8), hidden_size (128),
    vision_hidden_size (64), layers (2), vision_layers (2), vocab_size (4096), seed (0), and corpus (list of
    dataset folders / texts whose words become whole tokens of the offline tokenizer)."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """Weights dtype."""
    attn_implementation: Literal["auto", "flash_attention_2", "sdpa", "eager"] = "auto"
    """`auto`: flash_attention_2 when importable, else sdpa."""
    num_frames: int = 8
    """Frames per video the data layer picks for this model in training (recorded in the export; eval scores
    the model with it unless told otherwise). The adapter itself feeds whatever frames it is handed."""
    frame_sampling: SamplingRule | None = None
    """Rule of `dreamframe.frames.sample_indices` that picks them in training (checked when the config is
    parsed); None = the rule the training dataset records (segment_centre when none does)."""
    image_size: int | None = None
    """Square frame size fed to the vision tower; None uses the family's default."""
    max_length: int = 2048
    """Token budget per sample, visual tokens included; longer samples are an error, never truncated."""
    freeze: list[str] = field(default_factory=lambda: ["vision"])
    """Parts kept frozen: any of vision, projector, llm."""
    lora: dict[str, Any] | None = None
    """peft LoraConfig kwargs (r, lora_alpha, target_modules, ...); None = full fine-tune of unfrozen parts."""
    gradient_checkpointing: bool = False
    trust_remote_code: bool = False
    """Off by default; only for families that need it and sources you trust."""

    def __post_init__(self) -> None:  # checked here, not by a jsonargparse type: GPU runs load models without it
        if isinstance(self.num_frames, bool) or not isinstance(self.num_frames, int) or self.num_frames < 1:
            raise ValueError(f"model.num_frames must be a positive integer, got {self.num_frames!r}")


@dataclass
class Sample:
    """One training / eval item: the frames of one video and a chat about them."""

    frames: list[Image.Image]
    messages: list[dict[str, str]]
    """[{"role": "user"|"assistant"|"system", "content": str}, ...]; the first user turn is about the video."""
    id: str = ""


class VideoLVLMAdapter(ABC):
    """One family of transformers video LVLMs (Video-LLaVA, LLaVA-OneVision, Qwen2.5-VL, ...)."""

    family: str

    def __init__(self, cfg: ModelConfig, model: Any, tokenizer: Any):
        self.cfg, self.model, self.tokenizer = cfg, model, tokenizer

    @classmethod
    @abstractmethod
    def build(cls, cfg: ModelConfig) -> "VideoLVLMAdapter":
        """Load from cfg.path (local folder or hub id), or build a tiny random-init model."""

    @abstractmethod
    def collate(self, samples: list[Sample], train: bool = True) -> dict[str, Any]:
        """Model inputs for a batch (right padding for training, left for generation); with
        train=True includes `labels` with every non-assistant token set to -100. Raises ValueError
        naming the sample id when it exceeds cfg.max_length."""

    @abstractmethod
    def generate(self, frames: list[list[Image.Image]], prompts: list[str], max_new_tokens: int = 32,
                 **gen_kwargs: Any) -> list[str]:
        """Batched greedy answers, one per (frames, user prompt) pair."""

    @abstractmethod
    def num_visual_tokens(self, num_frames: int) -> int:
        """Tokens the frames of one video occupy in the sequence."""

    def save(self, path: str | Path) -> None:
        """Export as a HF folder (safetensors) that transformers and vLLM load."""
        path = Path(path)
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
