"""Judges for open-ended video QA: the Video-ChatGPT / TempCompass / Video-Bench judge prompts byte for
byte, a named reply-parsing rule, verdicts cached apart from model answers, an LLM judge on the shared
client layer, and deterministic lexical and exact-match judges (labelled not comparable with published
numbers; only the pinned protocol is, eval/judges/protocols.py).
"""

from eval.judges.judge import ExactMatchJudge, Judge, JudgeConfig, LexicalJudge, LLMJudge, build_judge
from eval.judges.parsing import PARSE_RULES, Verdict, parse_verdict

__all__ = ["ExactMatchJudge", "Judge", "JudgeConfig", "LexicalJudge", "LLMJudge", "build_judge", "PARSE_RULES", "Verdict",
           "parse_verdict"]
