"""NumPy frame preprocessing: what the transformers *VideoProcessor classes compute, without torchvision.

torchvision does not import beside our torch pin, and every transformers video processor refuses to
load without it, so each adapter turns PIL frames into pixel tensors here: resize (PIL bicubic),
optional centre crop, rescale to [0, 1], normalise, and for Qwen2-VL-style towers cut the video into
(temporal x spatial) patches exactly as `Qwen2VLImageProcessor` lays them out.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
HALF = (0.5, 0.5, 0.5)


@dataclass
class FrameSpec:
    """How one family turns a frame into pixels (read from / written to preprocessor JSON in a model folder)."""

    size: int = 384
    """Square side after resize (and crop, when `shortest_edge`)."""
    shortest_edge: bool = False
    """Resize the short side to `size` keeping aspect, then centre-crop size x size (CLIP style); else squash."""
    mean: tuple[float, ...] = HALF
    std: tuple[float, ...] = HALF
    rescale_factor: float = 1 / 255
    patch_size: int = 14
    temporal_patch_size: int = 1
    merge_size: int = 1
    min_pixels: int = 0
    max_pixels: int = 0
    """For dynamic-resolution towers (Qwen2-VL): keep H*W within [min_pixels, max_pixels]; 0 = fixed `size`."""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_folder(cls, folder: str | Path, default: FrameSpec) -> FrameSpec:
        """Override `default` with the sizes/mean/std found in a pretrained folder's preprocessor JSON files."""
        spec = FrameSpec(**asdict(default))
        for name in ("preprocessor_config.json", "video_preprocessor_config.json"):
            p = Path(folder) / name
            if not p.is_file():
                continue
            data = json.loads(p.read_text(encoding="utf-8"))
            if "image_mean" in data:
                spec.mean = tuple(data["image_mean"])
            if "image_std" in data:
                spec.std = tuple(data["image_std"])
            if "rescale_factor" in data:
                spec.rescale_factor = float(data["rescale_factor"])
            size = data.get("crop_size") or data.get("size") or {}
            if isinstance(size, int):
                spec.size = size
            elif "height" in size:
                spec.size = int(size["height"])
            elif "shortest_edge" in size and not spec.max_pixels:
                spec.size = int(size["shortest_edge"])
            for key in ("patch_size", "temporal_patch_size", "merge_size", "min_pixels", "max_pixels"):
                if key in data and data[key] is not None:
                    setattr(spec, key, int(data[key]))
        return spec


def _resize(img: Image.Image, width: int, height: int) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)


def frame_to_array(img: Image.Image, spec: FrameSpec) -> np.ndarray:
    """One frame as a normalised float32 (3, H, W) array at the fixed square size."""
    if spec.shortest_edge:
        w, h = img.size
        scale = spec.size / min(w, h)
        nw, nh = max(spec.size, int(round(w * scale))), max(spec.size, int(round(h * scale)))
        arr = _resize(img, nw, nh)
        top, left = (nh - spec.size) // 2, (nw - spec.size) // 2
        arr = arr[top:top + spec.size, left:left + spec.size]
    else:
        arr = _resize(img, spec.size, spec.size)
    return normalise(arr, spec)


def normalise(arr: np.ndarray, spec: FrameSpec) -> np.ndarray:
    """(H, W, 3) uint8-range floats -> (3, H, W) rescaled and normalised."""
    arr = arr * np.float32(spec.rescale_factor)
    arr = (arr - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return arr.transpose(2, 0, 1).astype(np.float32)


def video_to_array(frames: list[Image.Image], spec: FrameSpec) -> np.ndarray:
    """(T, 3, H, W) for fixed-size towers (LLaVA-OneVision, LLaVA-NeXT-Video, Video-LLaVA)."""
    return np.stack([frame_to_array(f, spec) for f in frames])


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's rule: both sides multiples of `factor`, area within [min_pixels, max_pixels], aspect kept."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"frame aspect ratio over 200: {height}x{width}")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def video_to_patches(frames: list[Image.Image], spec: FrameSpec) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Qwen2-VL layout: (grid_t*grid_h*grid_w, C*tps*ps*ps) patches and the (t, h, w) grid.

    Frames are padded to a multiple of temporal_patch_size by repeating the last one, as the
    official processor does; patches are ordered so that each merge_size x merge_size block is contiguous.
    """
    ps, tps, ms = spec.patch_size, spec.temporal_patch_size, spec.merge_size
    w0, h0 = frames[0].size
    if spec.max_pixels:
        h, w = smart_resize(h0, w0, ps * ms, spec.min_pixels, spec.max_pixels)
    else:
        h = w = spec.size
    arr = np.stack([normalise(_resize(f, w, h), spec) for f in frames])  # (T, C, H, W)
    if arr.shape[0] % tps:
        arr = np.concatenate([arr, np.repeat(arr[-1:], tps - arr.shape[0] % tps, axis=0)])
    t, c = arr.shape[0] // tps, arr.shape[1]
    gh, gw = h // ps, w // ps
    x = arr.reshape(t, tps, c, gh // ms, ms, ps, gw // ms, ms, ps)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return np.ascontiguousarray(x.reshape(t * gh * gw, c * tps * ps * ps)), (t, gh, gw)
