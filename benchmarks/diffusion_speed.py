"""Seconds per textual-inversion step and per keyframe on the tiny offline pipelines (CPU).

    python benchmarks/diffusion_speed.py                      # tiny-sdxl (+ refiner), 32 px
    python benchmarks/diffusion_speed.py --model tiny-sd --size 64 --steps 20

The tiny pipelines have the real SD / SDXL architecture at toy width, so these figures check the code
path's overhead, not GPU throughput; docs/diffusion.md turns published SDXL timings into GPU-hours.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-sdxl")
    parser.add_argument("--refiner", default="tiny-sdxl-refiner", help="'' for none")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="textual-inversion optimizer steps to time")
    parser.add_argument("--frames", type=int, default=8, help="keyframes to time")
    parser.add_argument("--inference-steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (tiny kernels: 1 is fastest)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from PIL import Image

    torch.set_num_threads(args.threads)

    from data_gen.render.diffusion import DiffusionConfig, generate_images, load_pipelines
    from data_gen.style.textual_inversion import TextualInversionConfig, train_style_embedding

    t0 = time.perf_counter()
    dcfg = DiffusionConfig(model=args.model, refiner=args.refiner or None, steps=args.inference_steps,
                           batch_size=args.batch_size, negative_prompt="lowres", device="cpu")
    base, refiner = load_pipelines(dcfg)
    load_s = time.perf_counter() - t0
    refs = [Image.new("RGB", (args.size, args.size), c) for c in [(200, 40, 40), (40, 40, 200)]]
    # one warm-up step, then the timed run (the paper's accumulation of 2 passes per optimizer step)
    ti = TextualInversionConfig(lr_stages="1:1e-3", reference_size=args.size, gradient_checkpointing=False)
    train_style_embedding(base, refs, "Gothic", "<warmup>", ti, target_size=args.size, progress=False)
    ti.lr_stages = f"{args.steps}:1e-3"
    t0, c0 = time.perf_counter(), time.process_time()
    train_style_embedding(base, refs, "Gothic", "<bench>", ti, target_size=args.size, progress=False)
    ti_s, ti_cpu = (time.perf_counter() - t0) / args.steps, (time.process_time() - c0) / args.steps
    prompts = [f"generate an image in Gothic style: At the harbor, frame {i}" for i in range(args.frames)]
    generate_images(base, refiner, dcfg, prompts[:1], [0], args.size)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, args.frames, args.batch_size):
        generate_images(base, refiner, dcfg, prompts[i:i + args.batch_size], list(range(i, i + args.batch_size)), args.size)
    frame_s, frame_cpu = (time.perf_counter() - t0) / args.frames, (time.process_time() - c0) / args.frames
    print(f"model={args.model} refiner={args.refiner or None} size={args.size}px threads={torch.get_num_threads()}")
    print(f"pipeline load: {load_s:.2f} s")
    print(f"textual inversion: {ti_s:.3f} s per optimizer step, {ti_cpu:.3f} CPU-s "
          f"(batch {ti.batch_size} x accumulation {ti.grad_accumulation}, {args.steps} steps)")
    print(f"keyframes: {frame_s:.3f} s per frame, {frame_cpu:.3f} CPU-s ({args.inference_steps} steps, "
          f"batch {args.batch_size}, refiner {'on' if refiner else 'off'})")


if __name__ == "__main__":
    main()
