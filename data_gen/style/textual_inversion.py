"""Style Immobilization (DREAMFRAME.md Stage 2): learn the style keyword's embedding by textual inversion.

One token's row of the embedding table of every text encoder of the pipeline (SDXL: CLIP-L and
OpenCLIP-bigG; SD 1.x/2.x: one) is trained with the latent-diffusion noise-prediction MSE on K style
reference images while UNet, VAE and text encoders stay frozen; after every optimizer step all other
rows are copied back from a saved original, so only that row can move. Which token (`mode`):
- `keyword` (the paper, the default): the style keyword's OWN token (e.g. "gothic"), re-initialised
  with randn * 0.01 and re-learned, as the authors' code does (Deaddawn/DreamFrame-code,
  StyleImmobilization/style_embedding.py, commit ad6c126: `learn_token = opt.style_keyword`, one token
  in each tokenizer); frame prompts keep the keyword, which now carries the learned style;
- `new_token`: a new token (e.g. `<gothic-m00003>`) added to every tokenizer and put in place of the
  keyword in frame prompts, so the keyword's own meaning stays available.
The paper preset (the dataclass defaults) follows the authors' code: AdamW (0.9, 0.999, wd 1e-2),
grad-norm clip 1.0 per text encoder, batch 1 x accumulation 2, 400 optimizer steps in stages of
(steps, lr) 4x1e-3, 8x9e-4, 13x8e-4, 20x7e-4, 35x6e-4, 60x5e-4, 100x4e-4, 160x3e-4, prompts =
5 templates x 4 variations, images autocontrasted, resized to 768 (Lanczos) plus mirrored.

The result is one small safetensors file in OUT/style/ in diffusers' format ({"clip_l", "clip_g"} for
SDXL, {token: vector} for SD; the metadata records the token and the mode). `load_style_embedding`
loads it for either mode (new_token through diffusers' `load_textual_inversion`, keyword by writing
the keyword's rows, as the authors' `set_XLembedding`) and `unload_style_embedding` undoes it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from data_gen.style.embeddings import _remove_token, keyword_token_id, text_encoders

PAPER_TEMPLATES = ["generate an image in {} style", "an image in {} style", "a picture of people walking in {} style",
                   "depicted in a {} style", "in style of {}"]
PAPER_VARIATIONS = ["painting", "acryl", "art", "picture"]
PAPER_LR_STAGES = "4:1e-3,8:9e-4,13:8e-4,20:7e-4,35:6e-4,60:5e-4,100:4e-4,160:3e-4"


@dataclass
class TextualInversionConfig:
    """Stage 2 with diffusers (style.backend = textual_inversion). Defaults are the paper's preset."""

    mode: Literal["keyword", "new_token"] = "keyword"
    """`keyword` (paper): re-learn the style keyword's own token in every text encoder (the keyword must
    be one token in each tokenizer); `new_token`: learn the new token `token` instead."""
    references: int = 10
    """K style reference images generated per movie from its style description (paper: 10)."""
    reference_dir: str | None = None
    """Use your own reference images instead: <dir>/<movie_id>/*.{jpg,png} if present, else <dir>/*."""
    reference_size: int = 768
    """Reference images are resized to this square size for training (paper: 768)."""
    save_references: bool = True
    """Keep the generated reference images as OUT/style/<movie_id>/ref_<k>.jpg."""
    token: str = "<{keyword}-{movie_id}>"
    """mode new_token: the new token's text; {keyword} (lower-cased style keyword) and {movie_id} are filled in."""
    init: Literal["randn", "keyword"] = "randn"
    """Initial vector: randn * init_std (paper), or the keyword's own embedding (mean of its tokens)."""
    init_std: float = 0.01
    """Standard deviation of the random initial vector."""
    lr_stages: str = PAPER_LR_STAGES
    """Optimizer steps and learning rate per stage, `steps:lr,...`; their sum is the number of steps (400)."""
    batch_size: int = 1
    """Images per forward pass."""
    grad_accumulation: int = 2
    """Forward/backward passes per optimizer step."""
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    """AdamW betas."""
    weight_decay: float = 1e-2
    """AdamW weight decay."""
    eps: float = 1e-8
    """AdamW epsilon."""
    grad_clip: float = 1.0
    """Gradient-norm clip, applied per text encoder."""
    templates: list[str] = field(default_factory=lambda: list(PAPER_TEMPLATES))
    """Training prompts; {} becomes '<token> <variation>'."""
    variations: list[str] = field(default_factory=lambda: list(PAPER_VARIATIONS))
    """Words appended to the token in the templates (empty list: the token alone)."""
    autocontrast: bool = True
    """Autocontrast every reference image before resizing."""
    flip: bool = True
    """Also train on the horizontally mirrored copy of every reference."""
    gradient_checkpointing: bool = True
    """UNet gradient checkpointing (saves GPU memory; the authors enabled it)."""
    identity_tokens: bool = False
    """Beyond the paper: also learn one token per character from generated portraits (same optimizer
    settings), and put it before the character's look-alike phrase in every frame prompt."""
    identity_references: int = 4
    """Portraits generated per character for its identity token."""
    identity_token: str = "<{name}-{movie_id}>"
    """Identity token text; {name} (lower-cased character name) and {movie_id} are filled in."""
    identity_templates: list[str] = field(default_factory=lambda: ["a photo of {}", "a portrait of {}",
                                                                     "a picture of {}", "{} in a scene"])
    """Training prompts for identity tokens ({} becomes the token; no variations)."""


def parse_lr_stages(text: str) -> list[tuple[int, float]]:
    """'4:1e-3,8:9e-4' -> [(4, 1e-3), (8, 9e-4)]; errors name the option."""
    stages = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            steps, lr = part.split(":")
            stages.append((int(steps), float(lr)))
        except ValueError:
            raise ValueError(f"style.textual_inversion.lr_stages: cannot read {part!r}; expected steps:lr") from None
        if stages[-1][0] <= 0 or stages[-1][1] <= 0:
            raise ValueError(f"style.textual_inversion.lr_stages: steps and lr must be positive in {part!r}")
    if not stages:
        raise ValueError("style.textual_inversion.lr_stages is empty")
    return stages


def lr_at(stages: list[tuple[int, float]], step: int) -> float:
    """Learning rate of optimizer step `step` (0-based)."""
    for steps, lr in stages:
        if step < steps:
            return lr
        step -= steps
    return stages[-1][1]


def style_token(cfg: TextualInversionConfig, keyword: str, movie_id: str) -> str:
    """The token frame prompts carry the style with: the keyword itself (mode keyword) or a new token."""
    if cfg.mode == "keyword":
        return keyword.lower()
    return cfg.token.format(keyword=keyword.lower(), movie_id=movie_id.lower())


def identity_token(cfg: TextualInversionConfig, name: str, movie_id: str) -> str:
    return cfg.identity_token.format(name=name.lower().replace(" ", "-"), movie_id=movie_id.lower())


def prepare_images(images: list, size: int, autocontrast: bool = True, flip: bool = True):
    """PIL images -> tensor [N, 3, size, size] in [-1, 1] (autocontrast, Lanczos resize, mirrored copies)."""
    import numpy as np
    import torch
    from PIL import Image, ImageOps

    out = []
    for img in images:
        img = img.convert("RGB")
        if autocontrast:
            img = ImageOps.autocontrast(img)
        img = img.resize((size, size), Image.LANCZOS)
        arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)
        out.append(arr)
        if flip:
            out.append(arr.flip(-1))
    return torch.stack(out)


def load_reference_images(reference_dir: str, movie_id: str) -> list:
    from PIL import Image

    root = Path(reference_dir)
    folder = root / movie_id if (root / movie_id).is_dir() else root
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    if not files:
        raise FileNotFoundError(f"style.textual_inversion.reference_dir: no images in {folder}")
    return [Image.open(p).convert("RGB") for p in files]


def _prepare_row(tokenizer, encoder, token: str, cfg: TextualInversionConfig, keyword: str, gen) -> int:
    """The row to learn: the keyword's own (mode keyword) or a newly added token's, initialised per cfg.init."""
    import torch

    if cfg.mode == "keyword":
        token_id = keyword_token_id(tokenizer, token)
    else:
        if tokenizer.add_tokens(token) != 1:
            raise ValueError(f"style token {token!r} is already in the tokenizer vocabulary; pick another style.textual_inversion.token")
        token_id = tokenizer.convert_tokens_to_ids(token)
        encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    table = encoder.get_input_embeddings().weight
    with torch.no_grad():
        if cfg.init == "keyword":
            ids = tokenizer(keyword, add_special_tokens=False)["input_ids"]
            table[token_id] = table[ids].float().mean(0).to(table.dtype)
        else:
            table[token_id] = (torch.randn(table.shape[1], generator=gen) * cfg.init_std).to(device=table.device, dtype=table.dtype)
    return token_id


def _encode(pipe, prompts: list[str], device):
    """Prompt embeddings (+ SDXL pooled embedding) with gradients reaching the token tables."""
    if len(text_encoders(pipe)) == 2:
        emb, _, pooled, _ = pipe.encode_prompt(prompts, device=device, do_classifier_free_guidance=False)
        return emb, pooled
    emb, _ = pipe.encode_prompt(prompts, device, 1, False)
    return emb, None


def train_style_embedding(pipe, images: list, keyword: str, token: str, cfg: TextualInversionConfig,
                          seed: int = 0, target_size: int = 1024, progress: bool = True,
                          keep_token: bool = False) -> tuple[dict, dict]:
    """Learn `token`'s row on `images` in every text encoder of `pipe`: the style keyword's own token
    (cfg.mode keyword; `token` is then the keyword) or a new token, removed again afterwards.

    Returns ({file key: [1, dim] float32 tensor}, stats). The pipeline is left exactly as it came in,
    unless `keep_token` (tests: inspect the tables after training).
    """
    import torch
    from diffusers import DDPMScheduler
    from tqdm import tqdm

    stages = parse_lr_stages(cfg.lr_stages)
    total = sum(s for s, _ in stages)
    device = pipe.unet.device
    encoders = text_encoders(pipe)
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    # DDPM, 1000 steps, scaled_linear 0.00085-0.012: the pipeline's own training schedule.
    noise_sched = DDPMScheduler.from_config(pipe.scheduler.config)
    if noise_sched.config.prediction_type not in ("epsilon", "v_prediction", "sample"):
        raise ValueError(f"textual inversion: unsupported prediction_type {noise_sched.config.prediction_type!r}")

    rows = _learnable_rows(encoders, token, cfg, keyword, gen)
    was_training = pipe.unet.training
    for module in (pipe.unet, pipe.vae, *(e for _, _, e in encoders)):
        module.requires_grad_(False)
    for t in rows.tables:
        t.requires_grad_(True)
    if cfg.gradient_checkpointing and hasattr(pipe.unet, "enable_gradient_checkpointing"):
        pipe.unet.enable_gradient_checkpointing()
        pipe.unet.train()  # checkpointing is only active in train mode; the UNet has no dropout

    prompts = [t.format(f"{token} {v}" if v else token) for t in cfg.templates for v in (cfg.variations or [""])]
    latents = _reference_latents(pipe, images, cfg, device, gen)
    add_time_ids = None
    if len(encoders) == 2:
        add_time_ids = torch.tensor([[cfg.reference_size, cfg.reference_size, 0, 0, target_size, target_size]],
                                    dtype=torch.float32, device=device)

    opt = torch.optim.AdamW(rows.tables, lr=lr_at(stages, 0), betas=tuple(cfg.betas), weight_decay=cfg.weight_decay, eps=cfg.eps)
    losses: list[float] = []
    bar = tqdm(range(total), desc=f"style {token}", unit="step", disable=not progress, leave=False)
    try:
        for step in bar:
            for g in opt.param_groups:
                g["lr"] = lr_at(stages, step)
            step_loss = _step_loss(pipe, latents, prompts, noise_sched, add_time_ids, cfg, rng, gen)
            for table in rows.tables:
                torch.nn.utils.clip_grad_norm_([table], cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            with torch.no_grad():  # every row but the style token's is restored bit for bit
                for (key, _, _), table in zip(encoders, rows.tables):
                    keep = torch.arange(table.shape[0], device=table.device) != rows.ids[key]
                    table[keep] = rows.originals[key][keep]
            losses.append(step_loss)
            bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr_at(stages, step):.1e}")
        learned = {key: table[rows.ids[key]].detach().float().cpu().clone()[None]
                   for (key, _, _), table in zip(encoders, rows.tables)}
    finally:
        _put_back(pipe, encoders, rows, cfg, token, keep_token, was_training)
    stats = {"steps": total, "loss_first": round(losses[0], 6), "loss_last": round(losses[-1], 6),
             "loss_mean_last_10": round(sum(losses[-10:]) / len(losses[-10:]), 6), "images": int(len(latents)),
             "moved": {k: round(float((learned[k][0] - rows.init[k].float().cpu()).norm()), 6) for k in learned}}
    return learned, stats


@dataclass
class _Rows:
    """What training changes in every text encoder, by file key: the learned row's id, its table, the table
    as it was (every other row is copied back after each step), the row's start value, the encoder's dtype
    and (mode keyword) the keyword's own row, put back afterwards."""

    ids: dict = field(default_factory=dict)
    tables: list = field(default_factory=list)
    originals: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    dtypes: dict = field(default_factory=dict)
    keyword_rows: dict = field(default_factory=dict)


def _learnable_rows(encoders: list, token: str, cfg: TextualInversionConfig, keyword: str, gen) -> _Rows:
    """Prepare the row to learn in each encoder (in fp32), every tokenizer checked before any table changes."""
    import torch

    if cfg.mode == "keyword":
        for _key, tok, _enc in encoders:
            keyword_token_id(tok, token)
    rows = _Rows(dtypes={key: enc.dtype for key, _, enc in encoders})
    for key, tok, enc in encoders:
        enc.to(torch.float32)  # the learned row is optimized in fp32 even when the pipeline is half precision
        if cfg.mode == "keyword":  # put back afterwards: the pipeline leaves as it came in
            rows.keyword_rows[key] = enc.get_input_embeddings().weight[keyword_token_id(tok, token)].detach().clone()
        rows.ids[key] = _prepare_row(tok, enc, token, cfg, keyword, gen)
        table = enc.get_input_embeddings().weight
        rows.originals[key] = table.detach().clone()
        rows.init[key] = rows.originals[key][rows.ids[key]].clone()
        rows.tables.append(table)
    return rows


def _reference_latents(pipe, images: list, cfg: TextualInversionConfig, device, gen):
    """The reference images in the VAE's latent space, scaled as the UNet sees them (float32)."""
    import torch

    with torch.no_grad():
        pixels = prepare_images(images, cfg.reference_size, cfg.autocontrast, cfg.flip)
        vae_dtype = pipe.vae.dtype
        # SDXL's VAE overflows in float16 (force_upcast): encode in float32, as the authors' upcast_vae()
        upcast = vae_dtype == torch.float16 and getattr(pipe.vae.config, "force_upcast", False)
        enc_dtype = torch.float32 if upcast else vae_dtype
        pipe.vae.to(enc_dtype)
        try:
            latents = [pipe.vae.encode(pixels[i:i + 4].to(device, enc_dtype)).latent_dist.sample(gen)
                       for i in range(0, len(pixels), 4)]
        finally:
            pipe.vae.to(vae_dtype)
        return torch.cat(latents).float() * pipe.vae.config.scaling_factor


def _step_loss(pipe, latents, prompts: list[str], noise_sched, add_time_ids, cfg: TextualInversionConfig,
               rng: random.Random, gen) -> float:
    """One optimizer step's noise-prediction MSE over cfg.grad_accumulation batches; the gradients stay in
    the token tables for the optimizer."""
    import torch
    import torch.nn.functional as F

    device, unet_dtype = pipe.unet.device, pipe.unet.dtype
    step_loss = 0.0
    for _ in range(cfg.grad_accumulation):
        idx = [rng.randrange(len(latents)) for _ in range(cfg.batch_size)]
        batch = latents[idx].to(device)
        noise = torch.randn(batch.shape, generator=gen).to(device)
        t = torch.tensor([rng.randrange(noise_sched.config.num_train_timesteps) for _ in idx], device=device)
        noisy = noise_sched.add_noise(batch, noise, t)
        kind = noise_sched.config.prediction_type
        target = {"epsilon": noise, "sample": batch}.get(kind) if kind != "v_prediction" else \
            noise_sched.get_velocity(batch, noise, t)
        emb, pooled = _encode(pipe, [rng.choice(prompts) for _ in idx], device)
        extra = {}
        if pooled is not None:
            extra["added_cond_kwargs"] = {"text_embeds": pooled.to(unet_dtype),
                                          "time_ids": add_time_ids.repeat(len(idx), 1).to(unet_dtype)}
        pred = pipe.unet(noisy.to(unet_dtype), t, emb.to(unet_dtype), **extra).sample
        loss = F.mse_loss(pred.float(), target.float()) / cfg.grad_accumulation
        loss.backward()
        step_loss += loss.item()
    return step_loss


def _put_back(pipe, encoders: list, rows: _Rows, cfg: TextualInversionConfig, token: str, keep_token: bool,
              was_training: bool) -> None:
    """Leave the pipeline as it came in: frozen tables, no checkpointing, the keyword's row or no new token
    (unless keep_token), each encoder in its own dtype."""
    import torch

    for t in rows.tables:
        t.requires_grad_(False)
    if cfg.gradient_checkpointing and hasattr(pipe.unet, "disable_gradient_checkpointing"):
        pipe.unet.disable_gradient_checkpointing()
    pipe.unet.train(was_training)
    if not keep_token and cfg.mode == "keyword":
        with torch.no_grad():
            for (key, _, _), table in zip(encoders, rows.tables):
                table[rows.ids[key]] = rows.keyword_rows[key]
    elif not keep_token:
        _remove_token(pipe, token)
    for key, _, enc in encoders:
        enc.to(rows.dtypes[key])
