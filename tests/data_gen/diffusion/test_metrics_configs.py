"""Consistency metrics (LPIPS-Alex in plain torch, CLIP) and the YAML configs of this area."""

import pytest
import torch
from PIL import Image

from data_gen.config import GenerateConfig
from data_gen.metrics import MetricsConfig, convert_lpips_weights, load_lpips, measure_consistency
from dreamframe.config import from_dict, load_yaml, to_dict
from tests.conftest import REPO


def test_lpips_conversion_roundtrip_and_distances(tmp_path):
    """Published-layout .pth files (torchvision alexnet + lpips lin layers) -> one safetensors file."""
    from data_gen.metrics import LPIPSAlex

    ref = LPIPSAlex.module()
    alex = {f"features.{i}.{p}": t for i in (0, 3, 6, 8, 10) for p, t in
            (("weight", ref.features[i].weight.detach()), ("bias", ref.features[i].bias.detach()))}
    alex["classifier.1.weight"] = torch.zeros(2, 2)  # torchvision's classifier is dropped
    lins = {f"lin{i}.model.1.weight": ref.lins[i].weight.detach().abs() for i in range(5)}
    torch.save(alex, tmp_path / "alexnet.pth")
    torch.save(lins, tmp_path / "alex.pth")
    convert_lpips_weights(str(tmp_path / "alexnet.pth"), str(tmp_path / "alex.pth"), str(tmp_path / "lpips.safetensors"))
    model = load_lpips(str(tmp_path / "lpips.safetensors"))
    assert torch.equal(model.lins[2].weight, lins["lin2.model.1.weight"])
    a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.allclose(model(a, a), torch.zeros(2))
    assert (model(a, b) > 0).all() and torch.allclose(model(a, b), model(b, a))
    del lins["lin4.model.1.weight"]
    torch.save(lins, tmp_path / "bad.pth")
    with pytest.raises(KeyError, match="lin4"):
        convert_lpips_weights(str(tmp_path / "alexnet.pth"), str(tmp_path / "bad.pth"), str(tmp_path / "x.safetensors"))


def test_consistency_meter_identical_vs_varied_frames():
    from data_gen.config import StoryConfig
    from data_gen.story.procedural import write_movie

    movie = write_movie(StoryConfig(chapters=1, substories=1, frames=3), 0, 0, "m00000")
    cfg = MetricsConfig(clip_model="tiny-clip", lpips_weights="tiny-lpips", lpips_size=32, device="cpu")

    def run(frames):
        files, it = measure_consistency(cfg, movie, {}, iter(frames))
        assert list(it) == frames and "m00000.metrics.json" in files
        import json

        return json.loads(files["m00000.metrics.json"])

    same = run([Image.new("RGB", (32, 32), (200, 30, 30))] * 3)
    rng = torch.Generator().manual_seed(0)
    varied = run([Image.fromarray((torch.rand(32, 32, 3, generator=rng) * 255).byte().numpy()) for _ in range(3)])
    assert same["clip_image_image"] == pytest.approx(1.0, abs=1e-5) and same["lpips_adjacent"] == pytest.approx(0, abs=1e-6)
    assert varied["clip_image_image"] < same["clip_image_image"] and varied["lpips_adjacent"] > 0
    assert same["frames_measured"] == 3 and same["skipped"] == {}


@pytest.mark.parametrize("name", ["paper_sdxl", "fast_sdxl", "tiny_diffusion"])
def test_configs_load_through_dataclass(name):
    cfg = from_dict(GenerateConfig, load_yaml(REPO / f"configs/data_gen/{name}.yaml"))  # a stale key fails here
    assert cfg.render.backend == "diffusion" and cfg.style.backend == "textual_inversion"


def test_paper_preset_equals_dataclass_defaults():
    paper = load_yaml(REPO / "configs/data_gen/paper_sdxl.yaml")
    defaults = to_dict(GenerateConfig())
    assert paper["style"]["textual_inversion"] == defaults["style"]["textual_inversion"]
    assert paper["render"]["diffusion"] == defaults["render"]["diffusion"]
    d = paper["render"]["diffusion"]
    assert (d["steps"], d["high_noise_frac"], d["seed_offset"], paper["render"]["size"]) == (40, 0.75, 20, 1024)
    assert (paper["story"]["chapters"], paper["story"]["substories"], paper["story"]["frames"]) == (11, 11, 11)
