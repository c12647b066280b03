"""Learning check: a token trained on solid-red references draws redder images than an untrained token,
in both modes: a new token `<red>`, and the paper's re-learned keyword (`gothic`, a word the colour
teaching never used, reset to randn * 0.01 before training).

The model is `tiny-sd-colours` (tiny SD taught colour words at build time, see
data_gen/tiny_diffusion.teach_colours, which checks that every colour word draws its colour), because a
random-init UNet ignores its text entirely. Stated margin: the trained token's images are at most half
as far from the reference colour (mean absolute RGB difference) as the untrained token's. Learning rate
5e-2 for 60 steps: the paper's 1e-3 x 400 is for SDXL's embedding scale, not this toy.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from data_gen.render.diffusion import DiffusionConfig, generate_images, load_pipelines
from data_gen.style.embeddings import embedding_file_bytes, load_style_embedding, unload_style_embedding
from data_gen.style.textual_inversion import TextualInversionConfig, train_style_embedding

RED = (220, 30, 30)
MARGIN = 0.5


def _distance(images) -> float:
    return float(np.mean([np.abs(np.asarray(im, dtype=np.float32) - np.array(RED)).mean() for im in images]))


@pytest.mark.parametrize("mode,token", [("new_token", "<red>"), ("keyword", "gothic")])
def test_trained_token_moves_images_toward_reference_colour(tmp_path, mode, token):
    dcfg = DiffusionConfig(model="tiny-sd-colours", refiner=None, steps=8, guidance_scale=1.0, negative_prompt="",
                           device="cpu")
    base, _ = load_pipelines(dcfg)
    ti = TextualInversionConfig(mode=mode, lr_stages="60:5e-2", reference_size=16, templates=["a {} picture"],
                                variations=[], autocontrast=False, gradient_checkpointing=False)
    refs = [Image.new("RGB", (16, 16), RED)]
    learned, stats = train_style_embedding(base, refs, "red", token, ti, seed=0, target_size=16, progress=False)
    untrained = {k: torch.randn(v.shape[1], generator=torch.Generator().manual_seed(0))[None] * ti.init_std
                 for k, v in learned.items()}

    def draw(vectors) -> list:
        path = tmp_path / "token.safetensors"
        path.write_bytes(embedding_file_bytes(vectors, token, {"mode": mode}))
        load_style_embedding(base, path)
        try:
            return generate_images(base, None, dcfg, [f"a {token} picture"] * 4, [20, 21, 22, 23], 16)
        finally:
            unload_style_embedding(base, token)

    d_trained, d_untrained = _distance(draw(learned)), _distance(draw(untrained))
    print(f"{mode}: mean |RGB - red|: trained {d_trained:.1f}, untrained {d_untrained:.1f}, loss {stats}")
    assert d_trained <= MARGIN * d_untrained, (d_trained, d_untrained)
