"""Answer extraction and scoring rules reproduced on cases taken from the official repositories.

Sources (repository @ commit, path):
- Video-MME: thanku-all/parse_answer@afd52cfe3dde5b3685e0d4f760c10c756860c758 `eval_your_results.py`
  (the script BradyFU/Video-MME@8889f31 README links); responses from BradyFU/Video-MME
  `evaluation/output_test_template.json`.
- TempCompass: llyx97/TempCompass@e1b46316 `eval_multi-choice.py`, `eval_yes_no.py`,
  `eval_caption_matching.py`; cases from `auto_eval_results/video-llava/*.json` (the authors' verdicts).
- Video-Bench: PKU-YuanGroup/Video-Bench@8b2101d README (Step1 prompt), `Step2_chatgpt_judge.py`.
- VCGBench: mbzuai-oryx/Video-ChatGPT `quantitative_evaluation/evaluate_benchmark_5_consistency.py` (prompt intent).
"""

from __future__ import annotations

import json

import pytest

from eval.judges import JudgeConfig, build_judge
from eval.judges.lexical import exact_match_reply, lexical_reply, normalise_exact
from eval.judges.parsing import parse_verdict
from eval.judges.protocols import PINS
from eval.judges.templates import prompt_sha256
from eval.tasks.tempcompass.scoring import clean, rate, score_tempcompass
from eval.tasks.videobench import build_prompt, group_weights
from eval.tasks.videobench.scoring import parse_choice, rule_choice
from eval.tasks.videomme.scoring import extract_letter


@pytest.mark.parametrize("response, letter", [
    ("Answer: C", "C"),  # the old prefix list returned the "A" of "Answer"
    ("Answer: (D)", "D"),
    ("The correct answer is (B)", "B"),
    ("The correct option: D.", "D"),
    ("Option: B", "B"),
    ("The best answer is A.", "A"),
    ("C. Berries.", "C"), ("D.", "D"), ("D. 3", "D"),  # output_test_template.json responses
    ("Best answer: C", "B"),  # parse_answer's missing comma glues "Best answer:" to "Best option:": still the B of Best
    ("i do not know which one of these it could be, sorry about that", ""),
])
def test_videomme_extraction_is_parse_answers(response, letter):
    assert extract_letter(response) == letter


@pytest.mark.parametrize("fmt, question, answer, prediction, rating", [
    # (format, question, gt-answer, video-llm-prediction, the authors' rating; None = no rule matched -> ChatGPT)
    ("multi-choice", "What is the man doing in the video?\nA. dunking a basketball\nB. dribbling a basketball\n"
     "C. passing a basketball", "A. dunking a basketball", "A", 1),
    ("multi-choice", "What is the speed of the video?\nA. normal speed\nB. slow motion\nC. fast forward\nD. reverse",
     "A. normal speed", "B", 0),
    ("yes_no", "Is the man dunking?", "yes", "Yes.", 1),
    ("yes_no", "Is the entire video presented in slow motion?", "yes",
     "No, the video is not entirely in slow motion. The first part of the video shows the man skating in slow "
     "motion, but the rest of the video shows the man skating at regular speed.", 0),
    ("caption_matching", "Which sentence better captures the essence of the video?\nSentence A: A man is dunking a "
     "basketball.\nSentence B: A video showing a person passing a basketball.",
     "Sentence A: A man is dunking a basketball.", "Sentence A.", 1),
    ("caption_matching", "Which caption matches the video better?\nCaption A: A man is dunking a basketball.\n"
     "Caption B: The man is shooting a basketball.", "Caption A: A man is dunking a basketball.", "Caption B", 0),
    ("caption_matching", "Which description is a more suitable match for the video?\nOption 1: The man is dribbling a "
     "basketball.\nOption 2: A man is dunking a basketball.", "Option 2: A man is dunking a basketball.",
     "Option 2: A man is dunking a basketball.", 1),
    ("caption_matching", "Which sentence better captures the essence of the video?\nSentence A: A person is drawing a "
     "picture.\nSentence B: The person is reading a book.", "Sentence A: A person is drawing a picture.",
     "A person is drawing a picture.", 1),
    ("caption_matching", "Which sentence better captures the essence of the video?\nSentence A: The speed of the video "
     "is time-lapse.\nSentence B: The video is playing at normal speed.",
     "Sentence B: The video is playing at normal speed.", "Sentence A: The video is playing at normal speed.", None),
])
def test_tempcompass_rules_reproduce_the_authors_verdicts(fmt, question, answer, prediction, rating):
    assert rate(fmt, clean(prediction), {"question": question, "answer": answer}) == rating


def test_tempcompass_rule_details_the_old_code_missed():
    q = "Which description is a more suitable match for the video?\nOption 1: A dog runs.\nOption 2: A cat sits."
    # the label without its word ("2", "B") and the answer's own label are rules of eval_caption_matching.py
    assert rate("caption_matching", "2", {"question": q, "answer": "Option 2: A cat sits."}) == 1
    assert rate("caption_matching", "1.", {"question": q, "answer": "Option 2: A cat sits."}) == 0
    # every eval_<format>.py strips the prediction before its rules; a refused answer (None) is rated 0, unmatched
    assert rate("multi-choice", clean(" B\n"), {"answer": "B. running"}) == 1
    lexical = build_judge(JudgeConfig(kind="lexical"))
    out = score_tempcompass(lexical, [{"format": "yes_no", "dim": "action", "fine_dim": "x", "question": "Is it?",
                                       "answer": "yes", "pred": p} for p in (" yes", None)])
    assert [v["rating"] for v in out["per_item"].values()] == [1, 0] and out["match_rate"] == 50.0


def test_tempcompass_exact_match_is_the_authors_disable_llm(tmp_path):
    """--judge exact_match: no fallback; an answer the rules cannot read is wrong (the authors' --disable_llm)."""
    from eval import runtime
    from eval.tasks.tempcompass.utils import agg_acc

    items = [{"task": "tempcompass_multi_choice", "format": "multi-choice", "video_id": "v", "dim": "a", "fine_dim": "x",
              "question": "Q?\nA. cooking\nB. running", "answer": "B. running", "pred": p, "mc_question": "",
              "mc_answer": ""} for p in ("B", "running")]
    ctx = runtime.RunContext(out_dir=tmp_path, judge_name="exact_match")
    assert agg_acc(items, ctx=ctx) == 50.0  # the lexical judge would have rated "running" right
    assert ctx.judges_used["tempcompass_multi_choice"].name == "exact_match"


@pytest.mark.parametrize("n, tail", [
    (2, " A.a B.b \n Among the two options A, B above, the one closest to the correct answer is: "),
    (3, " A.a B.b C.c \n Among the three options A, B, C above, the one closest to the correct answer is: "),
    (4, " A.a B.b C.c D.d \n Among the four options A, B, C, D above, the one closest to the correct answer is:"),
    (5, " A.a B.b C.c D.d E.e \n Among the five options A, B, C, D, E above, the one closest to the correct answer is: "),
    (6, "Choices: A.a B.b C.c D.d E.e F.f \n Among the six options A, B, C, D, E, F above, the one closest to the "
        "correct answer is:"),
    (1, ""),  # the README has no branch for one option: the question goes alone
])
def test_videobench_prompt_is_the_readmes(n, tail):
    choices = {chr(65 + i): chr(97 + i) for i in range(n)}
    assert build_prompt("What?", choices) == "What?" + tail


def test_videobench_reply_mapping_and_official_weights():
    assert parse_choice('{"maximum probability":"C"}', "literal_eval_whole") == "C"
    assert parse_choice('The answer: {"maximum probability": "B"}', "literal_eval_whole") is None
    assert parse_choice('The answer: {"maximum probability": "B"}', "first_braces") == "B"
    assert parse_choice('{"maximum probability": "G"}', "first_braces") is None  # only A-F are accepted
    choices = {"A": "Shrubs", "B": "Trees", "C": "Flowers"}
    assert [rule_choice(p, choices) for p in ("B", "(C) Flowers", "B. Trees", "trees.", "I think trees", "D")] == \
        ["B", "C", "B", "B", None, None]
    reply = json.loads(lexical_reply("videobench", {"pred": "there are some trees", "choices": choices}))
    assert reply == {"maximum probability": "B"}
    assert json.loads(lexical_reply("videobench", {"pred": "zzz", "choices": choices}))["maximum probability"] is None
    w = group_weights(["videobench_mot", "videobench_msvd", "videobench_tvqa", "videobench_driving_exam"])
    # Step3_compute_scores.py: MOT and Driving-exam weigh 0.5 in their level; final = mean of the levels present
    assert w["videobench_video_exclusive"] == {"videobench_msvd": 1, "videobench_mot": 0.5}
    assert w["videobench"]["videobench_mot"] == pytest.approx(0.5 / 1.5 / 3)
    assert w["videobench"]["videobench_driving_exam"] == pytest.approx(1 / 3)
    assert sum(w["videobench"].values()) == pytest.approx(1.0)


def test_consistency_needs_agreement_with_the_reference_and_each_other():
    """The consistency prompt: both answers must correspond to the correct answer AND to each other."""
    def score(p1, p2, judge=lexical_reply):
        fields = {"question1": "q1", "question2": "q2", "answer": "a red bike", "pred1": p1, "pred2": p2}
        reply = judge("vcg_consistency", fields) if judge is exact_match_reply else judge("vcg_consistency", fields, 0.5)
        return parse_verdict(reply, need_pred=False).score

    assert score("a blue car", "a blue car") == 0  # identical but wrong: 2/5 before
    assert score("a red bike", "A red bike.") == 5
    assert score("a red bike", "a blue car") == 0
    assert score("a red bike", "a red bike", exact_match_reply) == 5 and score("a red bike", "red bike", exact_match_reply) == 0


def test_exact_match_normalises_case_whitespace_and_trailing_period_only():
    assert normalise_exact("  A  Red\tSquare. ") == normalise_exact("a red square") == "a red square"
    assert normalise_exact("the red square") != normalise_exact("red square")  # articles count, unlike token F1
    reply = exact_match_reply("activitynet_qa", {"question": "q", "answer": "Square.", "pred": "square"})
    assert parse_verdict(reply).pred == "yes"
    assert parse_verdict(exact_match_reply("activitynet_qa", {"question": "q", "answer": "square",
                                                              "pred": "red square"})).pred == "no"


def test_comparable_only_for_the_pinned_endpoint_model_and_prompt(monkeypatch, tmp_path):
    from dreamframe.llm.config import LLMConfig

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-sent")

    def record(base_url, model, prompt="activitynet_qa"):
        cfg = JudgeConfig(kind="llm", llm=LLMConfig(backend="openai", base_url=base_url, model=model,
                                                    response_format="none"))
        return build_judge(cfg).record((prompt,))

    official = "https://api.openai.com/v1"
    assert record(official, "gpt-3.5-turbo-0125")["comparable_to_published"] is True
    assert record(official, "gpt-3.5-turbo-0125")["prompt_sha256"] == {"activitynet_qa": prompt_sha256("activitynet_qa")}
    assert record("http://127.0.0.1:8000/v1", "gpt-3.5-turbo-0125")["comparable_to_published"] is False
    assert record(official, "gpt-3.5-turbo")["comparable_to_published"] is False  # unpinned alias
    assert record(official, "gpt-4o-2024-08-06")["comparable_to_published"] is False
    assert record(official, "gpt-3.5-turbo-1106", "tempcompass_yes_no")["comparable_to_published"] is True
    assert record(official, "gpt-3.5-turbo-0125", "tempcompass_yes_no")["comparable_to_published"] is False
    assert build_judge(JudgeConfig(kind="lexical")).record(("activitynet_qa",))["comparable_to_published"] is False
    # an edited prompt file no longer has the pinned text
    monkeypatch.setitem(PINS, "activitynet_qa", PINS["activitynet_qa"].__class__("gpt-3.5-turbo-0125", "0" * 64))
    assert record(official, "gpt-3.5-turbo-0125")["comparable_to_published"] is False


def test_judge_presets_name_the_pinned_snapshots():
    from eval.judges.select import judge_config

    for preset, prompt in (("gpt35", "activitynet_qa"), ("gpt35", "vcg_consistency"),
                           ("gpt35_tempcompass", "tempcompass_captioning"), ("gpt35_videobench", "videobench")):
        cfg = judge_config(preset)
        assert cfg.llm.model == PINS[prompt].model and cfg.llm.base_url == "https://api.openai.com/v1", preset
