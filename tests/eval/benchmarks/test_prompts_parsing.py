"""Judge prompts are the reference text byte for byte; replies are parsed by the named rule."""

import hashlib

import pytest

from eval.judges.parsing import captioning_rating, correct_incorrect, parse_verdict
from eval.judges.templates import PROMPT_DIR, known_prompts, render

# sha256 of the stored prompt files, transcribed from the reference scripts (see prompts/SOURCES.md).
SHA256 = {
    "activitynet_qa.system.txt": "12b9e42d120081bf1e7f1999bb09db2db250add544abd3c183d61a2f938c6510",
    "activitynet_qa.user.txt": "66490ee04d3bedaa932916173b5522bb8748c93d422666446671e2e2a965f3c0",
    "vcg_correctness.system.txt": "d3e95c91b75d55f1697314779ea99483cf497e4dc5c801829086fb6da23b94a5",
    "vcg_correctness.user.txt": "b73821cf31e193f1bb627924c6cc946b7bc8b3cf1aee45797ed0c7a19b574d4e",
    "vcg_detail.system.txt": "692afe543175215e773d22d66e479e9eba30ce2d8076d92d89c6f96fcc716d5d",
    "vcg_detail.user.txt": "12a0945be9496cfb694fc31d3180fdbcd3475770f886ca334864feedfd21fcd4",
    "vcg_context.system.txt": "ab6063175e1a35daec0b07fc8071bf1f6ae6ddcf65f4f82daee873de96e089c1",
    "vcg_context.user.txt": "c48840afd96688beb637d48d700269dd787f09414dfa3446630878d2d56604b8",
    "vcg_temporal.system.txt": "2a0b0335b04144b933618382d211453e05d331ca52f0a75fe7606477356b34d0",
    "vcg_temporal.user.txt": "98f80acc48fefa7fd49b5c486412c752dddaf369dfc85cf1ef8008339038b65e",
    "vcg_consistency.system.txt": "15f01dba1f255e7f676dc0e88eabea23dec7c1bfa102695dc21ceecacf5b204d",
    "vcg_consistency.user.txt": "45cb7a21eb8ae21429dc697102248d466dd3aa56bd79c25e13e1cc1eebc87788",
    "tempcompass_multi-choice.system.txt": "ed87a240fcd761960192c8b6b439057b57d36347fa4cba972b2dff44cc778b38",
    "tempcompass_multi-choice.user.txt": "a0028e0ff0d85275e7247aa3db86877a51a28d4e42b9ba5ec0ab1109d20d44ae",
    "tempcompass_yes_no.system.txt": "ed87a240fcd761960192c8b6b439057b57d36347fa4cba972b2dff44cc778b38",
    "tempcompass_yes_no.user.txt": "2bbf53957d78f37162b10baa0ca084e2b513cecf6618f060a7419081fe06f85e",
    "tempcompass_caption_matching.system.txt": "ed87a240fcd761960192c8b6b439057b57d36347fa4cba972b2dff44cc778b38",
    "tempcompass_caption_matching.user.txt": "e45dd9bbdf18f3aabe9354ec951c5c9f5293dc328bf1131d5c6113092ff73dc6",
    "tempcompass_captioning.system.txt": "ed87a240fcd761960192c8b6b439057b57d36347fa4cba972b2dff44cc778b38",
    "tempcompass_captioning.user.txt": "31466be07b4cd18c1efee91a314a98453f56a2d9ff89a62b5c62c0ca78a82223",
    # PKU-YuanGroup/Video-Bench@8b2101d Step2_chatgpt_judge.py (system, assistant and user turns)
    "videobench.system.txt": "a1e65628211b105aeb354f1b742c34308cba5d558dad060eba6821f100a4fcf1",
    "videobench.assistant.txt": "eb781104f363cfac560910a197eddf9ea685f786fab928055e8cc08bbbe3c5da",
    "videobench.user.txt": "f5027e743c0e6e8f0d78de8a7904896d295d37112aebd18f01c7d858a01a4247",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_prompt_bytes(name):
    assert hashlib.sha256((PROMPT_DIR / name).read_bytes()).hexdigest() == SHA256[name]


def test_every_prompt_is_pinned():
    assert {p.name for p in PROMPT_DIR.glob("*.txt")} == set(SHA256)
    assert set(known_prompts()) == {n.split(".")[0] for n in SHA256}


def test_render_is_the_reference_fstring_and_single_pass():
    msgs = render("activitynet_qa", question="Q?", answer="a {pred}", pred="x {answer}")
    user = msgs[1]["content"]
    assert user.startswith("Please evaluate the following video-based question-answer pair:\n\nQuestion: Q?\n"
                           "Correct Answer: a {pred}\nPredicted Answer: x {answer}\n\n")
    assert "is  a string" in user and "STRING.DO NOT" in user and user.endswith("{'pred': 'yes', 'score': 4.8}.")
    assert msgs[0]["role"] == "system" and "##INSTRUCTIONS: - Focus" in msgs[0]["content"]
    with pytest.raises(KeyError, match="pred2"):
        render("vcg_consistency", question1="a", question2="b", answer="c", pred1="d")


@pytest.mark.parametrize("reply,rule,expect", [
    ("{'pred': 'yes', 'score': 4.8}", "literal_eval_whole", (True, "yes", 4, True)),
    ("{'pred': 'No', 'score': 2}", "literal_eval_whole", (True, "no", 2, True)),
    ("Here: {'pred': 'yes', 'score': 5}", "literal_eval_whole", (False, None, None, False)),
    ("Here: {'pred': 'yes', 'score': 5} done", "first_braces", (True, "yes", 5, True)),
    ("not a dict at all", "first_braces", (False, "no", 0, True)),
    ("['yes', 3]", "literal_eval_whole", (False, None, 0, True)),  # kept as 0 points (Video-LLaVA)
    ("{'pred': 'yes'}", "literal_eval_whole", (False, None, 0, True)),  # kept as 0 points (Video-LLaVA)
    ("{'pred': 'yes', 'score': 'high'}", "literal_eval_whole", (False, None, 0, True)),  # kept as 0 points (Video-LLaVA)
])
def test_parse_rules(reply, rule, expect):
    v = parse_verdict(reply, rule)
    assert (v.parsed, v.pred, v.score, v.counted) == expect


def test_score_only_replies_and_tempcompass_parsers():
    assert parse_verdict("{'score': 3}", need_pred=False).score == 3
    assert parse_verdict("{''score': 4}", need_pred=False).parsed is False  # the prompt's own typo is not valid
    assert [correct_incorrect(r) for r in ("Correct.", "Incorrect", "The answer is Correct", "dunno")] == [1, 0, 1, None]
    assert captioning_rating("Reasoning: x\nAnswer: B. running", "B. running") == 1
    assert captioning_rating("Answer: None of the choices are correct", "B. running") == 0
