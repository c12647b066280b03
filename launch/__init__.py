"""The launch room: what starts the other rooms. The main job (`launch.pipeline`, run as the README's
`python -m dreamframe.pipeline`) and Slurm submission (`launch.submit`, templates in `launch/slurm/`).
It may import every room; no room imports it (ARCHITECTURE.md)."""
