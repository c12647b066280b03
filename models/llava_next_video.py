"""LLaVA-NeXT-Video (CLIP + Vicuna/Llama): per frame, patch features without CLS -> 2x2 average
pooling -> projector; one `<video>` becomes frames * (p/2)^2 tokens (p = size / patch; 144 at 336 px)."""

from __future__ import annotations

from typing import Any

from models.base import TinyConfig
from models.llava_family import ClipVideoAdapter
from models.preprocess import FrameSpec


class LlavaNextVideoAdapter(ClipVideoAdapter):
    family = "llava_next_video"
    model_class = "LlavaNextVideoForConditionalGeneration"
    processor_class = "LlavaNextVideoProcessor"
    # llava-hf/LLaVA-NeXT-Video-7B-hf: CLIP ViT-L/14 at 336 px
    default_spec = FrameSpec(**{**ClipVideoAdapter.default_spec.to_json(), "size": 336})

    @property
    def unused_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return self._unused_vision() + ("image_newline",)  # only images of the anyres path use it

    @classmethod
    def tiny_config(cls, tokenizer: Any, tiny: TinyConfig, spec: FrameSpec) -> Any:
        from transformers import LlavaNextVideoConfig

        return LlavaNextVideoConfig(
            vision_config=cls.clip_vision(tiny, spec), text_config=cls.llama_text(tokenizer, tiny),
            image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
            video_token_index=tokenizer.convert_tokens_to_ids(cls.video_token),
            vision_feature_layer=-1, vision_feature_select_strategy="default",
            image_grid_pinpoints=[[spec.size, spec.size]], spatial_pool_mode="average", spatial_pool_stride=2,
            tie_word_embeddings=False)

    def num_visual_tokens(self, num_frames: int) -> int:
        stride = getattr(self.model.config, "spatial_pool_stride", 2)
        side = (self.spec.size // self.spec.patch_size) // stride
        return num_frames * side * side
