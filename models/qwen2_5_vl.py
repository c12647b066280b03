"""Qwen2.5-VL: dynamic-resolution ViT over (2 frames x 14 x 14) patches, 2x2 patch merger; a video is
`<|vision_start|><|video_pad|><|vision_end|>` with video_pad repeated (T/2) * (H/28) * (W/28) times.
transformers 5 needs `mm_token_type_ids` (0 text, 1 image, 2 video) in forward and generate for
its 3-D rotary positions."""

from __future__ import annotations

from typing import Any

from PIL import Image

from models.base import TinyConfig
from models.common import HFVideoAdapter
from models.preprocess import CLIP_MEAN, CLIP_STD, FrameSpec, smart_resize, video_to_patches


class Qwen25VLAdapter(HFVideoAdapter):
    family = "qwen2_5_vl"
    model_class = "Qwen2_5_VLForConditionalGeneration"
    video_token = "<|video_pad|>"
    special_tokens = ["<|endoftext|>", "<|im_end|>", "<|im_start|>", "<|video_pad|>", "<|image_pad|>",
                      "<|vision_start|>", "<|vision_end|>"]
    video_markup = "<|vision_start|><|video_pad|><|vision_end|>"
    # Qwen/Qwen2.5-VL-7B-Instruct video processor: patch 14, merge 2, temporal 2, CLIP statistics;
    # frames resized to 448 x 448 (a fixed budget per frame; the official default lets it float up to
    # 768 * 28 * 28 pixels a frame, set min/max_pixels to reproduce that).
    default_spec = FrameSpec(size=448, patch_size=14, temporal_patch_size=2, merge_size=2, mean=CLIP_MEAN,
                             std=CLIP_STD)
    vision_keys = ("visual.",)
    projector_keys = ("visual.merger.",)

    @classmethod
    def tiny_spec(cls, tiny: TinyConfig) -> FrameSpec:
        spec = super().tiny_spec(tiny)
        spec.size = tiny.image_size
        spec.patch_size = tiny.patch_size
        return spec

    @classmethod
    def tiny_config(cls, tokenizer: Any, tiny: TinyConfig, spec: FrameSpec) -> Any:
        from transformers import Qwen2_5_VLConfig

        hidden = tiny.hidden_size
        vhidden = tiny.vision_hidden_size
        heads = 4
        half = hidden // heads // 2
        section = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]
        ids = tokenizer.convert_tokens_to_ids
        return Qwen2_5_VLConfig(
            vision_config={"depth": tiny.vision_layers, "hidden_size": vhidden,
                           "intermediate_size": 2 * vhidden, "num_heads": 4, "patch_size": spec.patch_size,
                           "spatial_merge_size": spec.merge_size, "temporal_patch_size": spec.temporal_patch_size,
                           "window_size": spec.patch_size * spec.merge_size * 2, "out_hidden_size": hidden,
                           "fullatt_block_indexes": [tiny.vision_layers - 1]},
            text_config={"vocab_size": len(tokenizer), "hidden_size": hidden, "intermediate_size": 2 * hidden,
                         "num_hidden_layers": tiny.layers, "num_attention_heads": heads,
                         "num_key_value_heads": 2, "max_position_embeddings": 4096, "tie_word_embeddings": False,
                         "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section},
                         "pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id,
                         "bos_token_id": None},
            image_token_id=ids("<|image_pad|>"), video_token_id=ids(cls.video_token),
            vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
            tie_word_embeddings=False)

    def _grid(self, num_frames: int, height: int | None = None, width: int | None = None) -> tuple[int, int, int]:
        s = self.spec
        if s.max_pixels and height and width:
            h, w = smart_resize(height, width, s.patch_size * s.merge_size, s.min_pixels, s.max_pixels)
        else:
            h = w = s.size
        t = -(-num_frames // s.temporal_patch_size)
        return t, h // s.patch_size, w // s.patch_size

    def num_visual_tokens(self, num_frames: int) -> int:
        """Tokens at the fixed `spec.size`; with min/max_pixels set the count depends on the frame shape."""
        t, gh, gw = self._grid(num_frames)
        return t * gh * gw // (self.spec.merge_size ** 2)

    def visual_tokens_for(self, frames: list[Any]) -> int:
        """With min/max_pixels set, the token count follows the first frame's shape."""
        if self.spec.max_pixels and frames and isinstance(frames[0], Image.Image):
            t, gh, gw = self._grid(len(frames), frames[0].height, frames[0].width)
            return t * gh * gw // (self.spec.merge_size ** 2)
        return self.num_visual_tokens(len(frames))

    def video_inputs(self, videos: list[list[Image.Image]]) -> dict[str, Any]:
        import numpy as np
        import torch

        # the options of one question arrive as one video repeated (the same frame objects): preprocess it once
        done: dict[tuple[int, ...], tuple[Any, Any]] = {}
        for v in videos:
            if (key := tuple(map(id, v))) not in done:
                done[key] = video_to_patches(v, self.spec)
        patches, grids = zip(*(done[tuple(map(id, v))] for v in videos))
        return {"pixel_values_videos": torch.from_numpy(np.concatenate(patches)).to(self.model.dtype),
                "video_grid_thw": torch.tensor(grids, dtype=torch.long),
                "second_per_grid_ts": torch.ones(len(grids))}

    def extra_inputs(self, input_ids: Any) -> dict[str, Any]:
        import torch

        types = torch.zeros_like(input_ids, dtype=torch.int32)
        types[input_ids == self.tokenizer.convert_tokens_to_ids("<|image_pad|>")] = 1
        types[input_ids == self.video_token_id] = 2
        return {"mm_token_type_ids": types}

    def sample_positions(self, ids: list[int], frames: list[Any]) -> Any:
        """[4, len(ids)]: 1-D text positions over the 3-D rope positions of this sample on its own
        (the model's `get_rope_index`), the layout Qwen2.5-VL's text model reads packed sequences in."""
        import torch

        text = torch.arange(len(ids))
        if not frames:
            return text.expand(4, -1)
        size = (frames[0].height, frames[0].width) if isinstance(frames[0], Image.Image) else ()
        input_ids = torch.tensor([ids])
        base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        rope, _ = base.model.get_rope_index(input_ids, self.extra_inputs(input_ids)["mm_token_type_ids"],
                                            video_grid_thw=torch.tensor([self._grid(len(frames), *size)]),
                                            second_per_grid_ts=torch.ones(1))
        return torch.cat([text[None], rope[:, 0]])

    def _video_features(self, inputs: dict[str, Any]) -> Any:
        import torch

        base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        out = base.model.get_video_features(pixel_values_videos=inputs["pixel_values_videos"],
                                            video_grid_thw=inputs["video_grid_thw"])
        feats = out.pooler_output if hasattr(out, "pooler_output") else out
        return torch.cat(list(feats)) if isinstance(feats, (list, tuple)) else feats

    def processor_files(self) -> dict[str, dict[str, Any]]:
        s = self.spec
        pixels = s.max_pixels or s.size * s.size
        common = {"do_resize": True, "resample": 3, "do_rescale": True, "rescale_factor": s.rescale_factor,
                  "do_normalize": True, "image_mean": list(s.mean), "image_std": list(s.std), "do_convert_rgb": True,
                  "patch_size": s.patch_size, "temporal_patch_size": s.temporal_patch_size,
                  "merge_size": s.merge_size, "min_pixels": s.min_pixels or pixels, "max_pixels": pixels,
                  "size": {"shortest_edge": s.min_pixels or pixels, "longest_edge": pixels},
                  "processor_class": "Qwen2_5_VLProcessor"}
        return {"preprocessor_config.json": {**common, "image_processor_type": "Qwen2VLImageProcessor"},
                "video_preprocessor_config.json": {**common, "video_processor_type": "Qwen2VLVideoProcessor"}}
