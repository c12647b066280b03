"""MVBench prompt and scoring, as in OpenGVLab/Ask-Anything `video_chat2/mvbench.ipynb`."""

from __future__ import annotations

from typing import Any

from dreamframe.prompts import options_block
from dreamframe.clip import Clip

SYSTEM = ("Carefully watch the video and pay attention to the cause and sequence of events, the detail and "
          "movement of objects, and the action and pose of persons. Based on your observations, select the "
          "best option that accurately addresses the question.\n")
QUESTION_PROMPT = "\nOnly give the best option."
ANSWER_PROMPT = "Best option:("  # primes the assistant turn (generation_kwargs.answer_prefix)
RETURN_PROMPT = "("  # the notebook puts the primed "(" back before scoring


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    """system_llm=True in the notebook: system + question + options + question prompt, in the user turn."""
    return f"{SYSTEM}Question: {doc['question']}\nOptions:\n{options_block(doc['candidates'])}{QUESTION_PROMPT}"


def doc_to_target(doc: dict[str, Any]) -> str:
    return f"({doc['answer_letter']}) {doc['answer']}"


def check_ans(pred: str, gt: str) -> bool:
    """The notebook's rule: the prediction's first word against the gold '(X)'.

    As in VideoChat2's later `check_ans`, a first word with no option letter in it (an empty answer
    reads '(') is wrong; the notebook's version counted it right because '(' is a substring of '(a)'.
    """
    pred_option = pred.lower().split(" ")[0]
    gt_option = gt.lower().split(" ")[0]
    if not any(c in pred_option for c in "abcdefg"):
        return False
    return pred_option.replace(".", "") in gt_option or gt_option in pred_option


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """acc in percent per question (100 or 0): the notebook's 'Acc' is printed as a percentage too."""
    pred = RETURN_PROMPT + results[0].strip().split("\n")[0]
    return {"acc": 100.0 * check_ans(pred, doc_to_target(doc))}
