"""How long the llama-cpp-python source build takes, per CMake setting (the dev extra builds it; CI pays it
once, then pip's wheel cache serves it).

    python benchmarks/llama_cpp_build.py                       # default vs -DLLAVA_BUILD=OFF
    python benchmarks/llama_cpp_build.py --variant="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF"   # "=": it starts with -

Each variant is a fresh `pip wheel --no-cache-dir` of llama-cpp-python[server]==0.3.36 (downloaded from
the index, built, thrown away). Prints wall seconds and CPU seconds (user + sys of the build's processes):
on a shared machine the CPU seconds are the comparable figure, the wall time depends on the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

SPEC = "llama-cpp-python==0.3.36"


def build(cmake_args: str, keep: str | None = None) -> tuple[float, float, bool]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CMAKE_ARGS": cmake_args}
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-cache-dir", "--no-deps", "-q", "-w",
                               keep or tmp, SPEC], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        print(proc.stderr[-2000:], file=sys.stderr)
    return wall, cpu, proc.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", help="CMAKE_ARGS of a variant (repeatable); default: '' and "
                        "'-DLLAVA_BUILD=OFF'")
    parser.add_argument("--keep", help="keep the wheel(s) in this folder (to install and try one)")
    args = parser.parse_args()
    variants = args.variant or ["", "-DLLAVA_BUILD=OFF"]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    for cmake_args in variants:
        wall, cpu, ok = build(cmake_args, args.keep)
        print(f"CMAKE_ARGS={cmake_args!r:30} wall {wall:7.0f} s   cpu {cpu:7.0f} s   {'ok' if ok else 'FAILED'}   "
              f"(load average {os.getloadavg()[0]:.1f} at end)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
