"""Per family: NumPy frame preprocessing (frames/s at the family's real resolution) and a tiny model's
training step / batched generation time on CPU. Prints one line per family.

    python benchmarks/models_speed.py [--families llava_onevision,qwen2_5_vl] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="llava_onevision,llava_next_video,video_llava,qwen2_5_vl")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (tiny models: 1 is fastest, and steady on a shared machine)")
    args = ap.parse_args()

    import torch

    from models.base import ModelConfig, Sample
    from models.preprocess import video_to_array, video_to_patches
    from models.registry import adapter_class, build_adapter

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)) for _ in range(8)]
    for fam in args.families.split(","):
        spec = adapter_class(fam).default_spec
        fn = video_to_patches if spec.temporal_patch_size > 1 else video_to_array
        t = time.perf_counter()
        for _ in range(args.repeats):
            fn(frames, spec)
        fps = 8 * args.repeats / (time.perf_counter() - t)
        a = build_adapter(ModelConfig(family=fam, num_frames=8, freeze=[]))
        samples = [Sample(frames, [{"role": "user", "content": "What colour is the coat?"},
                                   {"role": "assistant", "content": "green"}], str(i)) for i in range(4)]
        opt = torch.optim.AdamW([p for p in a.model.parameters() if p.requires_grad], lr=1e-4)
        a.model.train()
        for step in range(args.repeats + 1):  # step 0 is warm-up (allocator, kernels), not timed
            if step == 1:
                t = time.perf_counter()
            loss = a.forward(a.collate(samples)).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        step = (time.perf_counter() - t) / args.repeats
        a.model.eval()
        a.generate([frames] * 4, ["Where is this?"] * 4, max_new_tokens=8)  # warm-up
        t = time.perf_counter()
        a.generate([frames] * 4, ["Where is this?"] * 4, max_new_tokens=8)
        gen = time.perf_counter() - t
        print(f"{fam:18s} preprocess {fps:7.1f} frames/s at {spec.size}px | tiny train step (4 x 8 frames) "
              f"{step * 1000:7.1f} ms | generate 4 x 8 tokens {gen * 1000:7.1f} ms | "
              f"{a.num_visual_tokens(8)} visual tokens", flush=True)


if __name__ == "__main__":
    main()
