"""Diffusers keyframe renderer (DREAMFRAME.md Stage 3), with Style Immobilization (Stage 2) in front.

Per movie: (optionally) generate K style references and learn the style token
(data_gen/style/textual_inversion.py), save it to OUT/style/<movie_id>.safetensors, load that file back,
then draw every frame from its description, the keyword carrying the learned style (paper mode) or
replaced by the learned new token. Paper preset (the dataclass defaults): SDXL base + refiner, 40 steps,
base hands over at 0.75, 1024 px (render.size), seed = 20 + frame index, the authors' shared negative prompt.
Frames of a movie go through the pipeline in batches, each with its own seeded generator, so a frame
does not depend on the batch size. Pipelines are loaded once per process and reused for every movie.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

PAPER_NEGATIVE_PROMPT = (
    "sketches, (worst quality:2), (low quality:2), (normal quality:2), ((non-symmetrical eyes)), chromatic "
    "aberration, lowres, normal quality, ((monochrome)), ((grayscale)), skin spots, acnes, skin blemishes, bad "
    "anatomy, DeepNegative, facing away, tilted head, lowres, bad hands, text, error, missing fingers, extra digit, "
    "fewer digits, cropped, worstquality, low quality, normal quality, jpegartifacts, signature, watermark, username, "
    "blurry, bad feet, cropped, poorly drawn hands, poorly drawn face, mutation, deformed, worst quality, low quality, "
    "normal quality, jpeg artifacts, signature, watermark, extra fingers, fewer digits, extra limbs, extra arms, extra "
    "legs, malformed limbs, fused fingers, too many fingers, long neck, cross-eyed, mutated hands, polar lowres, bad "
    "body, bad proportions, gross proportions, text, error, missing fingers, missing arms, missing legs, extra digit, "
    "extra arms, extra leg, extra foot, totem, totem body, double body"
)

Scheduler = Literal["default", "euler", "euler_ancestral", "ddim", "dpmpp_2m", "lcm", "tcd"]


@dataclass
class DiffusionConfig:
    """Stage 3 with diffusers (render.backend = diffusion). Defaults are the paper's preset; size is render.size."""

    model: str = "stabilityai/stable-diffusion-xl-base-1.0"
    """Base text-to-image pipeline: local folder or hub id (SDXL or SD 1.x/2.x); `tiny-sd` / `tiny-sdxl` for tests."""
    refiner: str | None = "stabilityai/stable-diffusion-xl-refiner-1.0"
    """SDXL refiner (local folder or hub id) taking over at high_noise_frac; null for base only."""
    high_noise_frac: float = 0.75
    """Fraction of the denoising done by the base before the refiner takes over (paper: 0.75)."""
    steps: int = 40
    """Inference steps (paper: 40; LCM / Turbo: 1-8)."""
    guidance_scale: float = 5.0
    """Classifier-free guidance (diffusers' SDXL default 5.0, as the authors ran it; LCM ~1-2, Turbo 0)."""
    scheduler: Scheduler = "default"
    """Sampler: the pipeline's own (`default`), or euler, euler_ancestral, ddim, dpmpp_2m, lcm, tcd."""
    timestep_spacing: str | None = None
    """Override the scheduler's timestep_spacing (e.g. `trailing` for few-step sampling); null keeps it."""
    lora: str | None = None
    """LoRA for the base (e.g. latent-consistency/lcm-lora-sdxl for few-step LCM); off while the style is learned."""
    lora_scale: float = 1.0
    """Strength the LoRA is fused with."""
    negative_prompt: str = PAPER_NEGATIVE_PROMPT
    """Negative prompt shared by every frame (and the style references)."""
    seed_offset: int = 20
    """Frame i is drawn with seed seed_offset + i (paper: 20 + frame index)."""
    batch_size: int = 4
    """Frames of a movie per pipeline call."""
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """Weights dtype: auto = float16 on CUDA, float32 on CPU."""
    variant: str | None = None
    """Weights variant to load (e.g. fp16 files on the hub); null for the default files."""
    device: str = "auto"
    """Torch device: auto = cuda if available, else mps, else cpu."""
    cpu_offload: Literal["none", "model", "sequential"] = "none"
    """Keep weights on CPU and move each model (or layer: sequential) to the GPU when used; needs an accelerator."""
    attention_slicing: bool = False
    """Compute attention in slices (less memory, slower)."""
    vae_tiling: bool = False
    """Decode large images tile by tile (less memory)."""
    num_threads: int = 0
    """torch CPU threads for this process (0: torch's default; 1 is fastest for the tiny test pipelines)."""


def resolve_device(name: str) -> str:
    import torch

    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(name: str, device: str):
    import torch

    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


def _scheduler(pipe, cfg: DiffusionConfig):
    import diffusers

    classes = {"euler": "EulerDiscreteScheduler", "euler_ancestral": "EulerAncestralDiscreteScheduler",
               "ddim": "DDIMScheduler", "dpmpp_2m": "DPMSolverMultistepScheduler", "lcm": "LCMScheduler",
               "tcd": "TCDScheduler"}
    extra = {"timestep_spacing": cfg.timestep_spacing} if cfg.timestep_spacing else {}
    if cfg.scheduler == "default":
        return type(pipe.scheduler).from_config(pipe.scheduler.config, **extra) if extra else pipe.scheduler
    return getattr(diffusers, classes[cfg.scheduler]).from_config(pipe.scheduler.config, **extra)


def _place(pipe, cfg: DiffusionConfig, device: str):
    if cfg.cpu_offload != "none":
        if device == "cpu":
            raise ValueError("render.diffusion.cpu_offload needs a GPU device; set it to none on CPU")
        (pipe.enable_model_cpu_offload if cfg.cpu_offload == "model" else pipe.enable_sequential_cpu_offload)(device=device)
    else:
        pipe.to(device)
    if cfg.attention_slicing:
        pipe.enable_attention_slicing()
    if cfg.vae_tiling:
        pipe.vae.enable_tiling()
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_pipelines(cfg: DiffusionConfig) -> tuple[Any, Any | None]:
    """(base, refiner or None) loaded from local folders or hub ids, safetensors only, no remote code."""
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image

    from data_gen.tiny_diffusion import resolve_model_id

    import torch

    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    kw: dict[str, Any] = {"dtype": dtype, "use_safetensors": True}
    if cfg.variant:
        kw["variant"] = cfg.variant
    try:
        base = AutoPipelineForText2Image.from_pretrained(resolve_model_id(cfg.model), **kw)
    except (OSError, ValueError) as err:
        raise ValueError(f"render.diffusion.model: cannot load {cfg.model!r}: {err}") from err
    if cfg.lora:
        base.load_lora_weights(cfg.lora, adapter_name="render")
        base.set_adapters(["render"], adapter_weights=[cfg.lora_scale])
    base.scheduler = _scheduler(base, cfg)
    refiner = None
    if cfg.refiner:
        if getattr(base, "text_encoder_2", None) is None:
            raise ValueError(f"render.diffusion.refiner needs an SDXL base; {cfg.model!r} is {type(base).__name__}")
        try:  # the refiner shares the base's second text encoder (with the learned token) and VAE
            refiner = AutoPipelineForImage2Image.from_pretrained(
                resolve_model_id(cfg.refiner), text_encoder_2=base.text_encoder_2, tokenizer_2=base.tokenizer_2,
                vae=base.vae, **kw)
        except (OSError, ValueError) as err:
            raise ValueError(f"render.diffusion.refiner: cannot load {cfg.refiner!r}: {err}") from err
        refiner.scheduler = _scheduler(refiner, cfg)
        refiner = _place(refiner, cfg, device)
    return _place(base, cfg, device), refiner


_PIPELINES: dict[str, tuple[Any, Any | None]] = {}


def get_pipelines(cfg: DiffusionConfig) -> tuple[Any, Any | None]:
    """Load once per process (workers keep theirs for every movie they write)."""
    key = json.dumps(asdict(cfg), sort_keys=True)
    if key not in _PIPELINES:
        _PIPELINES.clear()  # one set of weights in memory at a time
        _PIPELINES[key] = load_pipelines(cfg)
    return _PIPELINES[key]


def frame_prompt(description: str, keyword: str, token: str | None, identities: dict[str, str] | None = None) -> str:
    """The frame description with its style keyword replaced by the learned token (added if absent), and
    each character phrase preceded by that character's identity token when there is one."""
    for phrase, ident in (identities or {}).items():
        description = description.replace(phrase, f"{ident} {phrase}")
    if not token:
        return description
    pattern = re.compile(rf"\b{re.escape(keyword)}\b", re.IGNORECASE)
    if pattern.search(description):
        return pattern.sub(token, description)
    return f"in {token} style, {description}"


def generate_images(base, refiner, cfg: DiffusionConfig, prompts: list[str], seeds: list[int], size: int):
    """One batch: base (handing over to the refiner at high_noise_frac when there is one) -> PIL images."""
    import torch

    gens = [torch.Generator("cpu").manual_seed(s) for s in seeds]
    common = dict(prompt=prompts, negative_prompt=[cfg.negative_prompt] * len(prompts),
                  num_inference_steps=cfg.steps, guidance_scale=cfg.guidance_scale, generator=gens)
    if refiner is None:
        return base(height=size, width=size, **common).images
    latents = base(height=size, width=size, denoising_end=cfg.high_noise_frac, output_type="latent", **common).images
    return refiner(image=latents, denoising_start=cfg.high_noise_frac, **common).images


def render_frames(base, refiner, cfg: DiffusionConfig, movie, token: str | None, size: int,
                  identities: dict[str, str] | None = None) -> Iterator:
    """Every frame of `movie`, in order, batched; seed = seed_offset + frame index."""
    from tqdm import tqdm

    frames = movie.keyframes
    bar = tqdm(total=len(frames), desc=f"frames {movie.id}", unit="frame", leave=False)
    try:
        for start in range(0, len(frames), cfg.batch_size):
            batch = frames[start:start + cfg.batch_size]
            prompts = [frame_prompt(f.description, movie.style_keyword, token, identities) for f in batch]
            yield from generate_images(base, refiner, cfg, prompts, [cfg.seed_offset + f.index for f in batch], size)
            bar.update(len(batch))
    finally:
        bar.close()


def reference_prompts(movie, k: int) -> list[str]:
    """K prompts from the movie's style description, cycling through its locations."""
    return [f"{movie.style_description}, at the {movie.locations[i % len(movie.locations)]}" for i in range(k)]


def _jpeg(img, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def diffusion_style_and_frames(cfg, movie) -> tuple[dict[str, bytes], Iterator]:
    """Stages 2 + 3 for one movie: style files for OUT/style/ and an iterator of keyframes.

    `cfg` is the GenerateConfig. With style.backend = procedural the frames are drawn without a learned
    token (the paper's "without style immobilization" ablation).
    """
    dcfg: DiffusionConfig = cfg.render.diffusion
    base, refiner = get_pipelines(dcfg)
    size = cfg.render.size
    info: dict[str, Any] = {"keyword": movie.style_keyword, "backend": cfg.style.backend, "model": dcfg.model,
                            "refiner": dcfg.refiner}
    files: dict[str, bytes] = {}
    token = None
    identities: dict[str, str] = {}
    loaded: list[str] = []
    if cfg.style.backend == "textual_inversion":
        from data_gen.style.embeddings import embedding_file_bytes, load_style_embedding, unload_style_embedding
        from data_gen.style.textual_inversion import load_reference_images, style_token, train_style_embedding

        ti = cfg.style.textual_inversion
        if dcfg.cpu_offload != "none":
            raise ValueError("style.backend textual_inversion trains on the loaded pipeline: set render.diffusion.cpu_offload none")
        token = style_token(ti, movie.style_keyword, movie.id)
        unload_style_embedding(base, token)  # left over from a failed attempt at this movie in this process
        if ti.reference_dir:
            refs = load_reference_images(ti.reference_dir, movie.id)
        else:
            prompts = reference_prompts(movie, ti.references)
            refs = []
            for i in range(0, len(prompts), dcfg.batch_size):
                chunk = prompts[i:i + dcfg.batch_size]
                refs += generate_images(base, refiner, dcfg, chunk, list(range(i, i + len(chunk))), size)
            if ti.save_references:
                files.update({f"{movie.id}/ref_{k:02d}.jpg": _jpeg(img) for k, img in enumerate(refs)})
        seed = zlib.crc32(f"{cfg.seed}:{movie.id}".encode())  # a movie's embedding depends on (seed, movie) only
        if dcfg.lora:  # the style is learned against the base UNet, not the few-step LoRA
            base.disable_lora()
        try:
            learned, stats = train_style_embedding(base, refs, movie.style_keyword, token, ti, seed=seed, target_size=size)
        finally:
            if dcfg.lora:
                base.enable_lora()
        data = embedding_file_bytes(learned, token, {"keyword": movie.style_keyword, "movie_id": movie.id, "mode": ti.mode,
                                                     "base_model": dcfg.model, "steps": stats["steps"]})
        files[f"{movie.id}.safetensors"] = data
        info.update(token=token, file=f"style/{movie.id}.safetensors", references=len(refs),
                    reference_source=ti.reference_dir or "generated", training=stats)
        with tempfile.TemporaryDirectory() as tmp:  # load through the same path users take
            path = Path(tmp) / f"{movie.id}.safetensors"
            path.write_bytes(data)
            load_style_embedding(base, path)
        loaded = [token]
        try:
            if ti.identity_tokens:
                identities, id_info = _learn_identities(base, refiner, cfg, movie, token, seed, files, loaded)
                info["identities"] = id_info
        except BaseException:
            for t in loaded:
                unload_style_embedding(base, t)
            raise
    files[f"{movie.id}.json"] = (json.dumps(info, indent=1) + "\n").encode()
    movie.source = {**movie.source, "render": f"diffusion:{dcfg.model}" + (f"+{dcfg.refiner}" if dcfg.refiner else ""),
                    "style": cfg.style.backend}
    return files, _frames_then_unload(base, refiner, dcfg, movie, token, size, identities, loaded)


def _learn_identities(base, refiner, cfg, movie, style_tok: str, seed: int, files: dict, loaded: list):
    """One token per character, learned on portraits drawn in the movie's (already learned) style."""
    from dataclasses import replace

    from data_gen.style.embeddings import embedding_file_bytes, load_style_embedding, unload_style_embedding
    from data_gen.style.textual_inversion import identity_token, train_style_embedding

    dcfg, ti, size = cfg.render.diffusion, cfg.style.textual_inversion, cfg.render.size
    id_cfg = replace(ti, templates=list(ti.identity_templates), variations=[], mode="new_token")
    identities, info = {}, {}
    for n, char in enumerate(movie.characters):
        tok = identity_token(ti, char.name, movie.id)
        unload_style_embedding(base, tok)  # left over from a failed attempt at this movie in this process
        prompts = [f"in {style_tok} style, portrait of {char.phrase}"] * ti.identity_references
        refs = []
        for i in range(0, len(prompts), dcfg.batch_size):
            chunk = prompts[i:i + dcfg.batch_size]
            refs += generate_images(base, refiner, dcfg, chunk, [100 * (n + 1) + i + k for k in range(len(chunk))], size)
        learned, stats = train_style_embedding(base, refs, char.gender, tok, id_cfg, seed=seed + n + 1, target_size=size)
        name = f"{movie.id}.{char.name.lower().replace(' ', '-')}.safetensors"
        data = embedding_file_bytes(learned, tok, {"character": char.name, "movie_id": movie.id, "base_model": dcfg.model})
        files[name] = data
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            load_style_embedding(base, path)
        loaded.append(tok)
        identities[char.phrase] = tok
        info[char.name] = {"token": tok, "file": f"style/{name}", "references": len(refs), "training": stats}
    return identities, info


def _frames_then_unload(base, refiner, dcfg, movie, token, size, identities, loaded) -> Iterator:
    try:
        yield from render_frames(base, refiner, dcfg, movie, token, size, identities)
    finally:  # the next movie starts from a clean pipeline even if this one failed
        from data_gen.style.embeddings import unload_style_embedding

        for t in loaded:
            unload_style_embedding(base, t)
