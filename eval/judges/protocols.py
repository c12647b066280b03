"""When a judged number may be called comparable with published ones.

Only when all three match the pin of the prompt that judged it: the official endpoint
(api.openai.com), the pinned model snapshot, and the prompt text (its sha256). A local server that
calls itself `gpt-3.5-turbo-0125`, another snapshot, or an edited prompt is labelled not comparable.

Pins (the reference scripts' own model where they pin one):
- Video-ChatGPT prompts (open-ended QA, VCGBench): the scripts call the unpinned alias `gpt-3.5-turbo`
  (mbzuai-oryx/Video-ChatGPT `quantitative_evaluation/evaluate_*.py`); this project pins the snapshot
  `gpt-3.5-turbo-0125` (configs/judges/gpt35.yaml), the one later papers (e.g. PLLaVA) name.
- TempCompass: `gpt-3.5-turbo-1106` (llyx97/TempCompass `utils/eval_utils.py`; temperature 1.0,
  presence_penalty 1 there).
- Video-Bench: `gpt-3.5-turbo-0613` (PKU-YuanGroup/Video-Bench `Step2_chatgpt_judge.py`); OpenAI has
  retired that snapshot, so no new Video-Bench run can be comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

from eval.judges.templates import prompt_sha256

OFFICIAL_ENDPOINT = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Pin:
    model: str
    prompt_sha256: str


_VIDEO_CHATGPT = "gpt-3.5-turbo-0125"
PINS: dict[str, Pin] = {
    "activitynet_qa": Pin(_VIDEO_CHATGPT, "2d79e6d04fc675cafef0c0bef000818c5f479d4e11b4da18cdece755b88165d9"),
    "vcg_correctness": Pin(_VIDEO_CHATGPT, "3f126342195959ab6b80a285c3fc4b34f2cc7063d951d5e2187896d594576187"),
    "vcg_detail": Pin(_VIDEO_CHATGPT, "51550e38ef9132a00aa6da15d895d1891fac42ab7d8c186442b9fae46dd2de59"),
    "vcg_context": Pin(_VIDEO_CHATGPT, "c46481fae360c8676ef9e57abe844239dee989b8371e093a284f3bb4a82a2a88"),
    "vcg_temporal": Pin(_VIDEO_CHATGPT, "1cc33bfafc0b3b78da2edbad4d5e7712b70d25ff200325b40c65b47866815884"),
    "vcg_consistency": Pin(_VIDEO_CHATGPT, "945bcb4e5ccecc14d79ed9637b945c3a22e972689e752370fefca3b8b74dc5c1"),
    "tempcompass_multi-choice": Pin("gpt-3.5-turbo-1106", "a23a2ec9ef88ccb6d45529374efae1f35242269e56a4085b37772f22b21c3e50"),
    "tempcompass_yes_no": Pin("gpt-3.5-turbo-1106", "8167a71706fe24f128a6e654dbfcafa724fdba34d015dd5a62f22a1b5e15a16b"),
    "tempcompass_caption_matching": Pin("gpt-3.5-turbo-1106",
                                        "59b45613959e96bfc9c8d5f0ece1e04c7d4f914d15ef36dfefd2579d35704f11"),
    "tempcompass_captioning": Pin("gpt-3.5-turbo-1106", "8ed1f85070fc1122e4a43644489102e950c8404943f592a8bc537a629e72c882"),
    "videobench": Pin("gpt-3.5-turbo-0613", "f72f83032e428574f1e2a806d532d246f16a6b4df9ee4606dbdeb3c2e55b94e8"),
}


def official_endpoint(base_url: str | None) -> bool:
    return (base_url or "").rstrip("/") == OFFICIAL_ENDPOINT


def comparable(prompt: str, backend: str, base_url: str | None, model: str | None) -> bool:
    """True only for the pinned endpoint, model snapshot and prompt text of `prompt`."""
    pin = PINS.get(prompt)
    return (pin is not None and backend == "openai" and official_endpoint(base_url) and model == pin.model
            and prompt_sha256(prompt) == pin.prompt_sha256)
