"""The contract every video-LVLM family adapter fulfils; training and eval talk only to this.

An adapter owns one transformers model and its tokenizer/processor, and knows how frames + a chat
reach that model. `VideoLVLMAdapter` declares every method training and eval call (the abstract ones a
family must implement; models/common.py `HFVideoAdapter`, models/generation.py and models/saving.py
implement them for transformers families): training calls `encode` (lengths, packing), `collate` (labels
masked to assistant tokens), `forward` and `save`; eval calls `generate`, `generate_chats`,
`option_logprobs` / `answer_logprobs`; both meet only through `save` / `load` folders on disk.

Build with `models.registry.build_adapter(ModelConfig)`, reload a saved folder with
`models.registry.load_adapter(path)`. While training a batch WITHOUT video, `forward` still runs the vision
tower + projector (zero-weighted) where a video would, so every rank runs the same collectives and ZeRO-3
never hangs.
Frames: the adapter feeds exactly the frames it is handed (one count per batch) and never resamples; the
data layer picks them once (`dreamframe.clip.Clip`, the run's `dreamframe.clip.ClipSpec` in training). Text
may carry "<video>"/"<image>" markers (LLaVA JSON); they are dropped and the family's own video
placeholder is put at the start of the first user turn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image

from dreamframe.frames import SamplingRule

if TYPE_CHECKING:
    from dreamframe.clip import ClipSpec

IGNORE = -100
"""Label of a token the loss skips (prompt, visual and padding tokens)."""
LLM_LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
"""LoRA's default targets: the language model's attention and MLP projections."""


def _section(cls: type, value: Any, option: str) -> Any:
    """A config section given as a dict (tests, an old export's metadata) as its dataclass; an unknown key is a
    ValueError naming the option and the fields there are (jsonargparse names a YAML typo itself)."""
    if not isinstance(value, dict):
        return value
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"{option}: unknown field(s) {unknown}; fields: {', '.join(known)}")
    return cls(**value)


@dataclass
class TinyConfig:
    """A tiny random-init model (model.path None: tests, the CPU demo); the same sizes for every family."""

    image_size: int = 64
    """Square frame size in pixels."""
    patch_size: int = 8
    hidden_size: int = 128
    """Language model width."""
    vision_hidden_size: int = 64
    layers: int = 2
    """Language model layers."""
    vision_layers: int = 2
    vocab_size: int = 4096
    """Tokens of the offline tokenizer (models/tokenizer.py)."""
    seed: int = 0
    """Seed of the random weights."""
    vision_feature_layer: int = -1
    """Vision layer whose features feed the projector (LLaVA-OneVision)."""
    corpus: list[str] = field(default_factory=list)
    """Dataset folders / texts whose words become whole tokens of the offline tokenizer."""

    def __post_init__(self) -> None:
        for name in ("image_size", "patch_size", "hidden_size", "vision_hidden_size", "layers", "vision_layers",
                     "vocab_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"model.tiny.{name} must be a positive integer, got {value!r}")


@dataclass
class LoraConfig:
    """peft LoRA adapters on the language model (model.lora); the rest of the LLM is then frozen."""

    r: int = 8
    """Rank of each adapter."""
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: str | list[str] | None = None
    """Modules to adapt (peft rules: a string is a full-match regex, a list matches name suffixes); None: the
    language model's attention and MLP projections (LLM_LORA_TARGETS)."""
    bias: Literal["none", "all", "lora_only"] = "none"
    use_rslora: bool = False

    def peft_kwargs(self) -> dict[str, Any]:
        """The kwargs of `peft.LoraConfig`."""
        return {**asdict(self), "target_modules": self.target_modules or LLM_LORA_TARGETS}


@dataclass
class ModelConfig:
    """Which model to build, and how."""

    family: str = "llava_onevision"
    """Adapter family: see `models.registry.FAMILIES`."""
    path: str | None = None
    """Local folder or hub id of pretrained weights; None builds a tiny random-init model (tests, CPU demo)."""
    tiny: TinyConfig = field(default_factory=TinyConfig)
    """Tiny random-init settings when `path` is None."""
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
    frame_order: Literal["time", "content"] = "time"
    """`content`: the adapter hands every clip's frames to the model ordered by a hash of their pixels, not
    by time - in training, its check and eval alike (the export records it), so the model sees a clip as a
    set of frames: the order-blind control. Two clips of the same frames in two orders are one input."""
    image_size: int | None = None
    """Square frame size fed to the vision tower; None uses the family's default."""
    max_length: int = 2048
    """Token budget per sample, visual tokens included; longer samples are an error, never truncated."""
    freeze: list[str] = field(default_factory=lambda: ["vision"])
    """Parts kept frozen: any of vision, projector, llm."""
    lora: LoraConfig | None = None
    """LoRA settings; None = full fine-tune of unfrozen parts."""
    gradient_checkpointing: bool = False
    trust_remote_code: bool = False
    """Off by default; only for families that need it and sources you trust."""

    def __post_init__(self) -> None:  # checked here, not by a jsonargparse type: GPU runs load models without it
        if isinstance(self.num_frames, bool) or not isinstance(self.num_frames, int) or self.num_frames < 1:
            raise ValueError(f"model.num_frames must be a positive integer, got {self.num_frames!r}")
        self.tiny = _section(TinyConfig, self.tiny, "model.tiny")
        self.lora = _section(LoraConfig, self.lora, "model.lora")


@dataclass
class Sample:
    """One training / eval item: the frames of one video and a chat about them."""

    frames: list[Image.Image]
    messages: list[dict[str, str]]
    """[{"role": "user"|"assistant"|"system", "content": str}, ...]; the first user turn is about the video."""
    id: str = ""


class VideoLVLMAdapter(ABC):
    """One family of transformers video LVLMs (Video-LLaVA, LLaVA-OneVision, Qwen2.5-VL, ...): every method
    training (`training/`, `models/packing.py`) and eval (`eval/lm.py`, `training/evaluate.py`) call. The
    family registry (`models.registry.FAMILIES`) refuses a class that leaves one of them abstract."""

    family: str
    unused_keys: tuple[str, ...] = ()
    """Parameters no forward touches (e.g. a vision head after the selected layer): always frozen, so DDP
    needs no find_unused_parameters."""
    trained_clip: ClipSpec | None = None
    """The clip the model was trained on (set by training, written by `save`, read back by `load_adapter`)."""

    def __init__(self, cfg: ModelConfig, model: Any, tokenizer: Any):
        self.cfg, self.model, self.tokenizer = cfg, model, tokenizer

    @classmethod
    @abstractmethod
    def build(cls, cfg: ModelConfig) -> VideoLVLMAdapter:
        """Load from cfg.path (local folder or hub id), or build a tiny random-init model."""

    # -- training ---------------------------------------------------------------------------------
    @abstractmethod
    def encode(self, sample: Sample, train: bool = True, answer_prefix: str = "") -> dict[str, Any]:
        """{"input_ids", "labels", "num_visual_tokens"} of one sample without reading pixels (`frames=[None] * n`
        stands for n frames): length grouping, packing and the budget check before any forward. Raises
        ValueError naming the sample id when it exceeds cfg.max_length."""

    @abstractmethod
    def collate(self, samples: list[Sample], train: bool = True, answer_prefix: str = "") -> dict[str, Any]:
        """Model inputs for a batch (right padding for training, left for generation); with
        train=True includes `labels` with every non-assistant token set to -100."""

    @abstractmethod
    def forward(self, batch: dict[str, Any]) -> Any:
        """The model's outputs (`.loss` with labels); a training batch WITHOUT video still runs the vision
        tower + projector (zero-weighted), so ZeRO-3 ranks never diverge."""

    @abstractmethod
    def video_inputs(self, videos: list[list[Image.Image]]) -> dict[str, Any]:
        """Pixel tensors (and grids) for the non-empty videos of a batch, in order."""

    def extra_inputs(self, input_ids: Any) -> dict[str, Any]:
        """Family-specific tensors derived from input_ids (Qwen2-VL's mm_token_type_ids); none by default."""
        return {}

    def sample_positions(self, ids: list[int], frames: list[Any]) -> Any:
        """Position ids of one sample on its own, for packed rows (models/packing.py)."""
        raise NotImplementedError(f"{type(self).__name__} does not support data.packing (no sample_positions)")

    @abstractmethod
    def num_visual_tokens(self, num_frames: int) -> int:
        """Tokens the frames of one video occupy in the sequence."""

    @abstractmethod
    def part_of(self, name: str) -> str:
        """'vision', 'projector' or 'llm' for a parameter name (model.freeze, the training plan)."""

    @abstractmethod
    def save(self, path: str | Path, lora: str = "merge") -> None:
        """A HF folder transformers and vLLM load, plus dreamframe_model.json (`models.saving.read_model_meta`);
        with model.lora: merged into the weights, or a peft adapter beside them (lora="adapter")."""

    # -- eval -------------------------------------------------------------------------------------
    @abstractmethod
    def generate(self, frames: list[list[Image.Image]], prompts: list[str], max_new_tokens: int = 32,
                 answer_prefix: str = "", system: str | None = None, **gen_kwargs: Any) -> list[str]:
        """Batched greedy answers, one per (frames, user prompt) pair; `answer_prefix` follows the generation
        prompt and is not returned; `system` adds a system turn."""

    @abstractmethod
    def generate_chats(self, samples: list[Sample], max_new_tokens: int = 32, answer_prefix: str = "",
                       **gen_kwargs: Any) -> list[str]:
        """Greedy continuation of whole chats (system turns included) after the generation prompt."""

    @abstractmethod
    def option_logprobs(self, frames: list[list[Image.Image]], prompts: list[str], options: list[list[str]],
                        batch_size: int = 16) -> list[list[float]]:
        """Per prompt, the summed log-probability of each option as the whole assistant turn."""

    @abstractmethod
    def answer_logprobs(self, frames: list[list[Image.Image]], prompts: list[str], answers: list[str],
                        batch_size: int = 16) -> list[tuple[float, bool]]:
        """lm-eval's `loglikelihood` for chats: (log p(answer as the assistant turn), greedy would produce it)."""
