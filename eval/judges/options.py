"""`eval.run --judge_options`: typed overrides of the judge section that `--judge` names.

Every field defaults to None = keep the preset's (or YAML's) value, so a typo or a wrong type is refused
when the command line is parsed, by its dotted name, before any model loads:

    python -m eval.run --judge openai_compatible --judge_options.llm.base_url http://localhost:8000/v1 \\
        --judge_options.llm.model Qwen2.5-7B-Instruct
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from eval.judges.parsing import ParseRule


@dataclass
class JudgeLLMOptions:
    """Overrides of the judge's client settings (dreamframe.llm.LLMConfig); None keeps the preset's value."""

    backend: Literal["openai", "transformers"] | None = None
    model: str | None = None
    """The pinned judge model: a dated API id (gpt-3.5-turbo-0125) or a local folder."""
    base_url: str | None = None
    """Base URL of an OpenAI-compatible server (vLLM, llama.cpp, ...)."""
    api_key_env: str | None = None
    """Environment variable holding the API key (never the key itself)."""
    max_concurrency: int | None = None
    max_retries: int | None = None
    timeout: float | None = None
    max_tokens: int | None = None
    device: str | None = None
    """`transformers` judges: torch device."""
    dtype: str | None = None
    num_threads: int | None = None


@dataclass
class JudgeOptions:
    """Overrides of the judge section `--judge` names (eval.judges.JudgeConfig); None keeps its value."""

    parse_rule: ParseRule | None = None
    """How judge replies are read (eval/judges/parsing.py)."""
    lexical_threshold: float | None = None
    """Token-F1 at or above which the lexical judge says 'yes'."""
    cache_dir: str | None = None
    """Folder of the verdict cache; default: <out>/<model>/judge_cache."""
    llm: JudgeLLMOptions = field(default_factory=JudgeLLMOptions)

    def overrides(self) -> dict[str, Any]:
        """The fields that were set, as dotted keys of the judge section ({"llm.base_url": ...})."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "llm"}
        out.update({f"llm.{k}": v for k, v in dataclasses.asdict(self.llm).items()})
        return {k: v for k, v in out.items() if v is not None}
