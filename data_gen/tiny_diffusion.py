"""Tiny random-init Stable Diffusion pipelines built offline, so the diffusion path runs without a hub.

No text-to-image weights ship in any PyPI package, so tests, benchmarks and smoke runs use pipelines
with the real SD 1.x / SDXL architecture at toy width, saved with `save_pretrained` (safetensors) and
loaded back through the same `from_pretrained` code that loads real weights. The CLIP tokenizer's
vocab.json + merges.txt are written here from a small corpus with a few hundred BPE merges.

    from data_gen.tiny_diffusion import resolve_model_id
    path = resolve_model_id("tiny-sdxl")      # builds once into the cache, returns the folder

Model ids: `tiny-sd` (SD 1.x layout), `tiny-sd-colours` (tiny-sd taught colour words in about a
minute, checked to draw each colour, for the textual-inversion learning check), `tiny-sdxl` (both text encoders), `tiny-sdxl-refiner`
(img2img refiner sharing tiny-sdxl's second text encoder and VAE), and for the consistency metrics
`tiny-clip` (CLIPModel + tokenizer + image processor) and `tiny-lpips` (random LPIPS-AlexNet).
Any other id is returned unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

TINY_IDS = ("tiny-sd", "tiny-sd-colours", "tiny-sdxl", "tiny-sdxl-refiner", "tiny-clip", "tiny-lpips")

_CORPUS = (
    "generate an image in style an image in style a picture of people walking in style depicted in a "
    "style in style of painting acryl art picture gothic romantic dramatic whimsical noir pastel vintage "
    "cyberpunk watercolor minimalist surreal epic dreamy retro sketch impressionist at the old library "
    "harbor train station forest kitchen rooftop beach market castle hall garden classroom hospital cafe "
    "museum bridge desert office bedroom theater chapel laboratory park farm lighthouse a man woman who "
    "looks like in red blue green yellow black white purple orange pink brown grey is standing sitting "
    "looking talking holding squatting walking hugging happy sad angry surprised calm scared soft light "
    "deep shadows muted colours bold outlines grainy texture warm glow cold palette high contrast"
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2 / CLIP byte -> printable unicode map (the base alphabet of the BPE vocab)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def write_clip_bpe(folder: str | Path, num_merges: int = 1000) -> tuple[Path, Path]:
    """Write a CLIP-format vocab.json + merges.txt learned from a small corpus (CLIPTokenizer loads them).
    The default merges until no pair is left, so every corpus word (e.g. each style keyword, which
    Style Immobilization's keyword mode re-learns as one token) is a single token."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    alphabet = list(_bytes_to_unicode().values())
    vocab_list = alphabet + [c + "</w>" for c in alphabet]
    words = Counter(_CORPUS.split())
    splits = {w: tuple(w[:-1]) + (w[-1] + "</w>",) for w in words}
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pairs: Counter = Counter()
        for w, toks in splits.items():
            for a, b in zip(toks, toks[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        (a, b), _count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append((a, b))
        for w, toks in splits.items():
            out, i = [], 0
            while i < len(toks):
                if i + 1 < len(toks) and toks[i] == a and toks[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(toks[i])
                    i += 1
            splits[w] = tuple(out)
    vocab_list += ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(vocab_list))}
    vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
    vocab_path.write_text(json.dumps(vocab), encoding="utf-8")
    merges_path.write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n", encoding="utf-8")
    return vocab_path, merges_path


def _tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    vocab, merges = write_clip_bpe(folder)
    return CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="<|endoftext|>")


def _text_encoder(vocab_size: int, hidden: int, with_projection: bool, seed: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    cfg = CLIPTextConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=77,
                         projection_dim=hidden, hidden_act="gelu", bos_token_id=vocab_size - 2,
                         eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1)
    return (CLIPTextModelWithProjection if with_projection else CLIPTextModel)(cfg).eval()


def _vae(seed: int):
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    # three blocks: latents are 1/4 of the image side (real SD VAEs: 1/8)
    return AutoencoderKL(block_out_channels=(8, 16, 16), in_channels=3, out_channels=3, latent_channels=4,
                         down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                         layers_per_block=1, norm_num_groups=1, sample_size=32)  # 1 group: colour survives the norm


def _scheduler():
    from diffusers import EulerDiscreteScheduler

    # SDXL's own scheduler config (the training noise schedule of DREAMFRAME.md Stage 2).
    return EulerDiscreteScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                                  beta_schedule="scaled_linear", prediction_type="epsilon",
                                  timestep_spacing="leading", steps_offset=1)


def _unet(cross_dim: int, seed: int, sdxl: bool, refiner: bool = False):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    kw = dict(block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
              down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
              cross_attention_dim=cross_dim, norm_num_groups=8, attention_head_dim=(2, 4))
    if sdxl:  # time ids: 6 (base) or 5 (refiner: aesthetic score) values, 8 dims each, + pooled text (32)
        kw.update(addition_embed_type="text_time", addition_time_embed_dim=8,
                  projection_class_embeddings_input_dim=8 * (5 if refiner else 6) + 32, use_linear_projection=True)
    return UNet2DConditionModel(**kw)


def build_tiny_clip(out: Path, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    tok = _tokenizer(out.parent / f".{out.name}-bpe")
    n = len(tok)
    torch.manual_seed(seed)
    cfg = CLIPConfig(text_config=dict(vocab_size=n, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=2, max_position_embeddings=77, bos_token_id=n - 2,
                                      eos_token_id=n - 1, pad_token_id=n - 1),
                     vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=2, image_size=32, patch_size=8),
                     projection_dim=32)
    CLIPModel(cfg).save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(out)
    shutil.rmtree(out.parent / f".{out.name}-bpe", ignore_errors=True)
    return out


def build_tiny_lpips(out: Path, seed: int = 0) -> Path:
    import torch
    from safetensors.torch import save_file

    from data_gen.lpips import LPIPS_FILE, LPIPSAlex

    torch.manual_seed(seed)
    model = LPIPSAlex.module()
    with torch.no_grad():
        for lin in model.lins:  # published LPIPS weights are non-negative, so distances are >= 0
            lin.weight.abs_()
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / LPIPS_FILE))
    return out


COLOURS = {"red": (220, 30, 30), "green": (30, 170, 60), "blue": (40, 60, 220), "yellow": (230, 210, 40),
           "black": (20, 20, 20), "white": (235, 235, 235), "purple": (140, 50, 170), "orange": (240, 140, 30)}


def teach_colours(pipe, size: int = 16, vae_steps: int = 400, unet_steps: int = 600, seed: int = 0) -> dict:
    """Train a tiny SD pipeline (80 CPU-seconds) so that colour words draw solid images of that colour.

    A random-init UNet ignores its text and a random VAE does not reconstruct, so on such a pipeline no
    learned embedding can change what is drawn. This gives the tiny model a vocabulary (colour words)
    that a new token can be learned into, as textual inversion assumes of a real model. Both phases
    decay their learning rate on a cosine: with 150 + 150 constant-rate steps (the first recipe) the VAE
    merged green with black and every colour word drew the same dark green, so the textual-inversion
    learning check had nothing to learn into; `colour_errors` checks the result. (Shorter recipes that
    pass that check can still be poor hosts: with 400 UNet steps at noise levels biased towards pure noise
    a token learned into the model drew red at 72.6 vs 139.2 untrained, against 8.1 vs 130.7 here.)
    """
    import torch
    import torch.nn.functional as F

    from diffusers import DDPMScheduler

    g = torch.Generator().manual_seed(seed)
    names = list(COLOURS)
    table = torch.tensor([COLOURS[n] for n in names], dtype=torch.float32) / 127.5 - 1

    x = table[:, :, None, None].expand(len(names), 3, size, size).contiguous()  # the whole palette each step
    vae, unet = pipe.vae, pipe.unet
    vae.train()
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, vae_steps)
    for _ in range(vae_steps):
        post = vae.encode(x).latent_dist  # deterministic autoencoder: decode the mean, shrink the variance
        loss = F.mse_loss(vae.decode(post.mean).sample, x) + 0.01 * post.var.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
    vae_loss = float(loss.detach())
    vae.eval().requires_grad_(False)
    with torch.no_grad():
        lat = vae.encode(x).latent_dist.mean
        scale = float(1.0 / lat.std())
        vae.register_to_config(scaling_factor=scale)
        emb = pipe.encode_prompt([f"a {n} picture" for n in names], "cpu", 1, False)[0]
    lat = lat * scale
    # x0 ("sample") prediction: text -> colour is a plain regression, learned in a few hundred steps
    pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, prediction_type="sample")
    sched = DDPMScheduler.from_config(pipe.scheduler.config)
    unet.train()
    opt = torch.optim.Adam(unet.parameters(), lr=3e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, unet_steps)
    idx = torch.arange(len(names)).repeat(2)  # every colour twice per step
    for _ in range(unet_steps):
        noise = torch.randn(lat[idx].shape, generator=g)
        t = torch.randint(0, sched.config.num_train_timesteps, (len(idx),), generator=g)
        pred = unet(sched.add_noise(lat[idx], noise, t), t, emb[idx]).sample
        loss = F.mse_loss(pred, lat[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
    unet.eval().requires_grad_(False)
    return {"vae_loss": vae_loss, "unet_loss": float(loss.detach())}


def colour_errors(pipe, size: int = 16, steps: int = 8) -> dict[str, float]:
    """Mean |RGB - colour| (0-255) of 4 images drawn from "a <colour> picture", per colour word, with the
    sampler settings of the textual-inversion learning check."""
    import numpy as np
    import torch

    pipe.set_progress_bar_config(disable=True)
    out = {}
    for name, rgb in COLOURS.items():
        images = pipe([f"a {name} picture"] * 4, num_inference_steps=steps, height=size, width=size,
                      guidance_scale=1.0, output_type="np", generator=torch.Generator().manual_seed(20)).images
        out[name] = float(np.abs(images * 255 - np.array(rgb)).mean())
    return out


def build_tiny_pipeline(kind: str, out: str | Path, seed: int = 0) -> Path:
    """Build one tiny pipeline / metric model (random init, fixed seed) and save it to `out`."""
    from diffusers import (StableDiffusionPipeline, StableDiffusionXLImg2ImgPipeline,
                           StableDiffusionXLPipeline)

    out = Path(out)
    if kind == "tiny-clip":
        return build_tiny_clip(out, seed)
    if kind == "tiny-lpips":
        return build_tiny_lpips(out, seed)
    tok_dir = out.parent / f".{out.name}-bpe"
    tok = _tokenizer(tok_dir)
    n = len(tok)
    if kind in ("tiny-sd", "tiny-sd-colours"):
        pipe = StableDiffusionPipeline(vae=_vae(seed), text_encoder=_text_encoder(n, 32, False, seed + 1),
                                       tokenizer=tok, unet=_unet(32, seed + 2, sdxl=False), scheduler=_scheduler(),
                                       safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    elif kind == "tiny-sdxl":
        pipe = StableDiffusionXLPipeline(vae=_vae(seed), text_encoder=_text_encoder(n, 32, False, seed + 1),
                                         text_encoder_2=_text_encoder(n, 32, True, seed + 3), tokenizer=tok,
                                         tokenizer_2=tok, unet=_unet(64, seed + 2, sdxl=True), scheduler=_scheduler(),
                                         add_watermarker=False)
    elif kind == "tiny-sdxl-refiner":  # same second text encoder and VAE as tiny-sdxl (same seeds)
        pipe = StableDiffusionXLImg2ImgPipeline(vae=_vae(seed), text_encoder=None,
                                                text_encoder_2=_text_encoder(n, 32, True, seed + 3), tokenizer=None,
                                                tokenizer_2=tok, unet=_unet(32, seed + 4, sdxl=True, refiner=True),
                                                scheduler=_scheduler(), requires_aesthetics_score=True,
                                                add_watermarker=False)
    else:
        raise ValueError(f"unknown tiny pipeline {kind!r}; choose one of {TINY_IDS}")
    if kind == "tiny-sd-colours":
        teach_colours(pipe, seed=seed)
        errors = colour_errors(pipe)
        if max(errors.values()) > 40:  # a model that does not know its colours makes the learning check meaningless
            raise RuntimeError(f"tiny-sd-colours did not learn its colour words (mean |RGB error| per colour "
                               f"{ {k: round(v) for k, v in errors.items()} }); data_gen/tiny_diffusion.teach_colours")
    pipe.save_pretrained(out, safe_serialization=True)
    shutil.rmtree(tok_dir, ignore_errors=True)
    return out


def cache_dir() -> Path:
    """Where tiny pipelines are built: $DREAMFRAME_CACHE/tiny_diffusion/<recipe> (default ~/.cache/dreamframe).

    <recipe> is a hash of this file, so any change to how a tiny model is built (architecture, vocabulary,
    the colour teaching) builds fresh ones instead of silently reusing models of an older recipe."""
    root = os.environ.get("DREAMFRAME_CACHE") or Path.home() / ".cache" / "dreamframe"
    recipe = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return Path(root) / "tiny_diffusion" / recipe


def resolve_model_id(model_id: str) -> str:
    """A tiny id -> its built local folder (built once, atomically); anything else unchanged."""
    if model_id not in TINY_IDS:
        return model_id
    final = cache_dir() / model_id
    if (final / ".complete").exists():
        return str(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{model_id}-"))
    try:
        build_tiny_pipeline(model_id, tmp / model_id)
        (tmp / model_id / ".complete").touch()
        try:
            (tmp / model_id).rename(final)
        except OSError:  # another process won the race; its copy is identical
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(final)
