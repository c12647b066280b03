"""The judge of a run, from `eval.run --judge NAME` (resolved once into the run's context, eval/runtime.py).

NAME is `auto` / `lexical` (the deterministic lexical judge), `exact_match` (normalised exact match;
benchmarks with their own matching rules - TempCompass, Video-Bench - then use only those), a preset under configs/judges/
(`gpt35`, `openai_compatible`, `local_smollm2`), or a path to a JudgeConfig YAML. `--judge_options` are typed
overrides of that section (eval/judges/options.py). Verdicts are
cached under `<out_dir>/judge_cache/`, apart from the model answers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dreamframe.config import from_dict, load_yaml
from eval.judges.judge import Judge, JudgeConfig, _judge_llm_defaults, build_judge
from eval.judges.options import JudgeOptions

PRESET_DIR = Path(__file__).resolve().parents[2] / "configs" / "judges"
_BUILT: dict[str, Judge] = {}


def _apply(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def judge_config(name: str, options: JudgeOptions | dict[str, Any] | None = None,
                 cache_dir: str | Path | None = None) -> JudgeConfig:
    """Resolve a judge name / YAML path (+ typed options, or dotted overrides) to a validated JudgeConfig."""
    if name in ("auto", "lexical", "exact_match"):
        data: dict[str, Any] = {"kind": "exact_match" if name == "exact_match" else "lexical"}
    elif name.endswith((".yaml", ".yml")):
        if not Path(name).is_file():
            raise ValueError(f"--judge {name}: file not found")
        data = load_yaml(name)
    elif (PRESET_DIR / f"{name}.yaml").is_file():
        data = load_yaml(str(PRESET_DIR / f"{name}.yaml"))
    else:
        presets = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
        raise ValueError(f"--judge {name!r}: not auto, exact_match, a YAML file or a preset {presets}")
    data = _apply(data, options.overrides() if isinstance(options, JudgeOptions) else dict(options or {}))
    data["llm"] = {**dataclasses.asdict(_judge_llm_defaults()), **(data.get("llm") or {})}
    if cache_dir is not None and not data.get("cache_dir"):
        data["cache_dir"] = str(cache_dir)
    try:
        cfg = from_dict(JudgeConfig, data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"--judge {name}: {err}") from None
    cfg.validate()
    return cfg


def rules_only(judge: str | JudgeConfig, options: JudgeOptions | None = None) -> bool:
    """Whether the judge (a resolved section, or `--judge NAME`) scores by rules alone (exact match), so tasks
    that need a judge are not scored."""
    cfg = judge if isinstance(judge, JudgeConfig) else judge_config(judge, options)
    return cfg.kind == "exact_match"


def built_judge(cfg: JudgeConfig) -> Judge:
    """The judge of a section, built once per process (a local judge model loads once)."""
    key = repr(cfg)
    if key not in _BUILT:
        _BUILT[key] = build_judge(cfg)
    return _BUILT[key]
