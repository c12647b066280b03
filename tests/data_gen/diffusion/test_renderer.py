"""Keyframe renderer: per-frame seeds make a frame independent of the batch; samplers and refiner options."""

import numpy as np
import pytest

from data_gen.render.diffusion import DiffusionConfig, generate_images, load_pipelines


@pytest.mark.parametrize("scheduler,spacing", [("default", None), ("lcm", "trailing"), ("dpmpp_2m", None)])
def test_frame_does_not_depend_on_batch_size(scheduler, spacing):
    cfg = DiffusionConfig(model="tiny-sd", refiner=None, steps=3, guidance_scale=1.5, negative_prompt="lowres",
                          scheduler=scheduler, timestep_spacing=spacing, device="cpu", dtype="float32")
    base, refiner = load_pipelines(cfg)
    assert refiner is None
    if scheduler != "default":
        assert type(base.scheduler).__name__ == {"lcm": "LCMScheduler", "dpmpp_2m": "DPMSolverMultistepScheduler"}[scheduler]
    prompts = [f"an image in gothic style: at the harbor, frame {i}" for i in range(3)]
    batched = generate_images(base, None, cfg, prompts, [20, 21, 22], 32)
    single = [generate_images(base, None, cfg, [p], [s], 32)[0] for p, s in zip(prompts, [20, 21, 22])]
    for a, b in zip(batched, single):
        assert np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)).max() <= 2  # same seed, same frame
    assert np.abs(np.asarray(batched[0], dtype=int) - np.asarray(batched[1], dtype=int)).max() > 2


def test_refiner_handover_and_option_errors():
    cfg = DiffusionConfig(model="tiny-sdxl", refiner="tiny-sdxl-refiner", steps=4, high_noise_frac=0.75,
                          negative_prompt="", device="cpu", attention_slicing=True)
    base, refiner = load_pipelines(cfg)
    assert refiner.text_encoder_2 is base.text_encoder_2 and refiner.vae is base.vae  # learned token reaches both
    assert generate_images(base, refiner, cfg, ["a picture"], [20], 32)[0].size == (32, 32)
    with pytest.raises(ValueError, match="render.diffusion.refiner needs an SDXL base"):
        load_pipelines(DiffusionConfig(model="tiny-sd", refiner="tiny-sdxl-refiner", device="cpu"))
    with pytest.raises(ValueError, match="cpu_offload needs a GPU"):
        load_pipelines(DiffusionConfig(model="tiny-sd", refiner=None, device="cpu", cpu_offload="model"))
    with pytest.raises(ValueError, match="render.diffusion.model: cannot load"):
        load_pipelines(DiffusionConfig(model="/nonexistent/sdxl", refiner=None, device="cpu"))
