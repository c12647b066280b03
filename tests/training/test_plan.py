"""training.plan: parameter counts on the meta device, model states vs DeepSpeed's own estimators."""

from __future__ import annotations

import glob
import json

import pytest

from models.base import ModelConfig
from training.plan import HUB_CONFIGS, PlanConfig, count, deepspeed_estimate, main, model_states, plan

SEVEN_B = {p.stem.replace("__", "/"): json.loads(p.read_text())["model_type"] for p in HUB_CONFIGS.glob("*.json")}


@pytest.mark.parametrize("hub_id", sorted(SEVEN_B))
def test_7b_model_states_agree_with_deepspeed(hub_id):
    family = SEVEN_B[hub_id]
    all_trainable = count(ModelConfig(family=family, path=hub_id, freeze=[]))
    assert 6.5e9 < all_trainable.total < 8.6e9, all_trainable.total
    frozen_vision = count(ModelConfig(family=family, path=hub_id, freeze=["vision"]))
    assert frozen_vision.total == all_trainable.total and frozen_vision.trainable < all_trainable.trainable
    for gpus_per_node, nodes in ((8, 1), (8, 4)):
        gpus = gpus_per_node * nodes
        for stage, off_opt, off_par in ((2, False, False), (2, True, False), (3, False, False), (3, True, False),
                                        (3, True, True)):
            ds = deepspeed_estimate(all_trainable, stage, gpus_per_node, nodes, off_opt, off_par)
            for c in (all_trainable, frozen_vision):
                ours = model_states(c, stage, gpus, off_opt, off_par)
                assert abs(ours - ds) / ds < 0.10, (hub_id, stage, off_opt, off_par, ours / 2**30, ds / 2**30)
    # the paper's setting for 7B on 8 GPUs: ZeRO-2 model states about 27.7 GB (ENVIRONMENT.md, for 7.0B)
    z2 = model_states(all_trainable, 2, 8, False, False) / 1e9
    assert 25 < z2 < 36


def test_lora_and_freeze_change_trainable_counts():
    full = count(ModelConfig(family="qwen2_5_vl", path="Qwen/Qwen2.5-VL-7B-Instruct", freeze=[]))
    lora = count(ModelConfig(family="qwen2_5_vl", path="Qwen/Qwen2.5-VL-7B-Instruct", freeze=["vision", "projector"],
                             lora={"r": 16}))
    # r * (in + out) over q,k,v,o,gate,up,down of 28 layers
    h, kv, i = 3584, 512, 18944
    expected = 28 * 16 * ((h + h) + 2 * (h + kv) + (h + h) + 2 * (h + i) + (i + h))
    assert lora.trainable == expected
    assert full.trainable == full.total


def test_plan_table_rows_and_cli(capsys):
    cfg = PlanConfig(model=ModelConfig(family="llava_onevision", path="llava-hf/llava-onevision-qwen2-7b-ov-hf"),
                     devices=8, precision="bf16-true")
    res = plan(cfg)
    rows = {(r["zero_stage"], r["offload_optimizer"], r["offload_params"], r["activation_checkpointing"]): r
            for r in res["rows"]}
    assert len(rows) == 16
    z2, z3 = rows[(2, False, False, False)], rows[(3, False, False, False)]
    assert z3["model_states_gib"] < z2["model_states_gib"] < rows[(1, False, False, False)]["model_states_gib"]
    assert rows[(3, False, False, True)]["activations_gib"] < z3["activations_gib"]
    assert rows[(3, True, True, True)]["total_gib"] < rows[(3, True, False, True)]["total_gib"]
    main(["--model.family", "video_llava", "--model.path", "LanguageBind/Video-LLaVA-7B-hf", "--devices", "8"])
    out = capsys.readouterr().out
    assert "7.366B params" in out and "opt+param" in out


def test_unknown_hub_id_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="not-a/model"):
        count(ModelConfig(family="qwen2_5_vl", path="not-a/model"))


@pytest.mark.parametrize("path", sorted(glob.glob("configs/train/dreamframe_7b_*.yaml")))
def test_train_configs_7b_plan_within_10_percent_of_deepspeed(path):
    from dreamframe.config import from_dict, load_yaml

    cfg = from_dict(PlanConfig, load_yaml(path))
    if not str(cfg.devices).isdigit():
        cfg.devices = 8
    res = plan(cfg)
    for r in res["rows"]:
        ds = r["deepspeed_model_states_gib"]
        if ds is not None:
            assert abs(r["model_states_gib"] - ds) / ds < 0.10, (path, r)
