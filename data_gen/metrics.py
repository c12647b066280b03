"""Consistency metrics of a movie's keyframes (the paper's ablation table), for any renderer.

- clip_image_image: mean CLIP cosine similarity over all pairs of frames (the paper's "CLIP-Score"
  between frames; higher = more consistent);
- clip_text_image: mean CLIP cosine similarity between each frame and its description;
- lpips_adjacent: mean LPIPS (AlexNet) distance between consecutive frames (lower = more consistent).

Models load from a local folder/file or a hub id when configured; otherwise (or when loading fails) the
metric is skipped and the reason recorded. Frames stream through `measure_consistency` while they are
written, so a 1,331-frame movie never has to sit in memory; the per-movie result goes to
OUT/style/<movie_id>.metrics.json and the generate CLI gathers them into manifest.json["consistency"].

LPIPS weights: one safetensors file with torchvision AlexNet `features.*` and LPIPS `lins.*` tensors;
`python -m data_gen.metrics --alexnet alexnet.pth --lpips alex.pth --out lpips_alex.safetensors`
converts the two published files (torchvision's alexnet-owt-7be5be79.pth, lpips' weights/v0.1/alex.pth).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_gen.lpips import LPIPS_FILE, LPIPSAlex, convert_lpips_weights

METRIC_FIELDS = ("clip_image_image", "clip_text_image", "lpips_adjacent")


@dataclass
class MetricsConfig:
    """Per-movie consistency metrics written to the manifest (skipped, with the reason, when not configured)."""

    clip_model: str | None = None
    """CLIP model (local folder or hub id, transformers format) for the CLIP metrics; `tiny-clip` for tests."""
    lpips_weights: str | None = None
    """LPIPS-AlexNet weights: a local .safetensors file, or a hub repo id holding lpips_alex.safetensors."""
    lpips_size: int = 256
    """Frames are resized to this square size before LPIPS."""
    stride: int = 1
    """Measure every stride-th frame (1: all)."""
    device: str = "auto"
    """Torch device for the metric models."""


def _torch():
    import torch

    return torch


def load_lpips(source: str, device: str = "cpu"):
    """LPIPS-Alex from a safetensors file or a hub repo holding lpips_alex.safetensors."""
    from safetensors.torch import load_file

    from data_gen.tiny_diffusion import resolve_model_id

    path = Path(resolve_model_id(source))
    if path.is_dir():
        path = path / LPIPS_FILE
    if not path.exists():
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(source, LPIPS_FILE))
    model = LPIPSAlex.module()
    model.load_state_dict(load_file(str(path)), strict=True)
    return model.eval().to(device)


class ClipScorer:
    """CLIP image and text embeddings (transformers CLIPModel, PIL image preprocessing)."""

    def __init__(self, source: str, device: str = "cpu"):
        from transformers import AutoTokenizer, CLIPImageProcessorPil, CLIPModel

        from data_gen.tiny_diffusion import resolve_model_id

        path = resolve_model_id(source)
        self.model = CLIPModel.from_pretrained(path, use_safetensors=True).eval().to(device)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.processor = CLIPImageProcessorPil.from_pretrained(path)
        self.device = device

    def images(self, images: Sequence) -> Any:
        torch = _torch()
        pixels = self.processor(images=list(images), return_tensors="pt")["pixel_values"].to(self.device)
        with torch.no_grad():
            emb = self.model.get_image_features(pixel_values=pixels)
        emb = getattr(emb, "pooler_output", emb)
        return torch.nn.functional.normalize(emb.float(), dim=-1)

    def texts(self, texts: Sequence[str]) -> Any:
        torch = _torch()
        tok = self.tokenizer(list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt").to(self.device)
        with torch.no_grad():
            emb = self.model.get_text_features(**tok)
        emb = getattr(emb, "pooler_output", emb)
        return torch.nn.functional.normalize(emb.float(), dim=-1)


_MODELS: dict[tuple, Any] = {}


def _cached(kind: str, source: str, device: str):
    """Load a metric model once per process; a failure is cached too, as the reason string."""
    key = (kind, source, device)
    if key not in _MODELS:
        try:
            _MODELS[key] = ClipScorer(source, device) if kind == "clip" else load_lpips(source, device)
        except Exception as err:  # missing weights, no network, bad file: skip the metric, keep the reason
            _MODELS[key] = f"cannot load {kind} model {source!r}: {type(err).__name__}: {str(err).splitlines()[0][:300]}"
    return _MODELS[key]


class ConsistencyMeter:
    """Accumulates the metrics frame by frame; `result()` gives the per-movie record."""

    def __init__(self, cfg: MetricsConfig):
        from data_gen.render.diffusion import resolve_device

        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self.skipped: dict[str, str] = {}
        self.clip = self.lpips = None
        if cfg.clip_model:
            model = _cached("clip", cfg.clip_model, self.device)
            if isinstance(model, str):
                self.skipped["clip"] = model
            else:
                self.clip = model
        else:
            self.skipped["clip"] = "metrics.clip_model not set"
        if cfg.lpips_weights:
            model = _cached("lpips", cfg.lpips_weights, self.device)
            if isinstance(model, str):
                self.skipped["lpips"] = model
            else:
                self.lpips = model
        else:
            self.skipped["lpips"] = "metrics.lpips_weights not set"
        self.image_embs: list = []
        self.text_sims: list[float] = []
        self.lpips_values: list[float] = []
        self.prev = None
        self.count = 0

    def _tensor(self, img):
        import numpy as np

        from PIL import Image

        torch = _torch()
        img = img.convert("RGB").resize((self.cfg.lpips_size, self.cfg.lpips_size), Image.BICUBIC)
        arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        return arr.to(self.device)

    def update(self, img, text: str) -> None:
        torch = _torch()
        if self.clip is not None:
            emb = self.clip.images([img])
            self.image_embs.append(emb[0].cpu())
            self.text_sims.append(float((emb @ self.clip.texts([text]).T)[0, 0]))
        if self.lpips is not None:
            cur = self._tensor(img)
            if self.prev is not None:
                with torch.no_grad():
                    self.lpips_values.append(float(self.lpips(self.prev, cur)[0]))
            self.prev = cur
        self.count += 1

    def result(self) -> dict[str, Any]:
        torch = _torch()
        out: dict[str, Any] = {k: None for k in METRIC_FIELDS}
        if self.clip is not None and len(self.image_embs) >= 2:
            e = torch.stack(self.image_embs)
            sims = e @ e.T
            n = len(e)
            out["clip_image_image"] = round(float((sims.sum() - sims.diagonal().sum()) / (n * (n - 1))), 6)
        if self.text_sims:
            out["clip_text_image"] = round(sum(self.text_sims) / len(self.text_sims), 6)
        if self.lpips_values:
            out["lpips_adjacent"] = round(sum(self.lpips_values) / len(self.lpips_values), 6)
        out.update(frames_measured=self.count, stride=self.cfg.stride, clip_model=self.cfg.clip_model,
                   lpips_weights=self.cfg.lpips_weights, skipped=self.skipped)
        return out


def metrics_file_name(movie_id: str) -> str:
    return f"{movie_id}.metrics.json"


def measure_consistency(cfg: MetricsConfig, movie, files: dict[str, bytes],
                        frames: Iterable) -> tuple[dict[str, bytes], Iterator]:
    """Pass the frames through while measuring them; when the last frame has gone by, the record is
    added to `files` (DatasetFolder.write_movie writes style files after the frames, before the movie)."""
    meter = ConsistencyMeter(cfg)
    texts = [f.description for f in movie.frames]

    def run() -> Iterator:
        for i, img in enumerate(frames):
            if i % max(1, cfg.stride) == 0:
                meter.update(img, texts[i] if i < len(texts) else "")
            yield img
        files[metrics_file_name(movie.id)] = (json.dumps(meter.result(), indent=1) + "\n").encode()

    return files, run()


def gather_consistency(cfg: MetricsConfig, style_dir: str | Path, movie_ids: Iterable[str]) -> dict[str, Any]:
    """Manifest block: per-movie metrics, their means over movies, and why any metric was skipped."""
    per_movie: dict[str, Any] = {}
    skipped: dict[str, Any] = {}
    if not cfg.clip_model:
        skipped["clip"] = "metrics.clip_model not set"
    if not cfg.lpips_weights:
        skipped["lpips"] = "metrics.lpips_weights not set"
    if len(skipped) == 2:
        return {"mean": {k: None for k in METRIC_FIELDS}, "per_movie": {}, "skipped": skipped}
    for mid in movie_ids:
        path = Path(style_dir) / metrics_file_name(mid)
        if not path.exists():
            skipped.setdefault("missing", []).append(mid)
            continue
        rec = json.loads(path.read_text(encoding="utf-8"))
        per_movie[mid] = {k: rec.get(k) for k in METRIC_FIELDS}
        for name, reason in rec.get("skipped", {}).items():
            skipped.setdefault(name, reason)
    means = {}
    for k in METRIC_FIELDS:
        vals = [m[k] for m in per_movie.values() if m[k] is not None]
        means[k] = round(sum(vals) / len(vals), 6) if vals else None
    return {"mean": means, "per_movie": per_movie, "skipped": skipped}


def main(argv: Sequence[str] | None = None) -> int:
    """Convert published LPIPS-Alex weights into the one safetensors file metrics.lpips_weights expects."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m data_gen.metrics", description=main.__doc__, allow_abbrev=False)
    parser.add_argument("--alexnet", required=True, help="torchvision alexnet .pth (features.* tensors)")
    parser.add_argument("--lpips", required=True, help="lpips weights/v0.1/alex.pth (lin0..lin4)")
    parser.add_argument("--out", required=True, help="output .safetensors")
    args = parser.parse_args(argv)
    convert_lpips_weights(args.alexnet, args.lpips, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
