"""Video-LLaVA (LanguageBind video tower = CLIP ViT-L/14 per frame + Vicuna-7B), the paper's baseline:
every patch of every frame, CLS included, reaches the LLM: frames * ((size/patch)^2 + 1) tokens
(8 x 257 = 2056 at 224 px)."""

from __future__ import annotations

from typing import Any

from models.base import TinyConfig
from models.llava_family import ClipVideoAdapter
from models.preprocess import FrameSpec


class VideoLlavaAdapter(ClipVideoAdapter):
    family = "video_llava"
    model_class = "VideoLlavaForConditionalGeneration"
    processor_class = "VideoLlavaProcessor"
    vision_keys = ("video_tower.", "image_tower.")
    default_spec = ClipVideoAdapter.default_spec

    @property
    def unused_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        # frames always go through the video tower (an image is a video of repeated frames)
        return self._unused_vision() + ("image_tower.",)

    @classmethod
    def tiny_config(cls, tokenizer: Any, tiny: TinyConfig, spec: FrameSpec) -> Any:
        from transformers import VideoLlavaConfig

        return VideoLlavaConfig(
            vision_config=cls.clip_vision(tiny, spec), text_config=cls.llama_text(tokenizer, tiny),
            image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
            video_token_index=tokenizer.convert_tokens_to_ids(cls.video_token),
            vision_feature_layer=-1, vision_feature_select_strategy="default", tie_word_embeddings=False,
            image_seq_length=(spec.size // spec.patch_size) ** 2, video_seq_length=(spec.size // spec.patch_size) ** 2 + 1)

    def num_visual_tokens(self, num_frames: int) -> int:
        return num_frames * ((self.spec.size // self.spec.patch_size) ** 2 + 1)
