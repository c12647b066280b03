"""Our NumPy frame path against transformers' own PIL-backend image processors (they need no torchvision)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from models.preprocess import CLIP_MEAN, CLIP_STD, FrameSpec, smart_resize, video_to_array, video_to_patches


def noise(h, w, seed):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


def test_qwen2_vl_patches_match_official_processor():
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    img = noise(100, 150, 0)
    proc = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=28 * 28 * 64)
    ref = proc(images=[img], return_tensors="np")
    spec = FrameSpec(patch_size=14, temporal_patch_size=2, merge_size=2, mean=CLIP_MEAN, std=CLIP_STD,
                     min_pixels=56 * 56, max_pixels=28 * 28 * 64)
    mine, grid = video_to_patches([img], spec)  # one frame = an image: repeated to fill the temporal patch
    assert list(grid) == ref["image_grid_thw"][0].tolist()
    np.testing.assert_allclose(mine, ref["pixel_values"], atol=1e-5)
    # a 4-frame video: two temporal patches, each frame's pixels where the layout says
    frames = [noise(100, 150, s) for s in range(4)]
    vid, vgrid = video_to_patches(frames, spec)
    assert vgrid == (2, grid[1], grid[2]) and vid.shape == (2 * grid[1] * grid[2], 3 * 2 * 14 * 14)
    second = video_to_patches(frames[2:3], spec)[0].reshape(-1, 3, 2, 14, 14)[:, :, 0]
    np.testing.assert_allclose(vid[grid[1] * grid[2]:].reshape(-1, 3, 2, 14, 14)[:, :, 0], second, atol=1e-6)


@pytest.mark.parametrize("h,w", [(100, 150), (224, 224), (300, 200)])
def test_clip_crop_path_matches_official_processor(h, w):
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    img = noise(h, w, 1)
    ref = CLIPImageProcessorPil(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})(
        images=[img], return_tensors="np")["pixel_values"]
    mine = video_to_array([img], FrameSpec(size=224, shortest_edge=True, mean=CLIP_MEAN, std=CLIP_STD))
    assert mine.shape == ref.shape == (1, 3, 224, 224)
    np.testing.assert_allclose(mine, ref, atol=1e-5)


def test_squash_path_matches_official_processor():
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    img = noise(90, 160, 2)
    ref = CLIPImageProcessorPil(size={"height": 384, "width": 384}, do_center_crop=False, image_mean=[0.5] * 3,
                                image_std=[0.5] * 3)(images=[img], return_tensors="np")["pixel_values"]
    mine = video_to_array([img], FrameSpec(size=384))  # LLaVA-OneVision: squash to 384, mean = std = 0.5
    np.testing.assert_allclose(mine, ref, atol=1e-5)


def test_smart_resize_rules():
    h, w = smart_resize(1080, 1920, 28, 56 * 56, 28 * 28 * 768)
    assert h % 28 == 0 and w % 28 == 0 and h * w <= 28 * 28 * 768 and abs(w / h - 16 / 9) < 0.1
    assert smart_resize(10, 10, 28, 56 * 56, 28 * 28 * 768) == (56, 56)
    with pytest.raises(ValueError, match="aspect"):
        smart_resize(1, 500, 28, 56 * 56, 28 * 28 * 768)
