"""What every transformers video-LVLM adapter shares: loading, chat -> token ids with assistant-only
labels, visual-token expansion with a hard budget check, padding, greedy batched generation, freeze /
LoRA / gradient checkpointing, the dummy vision pass, and export.

A family subclass only says which transformers class it wraps, how frames become pixel tensors
(`video_inputs`), how many tokens a video occupies, and how to build a tiny random-init config.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import logging
from pathlib import Path
from typing import Any

from PIL import Image

from models.base import IGNORE, ModelConfig, Sample, TinyConfig, VideoLVLMAdapter
from models.generation import GenerationMixin
from models.preprocess import FrameSpec
from models.saving import META_FILE, SavingMixin, check_weights, folder_chat_template, read_model_meta

log = logging.getLogger(__name__)
__all__ = ["HFVideoAdapter", "IGNORE", "META_FILE", "PACKED_LENGTHS", "resolve_attn", "torch_dtype"]
PACKED_LENGTHS = "sample_lengths"
"""Key of a packed training batch (models/packing.py): the token count of every sample, row by row;
`HFVideoAdapter.forward` does not pass it to the model."""


def pixel_hash(frame: Image.Image) -> str:
    """The sort key of `model.frame_order: content`: an order fixed by what a frame shows, unrelated to when."""
    return hashlib.sha1(frame.tobytes() + repr((frame.mode, frame.size)).encode()).hexdigest()


def resolve_attn(requested: str) -> str:
    """flash_attention_2 when flash_attn is importable and a GPU is there, else sdpa; an explicit
    request for flash_attention_2 without the package is an ImportError (the config keeps the setting)."""
    has_flash = importlib.util.find_spec("flash_attn") is not None
    if requested == "flash_attention_2" and not has_flash:
        raise ImportError("model.attn_implementation=flash_attention_2 but flash_attn is not installed; "
                          "`pip install flash-attn` on a CUDA machine, or use sdpa / auto")
    if requested != "auto":
        return requested
    import torch

    return "flash_attention_2" if has_flash and torch.cuda.is_available() else "sdpa"


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


class HFVideoAdapter(GenerationMixin, SavingMixin, VideoLVLMAdapter):
    """Shared implementation of `VideoLVLMAdapter` for transformers families (see the module docstring):
    `encode` / `collate` / `forward` / `sample_positions` / `part_of` here, generation and likelihood scoring in
    `GenerationMixin`, `save` in `SavingMixin`. A family adds `video_inputs`, `num_visual_tokens` and
    `tiny_config`. Beyond the base: `dummy_vision_zero()` (the blank vision pass `forward` adds to a training
    batch without video) and `to_device(batch)`.
    """

    model_class: str = ""
    video_token: str = "<video>"
    special_tokens: list[str] = ["<|endoftext|>", "<|im_end|>", "<|im_start|>", "<video>", "<image>"]
    video_markup: str = "<video>\n"
    tiny_chat_template: str | None = None
    """Chat template of tiny random-init models (None: ChatML); pretrained folders bring their own."""
    default_spec: FrameSpec = FrameSpec()
    vision_keys: tuple[str, ...] = ("vision_tower.",)
    projector_keys: tuple[str, ...] = ("multi_modal_projector.", "image_newline")
    llm_keys: tuple[str, ...] = ("language_model.", "lm_head.")

    def __init__(self, cfg: ModelConfig, model: Any, tokenizer: Any, spec: FrameSpec):
        super().__init__(cfg, model, tokenizer)
        self.spec = spec
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        self.chat_template = tokenizer.chat_template

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def tiny_config(cls, tokenizer: Any, tiny: TinyConfig, spec: FrameSpec) -> Any:
        raise NotImplementedError

    @classmethod
    def tiny_spec(cls, tiny: TinyConfig) -> FrameSpec:
        spec = copy.deepcopy(cls.default_spec)
        spec.size = tiny.image_size
        spec.patch_size = tiny.patch_size
        return spec

    @classmethod
    def build(cls, cfg: ModelConfig) -> HFVideoAdapter:
        import torch
        import transformers

        model_cls = getattr(transformers, cls.model_class)
        attn = resolve_attn(cfg.attn_implementation)
        if cfg.path:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(cfg.path, trust_remote_code=cfg.trust_remote_code)
            if tokenizer.chat_template is None:
                tokenizer.chat_template = folder_chat_template(cfg.path)
            if tokenizer.chat_template is None:  # e.g. Video-LLaVA: its documented "USER: ... ASSISTANT:" format
                from models.tokenizer import CHATML_TEMPLATE

                template = cls.tiny_chat_template or CHATML_TEMPLATE
                tokenizer.chat_template = template.replace("{{ video_markup }}", cls.video_markup)
                log.warning("%s has no chat template; using the %s family's default", cfg.path, cls.family)
            if Path(cfg.path).is_dir():
                check_weights(cfg.path)  # a cut file is named here, not deep inside safetensors
            model = model_cls.from_pretrained(cfg.path, dtype=torch_dtype(cfg.dtype), attn_implementation=attn,
                                              trust_remote_code=cfg.trust_remote_code, use_safetensors=True)
            spec = FrameSpec.from_folder(cfg.path, cls.default_spec) if Path(cfg.path).is_dir() else cls.default_spec
            meta = read_model_meta(cfg.path) if Path(cfg.path).is_dir() else None
            if meta is not None and meta.frame_spec:
                spec = FrameSpec(**meta.frame_spec)
        else:
            from models.tokenizer import build_tokenizer

            tiny = cfg.tiny
            template = {"chat_template": cls.tiny_chat_template} if cls.tiny_chat_template else {}
            tokenizer = build_tokenizer(cls.special_tokens, tiny.corpus, tiny.vocab_size,
                                        video_markup=cls.video_markup, **template)
            spec = cls.tiny_spec(tiny)
            config = cls.tiny_config(tokenizer, tiny, spec)
            torch.manual_seed(tiny.seed)
            model = model_cls._from_config(config, attn_implementation=attn, dtype=torch_dtype(cfg.dtype))
        return cls.assemble(cfg, model, tokenizer, spec)

    @classmethod
    def assemble(cls, cfg: ModelConfig, model: Any, tokenizer: Any, spec: FrameSpec) -> HFVideoAdapter:
        """The adapter around an already built model + tokenizer (e.g. random weights of a real config in
        benchmarks/gpu_proof.py): padding side, pad token, frame size, freeze / LoRA / checkpointing."""
        if cfg.image_size:
            spec.size = cfg.image_size
        tokenizer.padding_side = "right"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        adapter = cls(cfg, model, tokenizer, spec)
        adapter._apply_training_options()
        return adapter

    def _apply_training_options(self) -> None:
        cfg = self.cfg
        bad = set(cfg.freeze) - {"vision", "projector", "llm"}
        if bad:
            raise ValueError(f"model.freeze: unknown part(s) {sorted(bad)}; choose from vision, projector, llm")
        if cfg.gradient_checkpointing:
            if hasattr(self.model, "activation_checkpointing_enable"):  # transformers >= 5.2x
                self.model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            self.model.config.use_cache = False
        if cfg.lora:
            import peft

            self.model = peft.get_peft_model(self.model, peft.LoraConfig(**cfg.lora.peft_kwargs()))
        for name, p in self.model.named_parameters():
            part = self.part_of(name)
            if any(k in name for k in self.unused_keys):
                p.requires_grad = False
            elif "lora_" in name:
                p.requires_grad = True
            elif cfg.lora and part == "llm":
                p.requires_grad = False
            else:
                p.requires_grad = part not in cfg.freeze

    def part_of(self, name: str) -> str:
        """'vision', 'projector' or 'llm' for a parameter name (peft prefixes allowed)."""
        for part, keys in (("projector", self.projector_keys), ("vision", self.vision_keys), ("llm", self.llm_keys)):
            if any(k in name for k in keys):
                return part
        return "llm"

    # ---- chat -> ids ----------------------------------------------------------------------
    def _videos(self, samples: list[Sample]) -> list[list[Image.Image]]:
        """The videos of a batch, as handed over: the data layer chose the frames (`dreamframe.clip.Clip`) and
        adapters never resample, so they must all have the same frame count (one clip rule per run)."""
        videos = [list(s.frames) for s in samples if s.frames]
        counts = sorted({len(v) for v in videos})
        if len(counts) > 1:
            ids = [s.id for s in samples if s.frames]
            raise ValueError(f"samples {ids} of one batch have {counts} frames: the data layer picks one frame count "
                             "per run (dreamframe.clip.Clip); adapters never resample")
        if self.cfg.frame_order == "content":
            return [sorted(v, key=pixel_hash) for v in videos]
        return videos

    def _conversation(self, messages: list[dict[str, str]], has_video: bool) -> list[dict[str, Any]]:
        conv, placed = [], not has_video
        for m in messages:
            if m["role"] not in ("system", "user", "assistant"):
                raise ValueError(f"message role must be system/user/assistant, got {m['role']!r}")
            text = str(m["content"]).replace("<video>", "").replace("<image>", "").lstrip("\n")
            parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
            if m["role"] == "user" and not placed:
                parts.insert(0, {"type": "video"})
                placed = True
            conv.append({"role": m["role"], "content": parts})
        return conv

    def _render(self, conv: list[dict[str, Any]], add_generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(conv, chat_template=self.chat_template, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode(self, sample: Sample, train: bool = True, answer_prefix: str = "") -> dict[str, Any]:
        """input_ids / labels (lists) of one sample with the video placeholder expanded.

        train=True: the whole chat, labels = the assistant turns' tokens (end-of-turn marker included),
        all else -100. train=False: the chat up to a generation prompt (+ `answer_prefix`), no labels.
        Raises ValueError naming the sample when the expanded length exceeds cfg.max_length.
        """
        has_video = bool(sample.frames)
        frames = list(sample.frames)
        conv = self._conversation(sample.messages, has_video)
        ids: list[int] = []
        labels: list[int] = []
        if train:
            if not any(m["role"] == "assistant" for m in conv):
                raise ValueError(f"sample {sample.id!r}: no assistant turn to train on")
            done = ""
            for i, m in enumerate(conv):
                if m["role"] != "assistant":
                    continue
                prefix = self._render(conv[:i], add_generation_prompt=True)
                full = self._render(conv[:i + 1], add_generation_prompt=False)
                if not prefix.startswith(done) or not full.startswith(prefix):
                    raise ValueError(f"chat template of family {self.family!r} is not prefix-stable; "
                                     "cannot mask labels to assistant turns")
                ctx, ans = self._ids(prefix[len(done):]), self._ids(full[len(prefix):])
                ids += ctx + ans
                labels += [IGNORE] * len(ctx) + ans
                done = full
            tail = self._ids(self._render(conv, add_generation_prompt=False)[len(done):])
            ids += tail
            labels += [IGNORE] * len(tail)
        else:
            if conv and conv[-1]["role"] == "assistant":
                conv = conv[:-1]
            ids = self._ids(self._render(conv, add_generation_prompt=True) + answer_prefix)
        n_vis = self.visual_tokens_for(frames) if has_video else 0
        ids, labels = self._expand(ids, labels if train else None, n_vis, sample.id)
        return {"input_ids": ids, "labels": labels, "num_visual_tokens": n_vis}

    def visual_tokens_for(self, frames: list[Any]) -> int:
        """Tokens these frames occupy; `frames` may hold placeholders (None)."""
        return self.num_visual_tokens(len(frames))

    def _expand(self, ids: list[int], labels: list[int] | None, n_vis: int, sid: str):
        count = ids.count(self.video_token_id)
        if n_vis and count != 1:
            raise ValueError(f"sample {sid!r}: expected one video placeholder after the chat template, found {count}")
        if not n_vis and count:
            raise ValueError(f"sample {sid!r}: video placeholder in the text but no frames given")
        if n_vis:
            pos = ids.index(self.video_token_id)
            ids = ids[:pos] + [self.video_token_id] * n_vis + ids[pos + 1:]
            if labels is not None:
                labels = labels[:pos] + [IGNORE] * n_vis + labels[pos + 1:]
        if len(ids) > self.cfg.max_length:
            vis = n_vis
            raise ValueError(f"sample {sid!r} is {len(ids)} tokens ({vis} visual) > model.max_length="
                             f"{self.cfg.max_length}; raise max_length or use fewer frames / shorter text "
                             "(samples are never truncated)")
        return ids, labels

    # ---- batches --------------------------------------------------------------------------
    def video_inputs(self, videos: list[list[Image.Image]]) -> dict[str, Any]:
        """Pixel tensors (and grids) for the non-empty videos of a batch, in order."""
        raise NotImplementedError

    def extra_inputs(self, input_ids: Any) -> dict[str, Any]:
        """Family-specific tensors derived from input_ids (Qwen2-VL's mm_token_type_ids)."""
        return {}

    def collate(self, samples: list[Sample], train: bool = True, answer_prefix: str = "") -> dict[str, Any]:
        """Right-padded with labels (train) or left-padded without (generation); see `VideoLVLMAdapter`."""
        import torch

        enc = [self.encode(s, train=train, answer_prefix=answer_prefix) for s in samples]
        width = max(len(e["input_ids"]) for e in enc)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(enc), width), pad, dtype=torch.long)
        attention = torch.zeros((len(enc), width), dtype=torch.long)
        labels = torch.full((len(enc), width), IGNORE, dtype=torch.long)
        for row, e in enumerate(enc):
            n = len(e["input_ids"])
            sl = slice(0, n) if train else slice(width - n, width)
            input_ids[row, sl] = torch.tensor(e["input_ids"])
            attention[row, sl] = 1
            if train:
                labels[row, sl] = torch.tensor(e["labels"])
        batch: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention}
        if train:
            batch["labels"] = labels
        videos = self._videos(samples)
        if videos:
            batch.update(self.video_inputs(videos))
        batch.update(self.extra_inputs(input_ids))
        return batch

    def sample_positions(self, ids: list[int], frames: list[Any]) -> Any:
        """Position ids of one sample on its own, starting at 0, for packing (models/packing.py):
        shape [len(ids)] for 1-D rope families."""
        import torch

        return torch.arange(len(ids))

    def forward(self, batch: dict[str, Any]) -> Any:
        """Model outputs; while training (a batch with labels) the loss is taken on logits of the
        supervised positions only (`logits_to_keep`): the same mean token cross-entropy as the model's
        own loss, without the [tokens x vocab] logits of every prompt and visual token.

        A training batch without video still runs the vision tower + projector on a blank clip,
        zero-weighted, at the very point where the model runs them for video: right after the token
        embedding (every family's forward embeds, then encodes the video, then runs the LLM). Under
        ZeRO-3 every rank then gathers the same parameters and reduces the same gradients in the same
        order whatever its batch holds; a vision pass at any other point (e.g. after the LLM) makes
        the ranks' collective sequences diverge and the job dies or hangs."""
        import torch

        if not self.model.training or "labels" not in batch:
            return self.model(**{k: v for k, v in batch.items() if k != PACKED_LENGTHS})
        inputs = {k: v for k, v in batch.items() if k not in ("labels", PACKED_LENGTHS)}
        target = batch["labels"][:, 1:]
        keep = (target != IGNORE).any(0).nonzero()[:, 0]
        hook = None
        if not any(k.startswith("pixel_values") for k in batch):
            hook = self.model.get_input_embeddings().register_forward_hook(
                lambda _m, _args, out: out + self.dummy_vision_zero().to(out.dtype))
        try:
            out = self.model(**inputs, use_cache=False, logits_to_keep=keep)
        finally:
            if hook is not None:
                hook.remove()
        out.loss = torch.nn.functional.cross_entropy(out.logits.float().flatten(0, 1), target[:, keep].flatten(),
                                                     ignore_index=IGNORE)
        return out

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Tensors moved to the model's device; floating ones cast to its dtype (pixels), ids kept integer."""
        import torch

        p = next(self.model.parameters())
        return {k: (v.to(p.device, p.dtype) if v.is_floating_point() and k.startswith("pixel") else v.to(p.device))
                if torch.is_tensor(v) else v for k, v in batch.items()}

    def dummy_vision_zero(self) -> Any:
        """0 x (vision tower + projector on one blank clip): a scalar zero whose graph holds the vision path."""
        blank = [Image.new("RGB", (self.spec.size, self.spec.size))] * max(1, self.spec.temporal_patch_size)
        feats = self._video_features(self.to_device(self.video_inputs([blank])))
        return feats.float().sum() * 0.0

    def _video_features(self, inputs: dict[str, Any]) -> Any:
        base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        out = base.model.get_video_features(**inputs)
        feats = out.pooler_output if hasattr(out, "pooler_output") else out
        return feats if not isinstance(feats, (list, tuple)) else __import__("torch").cat(list(feats))

    # ---- generation -----------------------------------------------------------------------
