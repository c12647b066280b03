"""Shared bits of the LLaVA-style families with a fixed-size CLIP tower and a vicuna-style chat
("USER: <video>\\n... ASSISTANT: ...</s>"): LLaVA-NeXT-Video and Video-LLaVA."""

from __future__ import annotations

from typing import Any

from PIL import Image

from models.base import TinyConfig
from models.common import HFVideoAdapter
from models.preprocess import CLIP_MEAN, CLIP_STD, FrameSpec, video_to_array

VICUNA_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is string %}{% set text = message['content'] %}{% else %}{% set text = namespace(s='') %}"
    "{% for part in message['content'] %}{% if part['type'] == 'video' %}{% set text.s = text.s + '{{ video_markup }}' %}"
    "{% elif part['type'] == 'image' %}{% set text.s = text.s + '<image>\n' %}"
    "{% else %}{% set text.s = text.s + part['text'] %}{% endif %}{% endfor %}{% set text = text.s %}{% endif %}"
    "{% if message['role'] == 'system' %}{{ text }} "
    "{% elif message['role'] == 'user' %}USER: {{ text }} "
    "{% else %}ASSISTANT: {{ text }}</s>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


class ClipVideoAdapter(HFVideoAdapter):
    """Fixed square CLIP frames: resize the short side, centre crop, CLIP mean/std."""

    special_tokens = ["<pad>", "</s>", "<s>", "<video>", "<image>"]
    video_markup = "<video>\n"
    tiny_chat_template = VICUNA_TEMPLATE
    default_spec = FrameSpec(size=224, patch_size=14, shortest_edge=True, mean=CLIP_MEAN, std=CLIP_STD)
    processor_class = ""

    @classmethod
    def clip_vision(cls, tiny: TinyConfig, spec: FrameSpec) -> dict[str, Any]:
        vhidden = tiny.vision_hidden_size
        return {"model_type": "clip_vision_model", "hidden_size": vhidden, "intermediate_size": 2 * vhidden,
                "num_hidden_layers": tiny.vision_layers, "num_attention_heads": 4,
                "image_size": spec.size, "patch_size": spec.patch_size, "projection_dim": vhidden}

    @classmethod
    def llama_text(cls, tokenizer: Any, tiny: TinyConfig) -> dict[str, Any]:
        hidden = tiny.hidden_size
        return {"model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": hidden,
                "intermediate_size": 2 * hidden, "num_hidden_layers": tiny.layers,
                "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 4096,
                "tie_word_embeddings": False, "pad_token_id": tokenizer.pad_token_id,
                "bos_token_id": tokenizer.convert_tokens_to_ids("<s>"), "eos_token_id": tokenizer.eos_token_id}

    def _unused_vision(self) -> tuple[str, ...]:
        """CLIP's post_layernorm never feeds the LLM, nor do layers after the selected feature layer."""
        cfg = self.model.config
        layer = getattr(cfg, "vision_feature_layer", -1)
        n = cfg.vision_config.num_hidden_layers
        keys = [f"{tower}.{inner}post_layernorm." for tower in ("vision_tower", "video_tower")
                for inner in ("", "vision_model.")]
        if isinstance(layer, int) and layer < -1:
            keys += [f"{tower}.{inner}encoder.layers.{i}." for i in range(n + layer + 1, n)
                     for tower in ("vision_tower", "video_tower") for inner in ("", "vision_model.")]
        return tuple(keys)

    def video_inputs(self, videos: list[list[Image.Image]]) -> dict[str, Any]:
        import numpy as np
        import torch

        arr = np.stack([video_to_array(v, self.spec) for v in videos])
        return {"pixel_values_videos": torch.from_numpy(arr).to(self.model.dtype)}

    def processor_files(self) -> dict[str, dict[str, Any]]:
        common = {"do_resize": True, "size": {"shortest_edge": self.spec.size}, "do_center_crop": True,
                  "crop_size": {"height": self.spec.size, "width": self.spec.size}, "resample": 3,
                  "do_rescale": True, "rescale_factor": self.spec.rescale_factor, "do_normalize": True,
                  "image_mean": list(self.spec.mean), "image_std": list(self.spec.std), "do_convert_rgb": True,
                  "processor_class": self.processor_class}
        return {"video_preprocessor_config.json": {**common, "video_processor_type": self.processor_class.replace(
                    "Processor", "VideoProcessor")},
                "preprocessor_config.json": {**common, "image_processor_type": self.processor_class.replace(
                    "Processor", "ImageProcessor")}}
