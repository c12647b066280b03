"""Judges for open-ended video QA: the Video-ChatGPT / TempCompass judge prompts byte for byte, a
named reply-parsing rule, verdicts cached apart from model answers, an LLM judge on the shared
client layer and a deterministic lexical judge (labelled not comparable with GPT-judged numbers).
"""

from eval.judges.judge import Judge, JudgeConfig, LexicalJudge, LLMJudge, build_judge
from eval.judges.parsing import PARSE_RULES, Verdict, parse_verdict

__all__ = ["Judge", "JudgeConfig", "LexicalJudge", "LLMJudge", "build_judge", "PARSE_RULES", "Verdict",
           "parse_verdict"]
