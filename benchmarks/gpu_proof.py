"""The heavy paths at real size on one GPU, in one call of a few minutes, with random-init weights of the
real shapes (nothing from a hub):

    bash benchmarks/gpu_proof.sh                  # one H100 / H200: installs carried wheels, then this script
    python benchmarks/gpu_proof.py --tiny         # the same measurements on CPU in seconds (the suite runs it)

0. the bf16 GEMM peak of this device (the MFU denominator);
a. a 7B-shaped video LVLM (configs/train/dreamframe_7b_qwen25vl.yaml: Qwen2.5-VL-7B from
   models/hub_configs, 16 frames of 448 px, batch 4, frozen vision tower, gradient checkpointing) trained
   with the project's loss path (`adapter.forward`) and AdamW at two LLM depths (--layers, of 28); tokens/s,
   MFU and peak memory next to `training.plan`'s prediction for the same model (one GPU, ZeRO 0, bf16
   weights). Model FLOPs per step (`step_flops`): 6 per trainable and 2 per frozen parameter for every
   token that passes it - LLM layers every token, the vision tower every patch, the projector every visual
   token, the LM head only the answer tokens (the loss computes no other logits), the embedding lookup
   none; attention's seq^2 term and checkpointing's recompute are left out (MFU slightly understated).
   Seconds per step and memory are linear in depth, so the two depths extrapolate to the full 28 layers;
b. SDXL base + refiner (data_gen/hub_configs) at configs/data_gen/paper_sdxl.yaml's settings (1024 px,
   40 steps, hand-over 0.75, batch 4) through the renderer's `generate_images`: seconds per keyframe;
   and configs/data_gen/fast_sdxl.yaml's (LCM, 6 steps, batch 8; its LoRA adds no time once fused);
c. Style Immobilization (`train_style_embedding`, the paper's settings: 768 px references, batch 1 x
   accumulation 2, keyword mode, UNet gradient checkpointing): seconds per optimizer step;
d. batched eval generation with the LVLM of (a): batch 8 vs one by one, and whether the answers match.
Prints one table and writes <out>/gpu_proof.json. Imports only torch, transformers, diffusers, numpy,
PIL and the project's model / diffusion / plan modules (no jsonargparse, pydantic, deepspeed, lightning).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GIB = 1024 ** 3
TINY_SHAPES = {  # SDXL's layout at toy width, for --tiny
    "unet": {"block_out_channels": [32, 64], "layers_per_block": 1, "sample_size": 8, "cross_attention_dim": 64,
             "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
             "attention_head_dim": [2, 4], "norm_num_groups": 8, "addition_embed_type": "text_time",
             "addition_time_embed_dim": 8, "projection_class_embeddings_input_dim": 80, "use_linear_projection": True},
    "vae": {"block_out_channels": [8, 16], "down_block_types": ["DownEncoderBlock2D"] * 2,
            "up_block_types": ["UpDecoderBlock2D"] * 2, "latent_channels": 4, "norm_num_groups": 4, "sample_size": 32},
    "text_encoder": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 77, "projection_dim": 32, "vocab_size": 1000},
    "text_encoder_2": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "max_position_embeddings": 77, "projection_dim": 32, "vocab_size": 1000},
}
TINY_SHAPES["refiner_unet"] = {**TINY_SHAPES["unet"], "cross_attention_dim": 32,  # text_encoder_2 only,
                               "projection_class_embeddings_input_dim": 72}  # pooled 32 + 5 time ids x 8
TINY_LVLM = {"image_size": 32, "patch_size": 8, "hidden_size": 64, "vision_hidden_size": 32, "vocab_size": 600}


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def clock(device: str, fn, repeat: int = 1) -> tuple[Any, float]:
    """(last result, seconds per call) after the device has finished."""
    sync(device)
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    sync(device)
    return out, (time.perf_counter() - start) / repeat


def gemm_peak(device: str, n: int, dtype: Any) -> float:
    """TFLOP/s of a square matmul chain: what `MFU` is measured against."""
    import torch

    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    clock(device, lambda: a @ b, 3)
    _, seconds = clock(device, lambda: a @ b, 20)
    return 2 * n ** 3 / seconds / 1e12


# ---- (a) + (d): the video LVLM ------------------------------------------------------------------------
def lvlm(train_yaml: Path, layers: int | None, device: str, tiny: bool):
    """The adapter of the training config's family: tiny random-init (--tiny), or the bundled 7B config
    with `layers` LLM layers, random bf16 weights on the device, a small offline tokenizer whose special
    ids replace the real ones (the vocabulary keeps its real size)."""
    import torch
    import transformers
    import yaml

    from dreamframe.config import from_dict
    from models.base import ModelConfig, TinyConfig
    from models.common import resolve_attn
    from models.registry import adapter_class, build_adapter
    from models.tokenizer import build_tokenizer
    from training.plan import model_config

    model_cfg = from_dict(ModelConfig, yaml.safe_load(train_yaml.read_text(encoding="utf-8"))["model"])
    if tiny:
        model_cfg.path, model_cfg.tiny, model_cfg.dtype, model_cfg.num_frames = None, TinyConfig(**TINY_LVLM), "float32", 4
        return build_adapter(model_cfg), model_cfg
    cls = adapter_class(model_cfg.family)
    template = {"chat_template": cls.tiny_chat_template} if cls.tiny_chat_template else {}
    tok = build_tokenizer(cls.special_tokens, [], 4096, video_markup=cls.video_markup, **template)
    config = model_config(model_cfg)
    ids = cls.tiny_config(tok, TinyConfig(), cls.tiny_spec(TinyConfig())).to_dict()
    for key, value in ids.items():
        if key.endswith(("_token_id", "_token_index")) and hasattr(config, key):
            setattr(config, key, value)
    text = config.get_text_config()
    if layers:
        text.num_hidden_layers = layers
        if getattr(text, "layer_types", None):
            text.layer_types = text.layer_types[:layers]
    with torch.device(device):
        model = getattr(transformers, cls.model_class)._from_config(
            config, attn_implementation=resolve_attn(model_cfg.attn_implementation), dtype=torch.bfloat16)
    return cls.assemble(model_cfg, model, tok, copy.deepcopy(cls.default_spec)), model_cfg


def lvlm_samples(adapter: Any, n: int, num_frames: int) -> list:
    from PIL import Image

    from models.base import Sample

    size = adapter.spec.size
    colours = ["red", "green", "blue", "yellow", "white", "purple", "orange", "grey"]
    return [Sample([Image.new("RGB", (size, size), colours[(i + k) % 8]) for k in range(num_frames)],
                   [{"role": "user", "content": f"What colour is the coat of the person in clip {i}?"},
                    {"role": "assistant", "content": f"The coat is {colours[i % 8]}."}], f"s{i}") for i in range(n)]


def step_flops(adapter: Any, batch: dict[str, Any]) -> float:
    """Model FLOPs of one training step on `batch` (see the module docstring)."""
    model = adapter.model
    tokens = float(batch["attention_mask"].sum())
    answers = float((batch["labels"][:, 1:] != -100).sum())
    visual = float((batch["input_ids"] == adapter.video_token_id).sum())
    pixels = batch["pixel_values_videos"]
    patch = adapter.spec.patch_size
    patches = float(pixels.shape[0]) if pixels.dim() == 2 else float(pixels.shape[:2].numel()) * (
        pixels.shape[-1] // patch) * (pixels.shape[-2] // patch)
    skip = {id(p) for p in model.get_input_embeddings().parameters()}
    head = {id(p) for p in model.get_output_embeddings().parameters()}
    total = 0.0
    for name, p in model.named_parameters():
        if id(p) in skip:
            continue
        part = adapter.part_of(name)
        passes = answers if id(p) in head else patches if part == "vision" else visual if part == "projector" else tokens
        total += (6.0 if p.requires_grad else 2.0) * p.numel() * passes
    return total


def train_speed(adapter: Any, model_cfg: Any, batch_size: int, steps: int, device: str) -> dict[str, float]:
    """Seconds per optimizer step, tokens/s, model FLOPs and peak memory of `steps` steps (after 2 warm-up)."""
    import torch

    batch = adapter.to_device(adapter.collate(lvlm_samples(adapter, batch_size, model_cfg.num_frames)))
    model = adapter.model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, fused=device == "cuda")

    def step():
        loss = adapter.forward(batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    clock(device, step, 2)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    loss, seconds = clock(device, step, steps)
    tokens = int(batch["attention_mask"].sum())
    answer = int((batch["labels"][:, 1:] != -100).sum()) // batch_size
    out = {"seconds_per_step": seconds, "tokens_per_step": tokens, "tokens_per_s": tokens / seconds,
           "flops_per_step": step_flops(adapter, batch), "loss": float(loss), "seq_len": batch["input_ids"].shape[1],
           "answer_tokens": answer, "peak_gib": torch.cuda.max_memory_allocated() / GIB if device == "cuda" else None}
    out["plan_gib"] = plan_gib(model_cfg, model.config, batch_size, out["seq_len"], answer)
    return out


def plan_gib(model_cfg: Any, config: Any, batch: int, seq: int, answer_tokens: int) -> float:
    """`training.plan`'s prediction for this model on one GPU: ZeRO 0 with bf16 weights, grads and AdamW
    states (what plain torch AdamW keeps for bf16 parameters), plus its activation estimate."""
    from training.plan import activations, count, model_states

    c = count(model_cfg, config)
    return (model_states(c, 0, 1, False, False, weight_bytes=2)
            + activations(c, batch, seq, model_cfg.gradient_checkpointing, answer_tokens)) / GIB


def generation(adapter: Any, model_cfg: Any, n: int, new_tokens: int, device: str) -> dict[str, Any]:
    """Batch n vs one by one: seconds and the share of identical answers (greedy)."""
    samples = lvlm_samples(adapter, n, model_cfg.num_frames)
    frames, prompts = [s.frames for s in samples], [s.messages[0]["content"] for s in samples]
    vocab = adapter.model.config.get_text_config().vocab_size
    extra = {"suppress_tokens": list(range(len(adapter.tokenizer), vocab))} if vocab > len(adapter.tokenizer) else {}
    run = lambda lo, hi: adapter.generate(frames[lo:hi], prompts[lo:hi], new_tokens, min_new_tokens=new_tokens, **extra)
    clock(device, lambda: run(0, 1))
    batched, t_batch = clock(device, lambda: run(0, n))
    single, t_single = clock(device, lambda: [a for i in range(n) for a in run(i, i + 1)])
    return {"batch": n, "seconds_batched": t_batch, "seconds_one_by_one": t_single, "speedup": t_single / t_batch,
            "same_answers": sum(a == b for a, b in zip(batched, single)), "new_tokens": new_tokens}


# ---- (b) + (c): SDXL ----------------------------------------------------------------------------------
def sdxl(shapes: dict, refiner_shapes: dict, dtype: Any, device: str, tokenizer_dir: Path):
    """SDXL base + refiner pipelines from component configs, random weights built on the device."""
    import torch
    from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLImg2ImgPipeline,
                           StableDiffusionXLPipeline, UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from data_gen.tiny_diffusion import write_clip_bpe

    vocab, merges = write_clip_bpe(tokenizer_dir)
    tok = CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="<|endoftext|>")
    sched = EulerDiscreteScheduler(**shapes.get("scheduler", {}))
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # weights are created in their final dtype, on the device
    try:
        with torch.device(device):
            vae = AutoencoderKL(**shapes["vae"])
            enc_1 = CLIPTextModel(CLIPTextConfig(**shapes["text_encoder"]))
            enc_2 = CLIPTextModelWithProjection(CLIPTextConfig(**shapes["text_encoder_2"]))
            base = StableDiffusionXLPipeline(vae=vae, text_encoder=enc_1, text_encoder_2=enc_2, tokenizer=tok,
                                             tokenizer_2=tok, unet=UNet2DConditionModel(**shapes["unet"]),
                                             scheduler=sched, add_watermarker=False)
            refiner = StableDiffusionXLImg2ImgPipeline(vae=vae, text_encoder=None, text_encoder_2=enc_2, tokenizer=None,
                                                       tokenizer_2=tok, unet=UNet2DConditionModel(**refiner_shapes["unet"]),
                                                       scheduler=sched, requires_aesthetics_score=True,
                                                       add_watermarker=False)
    finally:
        torch.set_default_dtype(default)
    for pipe in (base, refiner):
        pipe.set_progress_bar_config(disable=True)
    return base, refiner


def keyframe_speed(base: Any, refiner: Any, preset: dict, size: int, device: str, tiny: bool) -> dict[str, float]:
    """Seconds per keyframe at a data_gen preset's diffusion settings (one warm-up batch first); --tiny
    runs at most 4 steps in batches of 2."""
    from data_gen.render.diffusion import DiffusionConfig, _scheduler, generate_images

    cfg = DiffusionConfig(**preset["render"]["diffusion"])
    if tiny:
        cfg.steps, cfg.batch_size = min(cfg.steps, 4), 2
    base.scheduler = _scheduler(base, cfg)
    ref = refiner if cfg.refiner else None
    n = cfg.batch_size
    prompts = [f"generate an image in gothic style: At the harbor, a man is walking, happy {i}" for i in range(n)]
    clock(device, lambda: generate_images(base, ref, cfg, prompts, list(range(n)), size))
    _, seconds = clock(device, lambda: generate_images(base, ref, cfg, prompts, list(range(n)), size))
    return {"seconds_per_keyframe": seconds / n, "batch": n, "steps": cfg.steps, "refiner": bool(ref), "size": size,
            "scheduler": cfg.scheduler}


def style_speed(base: Any, preset: dict, ref_size: int, steps: int, device: str) -> dict[str, float]:
    """Seconds per Style Immobilization optimizer step: (time of 2 + steps) - (time of 2), setup excluded."""
    from PIL import Image

    from data_gen.style.textual_inversion import TextualInversionConfig, train_style_embedding

    ti = preset["style"]["textual_inversion"]
    refs = [Image.new("RGB", (ref_size, ref_size), c) for c in ("red", "navy", "olive", "teal")]

    def train(n: int):
        cfg = TextualInversionConfig(**{**ti, "lr_stages": f"{n}:1e-3", "reference_size": ref_size})
        return train_style_embedding(base, refs, "Gothic", "gothic", cfg, progress=False)

    train(1)
    _, short = clock(device, lambda: train(2))
    _, long = clock(device, lambda: train(2 + steps))
    return {"seconds_per_step": (long - short) / steps, "reference_size": ref_size, "mode": ti["mode"],
            "micro_batches_per_step": ti["grad_accumulation"]}


# ---- the run ------------------------------------------------------------------------------------------
def run(a: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    import torch
    import yaml

    device = "cpu" if a.tiny else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --tiny on CPU")
    if a.tiny:
        torch.set_num_threads(1)
    torch.manual_seed(0)
    out: dict[str, Any] = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu (--tiny)",
                           "torch": torch.__version__}
    t0 = time.perf_counter()
    out["gemm_peak_tflops"] = gemm_peak(device, 256 if a.tiny else 8192, torch.float32 if a.tiny else torch.bfloat16)
    print(f"GEMM peak: {out['gemm_peak_tflops']:.3g} TFLOP/s", flush=True)

    train_yaml = ROOT / "configs/train/dreamframe_7b_qwen25vl.yaml"
    out["lvlm"] = {}
    for layers in ([None] if a.tiny else a.layers):
        adapter, model_cfg = lvlm(train_yaml, layers, device, a.tiny)
        row = train_speed(adapter, model_cfg, a.batch_size, a.steps, device)
        row["mfu"] = row["flops_per_step"] / row["seconds_per_step"] / (out["gemm_peak_tflops"] * 1e12)
        row["layers"] = adapter.model.config.get_text_config().num_hidden_layers
        out["lvlm"][str(row["layers"])] = row
        print(f"LVLM {row['layers']} layers: {row['tokens_per_s']:.0f} tokens/s, MFU {100 * row['mfu']:.1f}%", flush=True)
        if layers == (a.layers[-1] if not a.tiny else None):
            out["generation"] = generation(adapter, model_cfg, 8, a.new_tokens, device)
        del adapter
        if device == "cuda":
            torch.cuda.empty_cache()
    if not a.tiny:
        out["lvlm_full_depth"] = extrapolate(out["lvlm"], 28)

    paper = yaml.safe_load((ROOT / "configs/data_gen/paper_sdxl.yaml").read_text(encoding="utf-8"))
    fast = yaml.safe_load((ROOT / "configs/data_gen/fast_sdxl.yaml").read_text(encoding="utf-8"))
    if a.tiny:
        shapes, refiner_shapes, size, ref_size = TINY_SHAPES, {"unet": TINY_SHAPES["refiner_unet"]}, 32, 32
    else:
        hub = ROOT / "data_gen/hub_configs"
        shapes = json.loads((hub / "stabilityai__stable-diffusion-xl-base-1.0.json").read_text(encoding="utf-8"))
        refiner_shapes = json.loads((hub / "stabilityai__stable-diffusion-xl-refiner-1.0.json").read_text(encoding="utf-8"))
        size, ref_size = paper["render"]["size"], paper["style"]["textual_inversion"]["reference_size"]
    with tempfile.TemporaryDirectory() as tmp:
        base, refiner = sdxl(shapes, refiner_shapes, torch.float32 if a.tiny else torch.float16, device, Path(tmp))
    out["sdxl_paper"] = keyframe_speed(base, refiner, paper, size, device, a.tiny)
    out["sdxl_fast"] = keyframe_speed(base, refiner, fast, size, device, a.tiny)
    print(f"SDXL: {out['sdxl_paper']['seconds_per_keyframe']:.2f} s/keyframe (paper), "
          f"{out['sdxl_fast']['seconds_per_keyframe']:.2f} (fast)", flush=True)
    out["style_immobilization"] = style_speed(base, paper, ref_size, 1 if a.tiny else a.ti_steps, device)
    out["seconds"] = time.perf_counter() - t0
    return out


def extrapolate(rows: dict[str, dict], layers: int) -> dict[str, float]:
    """Seconds per step and peak memory are a + b x layers: fit the two measured depths, read off `layers`."""
    (l1, r1), (l2, r2) = sorted(((int(k), v) for k, v in rows.items()))[:2]
    line = lambda y1, y2: y1 + (y2 - y1) / (l2 - l1) * (layers - l1)
    seconds = line(r1["seconds_per_step"], r2["seconds_per_step"])
    return {"layers": layers, "seconds_per_step": seconds, "tokens_per_s": r2["tokens_per_step"] / seconds,
            "flops_per_step": line(r1["flops_per_step"], r2["flops_per_step"]),
            "peak_gib": line(r1["peak_gib"], r2["peak_gib"]), "plan_gib": line(r1["plan_gib"], r2["plan_gib"])}


def table(res: dict[str, Any]) -> str:
    lines = [f"device: {res['device']}, torch {res['torch']}; GEMM peak {res['gemm_peak_tflops']:.3g} TFLOP/s "
             f"({'fp32, --tiny' if res['device'].startswith('cpu') else 'bf16'}); "
             f"total {res['seconds']:.0f} s", f"{'measurement':44s} {'value':>14s}  notes"]
    add = lambda name, value, note="": lines.append(f"{name:44s} {value:>14s}  {note}")
    for layers, r in res["lvlm"].items():
        peak = "no GPU memory" if r["peak_gib"] is None else f"peak {r['peak_gib']:.1f} GiB"
        peak += f" vs plan {r['plan_gib']:.3g} GiB"
        add(f"LVLM train, {layers} LLM layers", f"{r['tokens_per_s']:.0f} tok/s",
            f"MFU {100 * r['mfu']:.1f}%, {r['seconds_per_step']:.3f} s/step, {r['tokens_per_step']} tokens/step; {peak}")
    if "lvlm_full_depth" in res:
        f = res["lvlm_full_depth"]
        mfu = f["flops_per_step"] / f["seconds_per_step"] / (res["gemm_peak_tflops"] * 1e12)
        add("LVLM train, 28 layers (extrapolated)", f"{f['tokens_per_s']:.0f} tok/s",
            f"MFU {100 * mfu:.1f}%; one-GPU memory {f['peak_gib']:.0f} GiB vs plan {f['plan_gib']:.0f} GiB")
    g = res["generation"]
    add(f"eval generation, batch {g['batch']} vs 1", f"{g['speedup']:.2f}x",
        f"{g['seconds_batched']:.2f} s vs {g['seconds_one_by_one']:.2f} s; same answers {g['same_answers']}/{g['batch']}")
    for key, name in (("sdxl_paper", "SDXL keyframe, paper preset"), ("sdxl_fast", "SDXL keyframe, fast preset")):
        r = res[key]
        add(name, f"{r['seconds_per_keyframe']:.2f} s",
            f"{r['size']} px, {r['steps']} steps, {'base + refiner' if r['refiner'] else 'base only'}, batch {r['batch']}")
    s = res["style_immobilization"]
    add("Style Immobilization optimizer step", f"{s['seconds_per_step']:.2f} s",
        f"{s['reference_size']} px references, {s['micro_batches_per_step']} micro-batches, mode {s['mode']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="tiny shapes on CPU (seconds): the same code, for the tests")
    p.add_argument("--out", default="runs/gpu_proof", help="folder for gpu_proof.json")
    p.add_argument("--layers", type=lambda s: [int(x) for x in s.split(",")], default=[4, 8],
                   help="two LLM depths of the 7B model to measure (the full model has 28)")
    p.add_argument("--batch-size", type=int, default=4, help="clips per training step (paper: 4 per GPU)")
    p.add_argument("--steps", type=int, default=5, help="timed training steps per depth")
    p.add_argument("--ti-steps", type=int, default=6, help="timed Style Immobilization steps")
    p.add_argument("--new-tokens", type=int, default=16, help="tokens generated per answer")
    a = p.parse_args(argv)
    if a.tiny:
        a.batch_size, a.steps, a.new_tokens = 2, 2, 4
    res = run(a)
    print(table(res))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_proof.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out / 'gpu_proof.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
