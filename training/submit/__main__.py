"""Run `launch.submit` as `__main__` with this command line: `python -m training.submit ...` is
`python -m launch.submit ...`. runpy names launch by a string: no room imports launch (ARCHITECTURE.md), and
this entry point is imported by no code (dreamframe/pipeline/__main__.py says more)."""

import runpy

runpy.run_module("launch.submit", run_name="__main__", alter_sys=True)
