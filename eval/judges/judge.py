"""Judges: one interface (`replies(prompt, items) -> raw replies`) over an LLM, a lexical rule or exact match.

The LLM judge goes through the shared client layer (`dreamframe.llm`): an OpenAI-compatible HTTP
server (GPT, vLLM, llama.cpp) or a local transformers model (the offline judge). Its model is pinned
in the config and recorded with every result. Raw replies are cached in their own SQLite file
(`<cache_dir>/judge_verdicts.sqlite`), apart from model answers: re-judging never re-runs the model,
and re-scoring with another parse rule never re-asks the judge.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dreamframe.llm.config import LLMConfig
from eval.judges.lexical import exact_match_reply, lexical_reply
from eval.judges.parsing import PARSE_RULES, ParseRule
from eval.judges.protocols import comparable
from eval.judges.templates import prompt_sha256, render

log = logging.getLogger(__name__)

JUDGE_KINDS = ("lexical", "exact_match", "llm")
CHUNK = 64
"""Judge requests sent per `chat_many` call; each finished chunk is already in the cache."""


def _judge_llm_defaults() -> LLMConfig:
    return LLMConfig(backend="openai", model="", base_url="https://api.openai.com/v1", temperature=0.0,
                     max_tokens=128, response_format="none")


@dataclass
class JudgeConfig:
    """Which judge scores open-ended answers, and how its replies are read."""

    kind: Literal["lexical", "exact_match", "llm"] = "lexical"
    """lexical: deterministic token-F1; exact_match: normalised exact match (case, whitespace, trailing period);
    both need no model and are NOT comparable with published numbers. llm: a model through dreamframe.llm."""
    parse_rule: ParseRule = "literal_eval_whole"
    """literal_eval_whole (Video-LLaVA eval_video_qa.py), lmms_eval (lmms-eval >= 0.3: raises on unparsable replies),
    lmms_eval_0_2 (lmms-eval 0.2.x: whole reply, unparsable = no/0) or first_braces (this project's lenient rule);
    eval/judges/parsing.py says what each reproduces."""
    cache_dir: str | None = None
    """Folder of the verdict cache (judge_verdicts.sqlite), kept apart from model answers; None: no cache."""
    lexical_threshold: float = 0.5
    """Token-F1 at or above which the lexical judge says 'yes' / 'Correct'."""
    llm: LLMConfig = field(default_factory=_judge_llm_defaults)
    """Client settings for kind=llm. llm.model is the PINNED judge: a dated API id (gpt-3.5-turbo-0125) or a local folder."""

    def validate(self) -> None:
        if self.kind not in JUDGE_KINDS:
            raise ValueError(f"judge.kind: {self.kind!r} is not one of {JUDGE_KINDS}")
        if self.parse_rule not in PARSE_RULES:
            raise ValueError(f"judge.parse_rule: {self.parse_rule!r} is not one of {PARSE_RULES}")
        if self.kind == "llm" and self.llm.backend == "openai" and not self.llm.model:
            raise ValueError("judge.llm.model: an API judge needs a pinned model id (scores move with the judge version)")


class Judge:
    """Base judge: `replies` returns one raw reply string per item, in input order."""

    name = "judge"

    def __init__(self, cfg: JudgeConfig):
        cfg.validate()
        self.cfg = cfg

    @property
    def model(self) -> str | None:
        return None

    def replies(self, prompt: str, items: list[dict[str, Any]]) -> list[str]:
        raise NotImplementedError

    def comparable(self, prompt: str) -> bool:
        """Whether numbers judged with `prompt` compare with published ones (see eval/judges/protocols.py)."""
        return False

    def record(self, prompts: tuple[str, ...] = ()) -> dict[str, Any]:
        """The results' "judge" block: who judged with which prompts, and whether the numbers compare
        with published ones (only the pinned endpoint, model snapshot and prompt text do)."""
        return {"name": self.name, "model": self.model,
                "comparable_to_published": bool(prompts) and all(self.comparable(p) for p in prompts),
                "parse_rule": self.cfg.parse_rule, "prompt_sha256": {p: prompt_sha256(p) for p in prompts}}


class LexicalJudge(Judge):
    name = "lexical-f1"

    def replies(self, prompt: str, items: list[dict[str, Any]]) -> list[str]:
        return [lexical_reply(prompt, item, self.cfg.lexical_threshold) for item in items]

    def record(self, prompts: tuple[str, ...] = ()) -> dict[str, Any]:
        return {**super().record(prompts), "threshold": self.cfg.lexical_threshold}


class ExactMatchJudge(Judge):
    """`--judge exact_match`: right only when the answer equals the reference after lower-casing, collapsing
    whitespace and dropping a trailing period (verdicts in the prompts' reply formats)."""

    name = "exact_match"

    def replies(self, prompt: str, items: list[dict[str, Any]]) -> list[str]:
        return [exact_match_reply(prompt, item) for item in items]


class LLMJudge(Judge):
    """Renders the reference prompt, asks the client in concurrent chunks, returns raw replies.

    A request that fails outright (server down after retries) yields an empty reply: it is counted
    as unparsable, not cached, and asked again on the next run."""

    def __init__(self, cfg: JudgeConfig, client: Any = None):
        super().__init__(cfg)
        llm = cfg.llm
        if cfg.cache_dir and not llm.cache:
            llm = dataclasses.replace(llm, cache=str(Path(cfg.cache_dir) / "judge_verdicts.sqlite"))
            Path(cfg.cache_dir).mkdir(parents=True, exist_ok=True)
        self.llm_cfg = llm
        if client is None:
            from dreamframe.llm import build_client

            client = build_client(llm)
        self.client = client
        self.name = f"llm:{llm.backend}"
        self.failures: list[str] = []

    @property
    def model(self) -> str | None:
        return getattr(self.client, "model_id", None) or self.llm_cfg.model

    def replies(self, prompt: str, items: list[dict[str, Any]]) -> list[str]:
        from tqdm.auto import tqdm

        messages = [render(prompt, **item) for item in items]
        out: list[str] = []
        with tqdm(total=len(messages), desc=f"judge {prompt}", unit="item", leave=False) as bar:
            for start in range(0, len(messages), CHUNK):
                for result in self.client.chat_many(messages[start:start + CHUNK], return_exceptions=True):
                    if isinstance(result, BaseException):
                        self.failures.append(f"{type(result).__name__}: {result}")
                        out.append("")
                    else:
                        out.append(result.text)
                    bar.update()
        failed = sum(1 for r in out if r == "")
        if self.failures and failed:
            log.warning("judge %s: %d of %d request(s) failed (counted as unparsable, asked again next run); "
                        "last error: %s", self.model, failed, len(out), self.failures[-1])
        return out

    def comparable(self, prompt: str) -> bool:
        return comparable(prompt, self.llm_cfg.backend, self.llm_cfg.base_url, self.llm_cfg.model)

    def record(self, prompts: tuple[str, ...] = ()) -> dict[str, Any]:
        return {**super().record(prompts), "backend": self.llm_cfg.backend, "temperature": self.llm_cfg.temperature,
                "max_tokens": self.llm_cfg.max_tokens,
                "base_url": self.llm_cfg.base_url if self.llm_cfg.backend == "openai" else None}


def build_judge(cfg: JudgeConfig, client: Any = None) -> Judge:
    """The judge named by `cfg`; pass `client` to reuse an existing dreamframe.llm client."""
    cfg.validate()
    if cfg.kind == "lexical":
        return LexicalJudge(cfg)
    if cfg.kind == "exact_match":
        return ExactMatchJudge(cfg)
    if (client is None and cfg.llm.backend == "openai" and cfg.llm.base_url.startswith("https://api.openai.com")
            and not os.environ.get(cfg.llm.api_key_env)):
        raise ValueError(f"judge: the OpenAI API needs its key in ${cfg.llm.api_key_env}")
    return LLMJudge(cfg, client)
