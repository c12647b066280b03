"""Benchmark harness on lm-eval. Importing `eval` registers the lm-eval model `dreamframe` when lm-eval is
loaded: every DreamFrame task hook imports from `eval`, so lm-eval's own CLI knows `--model dreamframe`
once it has read a DreamFrame task YAML (see eval/lm_eval_cli.py)."""

import sys

if "lm_eval" in sys.modules:  # never import lm-eval just for this: `python -m eval.leaderboard --help` stays instant
    from lm_eval.api.registry import model_registry

    if "dreamframe" not in model_registry:
        model_registry.register("dreamframe", target="eval.lm:DreamFrameLM")
