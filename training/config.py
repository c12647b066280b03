"""Settings of `python -m training.train`. Defaults equal configs/train/tiny_cpu.yaml (a test checks), and
every YAML under configs/train/ is loaded through these dataclasses by a test, so a stale key fails.
Counts and ranges are restricted types (jsonargparse.typing): a bad value fails at parse time naming the
option, instead of as a ZeroDivisionError (`--data.batch_size 0`) or hours into a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from jsonargparse.typing import (ClosedUnitInterval, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt,
                                 restricted_number_type)

from models.base import ModelConfig, TinyConfig

Fraction = restricted_number_type("Fraction", float, [(">=", 0), ("<", 1)])
"""A number in [0, 1)."""
StepLimit = restricted_number_type("StepLimit", int, (">=", -1))
"""Optimizer steps, or -1 for none."""

# tiny_cpu.yaml trains on the closed questions of configs/data_gen/demo_cpu.yaml, which asks only what a
# 64-px, 4-frame clip can show (see that file and docs/training.md for what was left out and why).
TINY_STILL_TYPES = ["colour", "count", "location", "where"]  # any one frame answers them: frames in a random order
TINY_ORDER_TYPES = ["temporal"]  # the frames' order is the answer: always as the clip shows them
TINY_DRILL_TYPES = ["colour", "count"]  # drilled by a further, half-weight source: the types learned last
TINY_ACTION_TYPES = ["action"]  # a source of its own, the largest share: a pose at 64 px is the slowest skill
TINY_ORDER_SHARE = 0.112
"""The temporal questions' share of the first source's weight: 2,046 of demo_cpu's 18,270 training questions
of the five types, so splitting one source into a still and an ordered one keeps every type's share."""


def tiny_model() -> ModelConfig:
    """The tiny random-init Qwen2.5-VL of tiny_cpu.yaml (tokenizer trained on the data folder's text). Its 2x2
    patch merger concatenates patches where LLaVA-OneVision averages them, so a few pixels of clothing colour
    or a third figure still reach the language model at 32 px (docs/training.md)."""
    return ModelConfig(family="qwen2_5_vl", num_frames=4, max_length=512, freeze=[],
                       tiny=TinyConfig(image_size=64, patch_size=8, hidden_size=128, vision_hidden_size=64, layers=2,
                                       vision_layers=2, vocab_size=2048, corpus=["runs/data/demo_cpu"]))


@dataclass
class SourceConfig:
    """One training source: a DreamFrame dataset folder or a LLaVA-format conversation JSON file."""

    path: str = ""
    """Dataset folder (has manifest.json) or LLaVA JSON file ([{"id", "video"|"frames"|"image", "conversations"}])."""
    weight: NonNegativeFloat = 1.0
    """Mixing ratio: share of each epoch drawn from this source (weights are normalised)."""
    split: str = "train"
    """QA split of a dataset folder."""
    qa_types: list[str] | None = None
    """Only these QA types of a dataset folder (e.g. [colour, count, location]); None: all."""
    media_root: str | None = None
    """Folder that a JSON file's media paths are relative to; default: the JSON file's folder."""
    frames: Literal["matched", "shuffled", "order_shuffled"] = "matched"
    """`shuffled`: every sample of a dataset folder gets the frames of a sample from another movie - the
    blind control, trained on the same questions and pixel statistics with no link from frames to answers.
    `order_shuffled`: every sample keeps its own clip's frames in a random order (never the original one;
    seeded, the same every epoch) - an augmentation for questions any one frame answers (tiny_cpu.yaml:
    colour, count, location and where come in a random order, temporal and action in the clip's own). The
    order-blind control is `model.frame_order: content` instead: a random order per sample still lets a
    model answer the two twins of a temporal pair apart at test time, where the clip comes in its order."""
    turns: Literal["question", "clip"] = "question"
    """`clip` (a dataset folder): the questions that share one clip (the same frames in the same order) become
    one multi-turn sample, in a seeded random order - the frames are read and encoded once for all of them,
    as in LLaVA's multi-turn conversations. `question`: one sample per question, the way eval asks."""
    start_epoch: NonNegativeInt = 0
    """The first epoch this source is drawn in (weights renormalised over the sources drawn): a curriculum
    drills a skill alone before the mix. `data.epoch_samples` sets how long an epoch is."""


@dataclass
class DataConfig:
    """What the model is trained on, and how samples become batches."""

    sources: list[SourceConfig] = field(default_factory=lambda: [
        SourceConfig(path="runs/data/demo_cpu", weight=1 - TINY_ORDER_SHARE, qa_types=list(TINY_STILL_TYPES),
                     frames="order_shuffled"),
        SourceConfig(path="runs/data/demo_cpu", weight=TINY_ORDER_SHARE, qa_types=list(TINY_ORDER_TYPES)),
        SourceConfig(path="runs/data/demo_cpu", weight=0.5, qa_types=list(TINY_DRILL_TYPES), frames="order_shuffled"),
        SourceConfig(path="runs/data/demo_cpu", weight=1.25, qa_types=list(TINY_ACTION_TYPES))])
    """Training sources with mixing ratios."""
    generate_config: str | None = "configs/data_gen/demo_cpu.yaml"
    """data_gen YAML used to write the first source folder when it does not exist (else: an error)."""
    generate_num_movies: PositiveInt | None = None
    """Movies written when generating the first source folder (None: the YAML's value)."""
    generate_wait_s: PositiveFloat = 7200.0
    """Seconds the other ranks wait for rank 0 to generate the first source folder before they stop with
    an error (instead of hanging when rank 0 died)."""
    epoch_samples: PositiveInt | None = None
    """Samples per epoch across sources; None = the sum of the sources' sizes."""
    batch_size: PositiveInt = 16
    """Micro-batch per device."""
    num_workers: NonNegativeInt = 0
    """DataLoader worker processes (frames are decoded in them)."""
    group_by_length: bool = True
    """Batch samples of similar token length together, so padding stays small."""
    group_window: PositiveInt = 64
    """Length grouping sorts within windows of this many batches (larger: less padding, less randomness)."""
    packing: bool = False
    """Concatenate the samples of each batch into rows of at most `pack_length` tokens instead of one
    padded row each; attention and position ids stay inside every sample (models/packing.py)."""
    pack_length: int | None = None
    """Tokens per packed row; None: model.max_length."""
    seed: int = 0
    """Data order seed (the order of epoch e is a pure function of (seed, e))."""

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("data.sources: give at least one dataset folder or LLaVA JSON file")
        if sum(s.weight for s in self.sources if s.start_epoch == 0) <= 0:
            raise ValueError(f"--data.sources: the weights {[s.weight for s in self.sources]} of the sources drawn "
                             "from epoch 0 (start_epoch 0) must have a positive sum")


@dataclass
class OptimConfig:
    """AdamW with linear warmup then cosine decay."""

    lr: PositiveFloat = 1e-3
    weight_decay: NonNegativeFloat = 0.0
    betas: tuple[Fraction, Fraction] = (0.9, 0.999)
    warmup_ratio: Fraction = 0.5
    """Fraction of the optimizer steps spent warming up linearly from 0 (0.5: the tiny random-init demo's,
    docs/training.md run Y; the 7B presets set the paper's 0.03)."""
    min_lr_ratio: ClosedUnitInterval = 0.05
    """Cosine floor as a fraction of lr."""
    grad_clip: NonNegativeFloat = 1.0
    """Gradient-norm clip; 0 disables."""
    accumulate: PositiveInt = 1
    """Micro-batches per optimizer step."""


@dataclass
class StrategyConfig:
    """How the work is spread over devices."""

    name: Literal["auto", "ddp", "deepspeed"] = "auto"
    """`auto` (one device), `ddp`, or `deepspeed` (give `deepspeed_config`)."""
    deepspeed_config: str | None = None
    """DeepSpeed JSON (configs/deepspeed/zero2.json, zero3.json, zero3_offload.json); batch, accumulation,
    clipping and precision keys are filled from this config."""
    find_unused_parameters: bool = False
    """DDP: set when some trainable parameters get no gradient (e.g. unused vision heads)."""


@dataclass
class LogConfig:
    """Metrics: CSV always, Weights & Biases optionally (offline unless configured)."""

    wandb: bool = False
    """Also log to Weights & Biases."""
    wandb_mode: Literal["offline", "online", "disabled"] = "offline"
    """`online` needs WANDB_API_KEY in the environment."""
    wandb_project: str = "dreamframe"
    every_n_steps: PositiveInt = 5
    """Log metrics every N optimizer steps."""
    peak_tflops: PositiveFloat | None = None
    """Peak dense TFLOP/s per device for the MFU estimate (H100 bf16: 989, A100: 312); None: no MFU."""


@dataclass
class EvalConfig:
    """Built-in held-out check: closed questions of a dataset folder's test split, by option likelihood
    and by free generation (`dreamframe.scoring`, as eval.run scores them)."""

    enabled: bool = True
    dataset: str | None = None
    """Dataset folder to evaluate on; None: the first source that is a dataset folder."""
    split: str = "test"
    max_samples: PositiveInt | None = None
    """Evaluate at most this many closed questions (None: all)."""
    batch_size: PositiveInt = 32
    max_new_tokens: PositiveInt = 6
    before: bool = True
    """Also score the model before training, so the gain is visible."""


@dataclass
class TrainConfig:
    """Fine-tune a video LVLM on DreamFrame data with Lightning (DDP or DeepSpeed ZeRO-2/3)."""

    out: str = "runs/train/tiny_cpu"
    """Output folder: checkpoints/, metrics, export/, eval.json. Rerunning the same command resumes."""
    model: ModelConfig = field(default_factory=tiny_model)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    log: LogConfig = field(default_factory=LogConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    max_epochs: PositiveInt = 4
    max_steps: StepLimit = 3600
    """Optimizer steps; -1: max_epochs decides."""
    precision: Literal["32-true", "bf16-mixed", "16-mixed", "bf16-true"] = "32-true"
    accelerator: Literal["auto", "cpu", "gpu"] = "cpu"
    devices: PositiveInt | Literal["auto"] = 1
    """Devices per node (an int, or `auto`)."""
    num_nodes: PositiveInt = 1
    seed: int = 0
    """Model init / dropout seed."""
    checkpoint_every_n_steps: PositiveInt = 50
    """Save a resumable checkpoint every N optimizer steps (kept: the last two, written atomically)."""
    export: bool = True
    """Write a HF folder of the final model to <out>/export (LoRA merged, or lora_export=adapter)."""
    lora_export: Literal["merge", "adapter"] = "merge"
    resume: Literal["auto", "never"] = "auto"
    """`auto`: continue from the newest readable checkpoint in <out>/checkpoints (same command = resume)."""
