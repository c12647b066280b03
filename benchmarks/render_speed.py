"""Keyframes per second per core of the procedural renderer (target: >= 200 at 336 px).

    python benchmarks/render_speed.py [--size 336] [--movies 8]

Runs in one process (= one core): story writing excluded, drawing + JPEG encoding included.
"""

from __future__ import annotations

import argparse
import io
import time

from data_gen.config import StoryConfig
from data_gen.render.procedural import ProceduralRenderer
from data_gen.story.procedural import write_movie
from data_gen.style.procedural import style_from_keyword


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=336)
    parser.add_argument("--movies", type=int, default=8)
    args = parser.parse_args()
    movies = [write_movie(StoryConfig(), seed=0, index=i, movie_id=f"b{i}") for i in range(args.movies)]
    renderer = ProceduralRenderer(args.size)
    frames = 0
    draw_s = encode_s = 0.0
    for movie in movies:
        style = style_from_keyword(movie.style_keyword)
        it = renderer.render(movie, style)
        while True:
            t0 = time.perf_counter()
            img = next(it, None)
            t1 = time.perf_counter()
            if img is None:
                break
            img.save(io.BytesIO(), format="JPEG", quality=90)
            t2 = time.perf_counter()
            draw_s += t1 - t0
            encode_s += t2 - t1
            frames += 1
    total = draw_s + encode_s
    print(f"size {args.size}px, {frames} keyframes from {args.movies} movies, 1 core")
    print(f"draw   {1000 * draw_s / frames:.2f} ms/frame")
    print(f"encode {1000 * encode_s / frames:.2f} ms/frame (JPEG q90)")
    print(f"keyframes/s per core: {frames / total:.0f} (target >= 200)")


if __name__ == "__main__":
    main()
