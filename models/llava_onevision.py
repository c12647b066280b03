"""LLaVA-OneVision (SigLIP + Qwen2): each frame -> patch features -> projector -> 2x2 bilinear pooling;
one `<video>` placeholder becomes frames * ceil(p/2)^2 tokens + 1 newline token (p = size / patch)."""

from __future__ import annotations

import math
from typing import Any

from PIL import Image

from models.base import TinyConfig
from models.common import HFVideoAdapter
from models.preprocess import FrameSpec, video_to_array


class LlavaOnevisionAdapter(HFVideoAdapter):
    family = "llava_onevision"
    model_class = "LlavaOnevisionForConditionalGeneration"
    video_token = "<video>"
    video_markup = "<video>\n"
    # llava-hf/llava-onevision-qwen2-*-ov-hf: 384 px squashed, mean = std = 0.5, patch 14.
    default_spec = FrameSpec(size=384, patch_size=14)
    # features come from hidden_states[-1], before SigLIP's post_layernorm / pooling head
    unused_keys = ("vision_tower.post_layernorm.", "vision_tower.head.")

    @classmethod
    def tiny_config(cls, tokenizer: Any, tiny: TinyConfig, spec: FrameSpec) -> Any:
        from transformers import LlavaOnevisionConfig

        hidden = tiny.hidden_size
        vhidden = tiny.vision_hidden_size
        return LlavaOnevisionConfig(
            vision_config={"model_type": "siglip_vision_model", "hidden_size": vhidden, "intermediate_size": 2 * vhidden,
                           "num_hidden_layers": tiny.vision_layers, "num_attention_heads": 4,
                           "image_size": spec.size, "patch_size": spec.patch_size, "vision_use_head": False},
            text_config={"model_type": "qwen2", "vocab_size": len(tokenizer), "hidden_size": hidden,
                         "intermediate_size": 2 * hidden, "num_hidden_layers": tiny.layers,
                         "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
                         "tie_word_embeddings": False, "pad_token_id": tokenizer.pad_token_id,
                         "eos_token_id": tokenizer.eos_token_id},
            image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
            video_token_index=tokenizer.convert_tokens_to_ids(cls.video_token),
            vision_feature_layer=tiny.vision_feature_layer, vision_feature_select_strategy="full",
            image_grid_pinpoints=[[spec.size, spec.size]], tie_word_embeddings=False,
        )

    def num_visual_tokens(self, num_frames: int) -> int:
        side = math.ceil((self.spec.size // self.spec.patch_size) / 2)
        return num_frames * side * side + 1

    def video_inputs(self, videos: list[list[Image.Image]]) -> dict[str, Any]:
        import numpy as np
        import torch

        arr = np.stack([video_to_array(v, self.spec) for v in videos])
        return {"pixel_values_videos": torch.from_numpy(arr).to(self.model.dtype)}

    def processor_files(self) -> dict[str, dict[str, Any]]:
        common = {"do_resize": True, "size": {"height": self.spec.size, "width": self.spec.size},
                  "resample": 3, "do_rescale": True, "rescale_factor": self.spec.rescale_factor,
                  "do_normalize": True, "image_mean": list(self.spec.mean), "image_std": list(self.spec.std),
                  "do_convert_rgb": True}
        return {"video_preprocessor_config.json": {**common, "video_processor_type": "LlavaOnevisionVideoProcessor",
                                                   "processor_class": "LlavaOnevisionProcessor"},
                "preprocessor_config.json": {**common, "image_processor_type": "LlavaOnevisionImageProcessor",
                                             "processor_class": "LlavaOnevisionProcessor",
                                             "image_grid_pinpoints": [[self.spec.size, self.spec.size]]},
                "processor_config.json": {"processor_class": "LlavaOnevisionProcessor",
                                          "num_image_tokens": (self.spec.size // self.spec.patch_size) ** 2,
                                          "vision_feature_select_strategy": "full", "video_token": self.video_token}}
