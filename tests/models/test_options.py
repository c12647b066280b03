"""Freeze policies, LoRA (merge / adapter export), gradient checkpointing, attention choice, load errors."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch
from PIL import Image

from models.base import ModelConfig, Sample
from models.common import resolve_attn
from models.registry import build_adapter, load_adapter

TINY = {"image_size": 32, "patch_size": 8}
FRAMES = [Image.new("RGB", (40, 40), (200, 20 * i, 40)) for i in range(4)]
SAMPLE = Sample(FRAMES, [{"role": "user", "content": "What colour?"}, {"role": "assistant", "content": "red"}], "x")


def trainable_parts(adapter):
    parts = {}
    for name, p in adapter.model.named_parameters():
        parts.setdefault(adapter.part_of(name), set()).add(p.requires_grad)
    return parts


def test_freeze_policies():
    a = build_adapter(ModelConfig(tiny=TINY, freeze=["vision", "projector"]))
    parts = trainable_parts(a)
    assert parts["vision"] == {False} and parts["projector"] == {False} and parts["llm"] == {True}
    a = build_adapter(ModelConfig(tiny=TINY, freeze=["llm"]))
    parts = trainable_parts(a)
    assert parts["llm"] == {False} and parts["projector"] == {True} and True in parts["vision"]
    with pytest.raises(ValueError, match="model.freeze.*bogus"):
        build_adapter(ModelConfig(tiny=TINY, freeze=["bogus"]))


def _step(adapter):
    adapter.model.train()
    loss = adapter.forward(adapter.collate([SAMPLE]))
    loss.loss.backward()
    adapter.model.eval()
    return loss.loss


def test_lora_trains_only_adapters_and_exports_both_ways(tmp_path):
    a = build_adapter(ModelConfig(tiny=TINY, lora={"r": 4, "lora_alpha": 8}, freeze=["vision"]))
    names = {n for n, p in a.model.named_parameters() if p.requires_grad}
    assert names and all("lora_" in n or a.part_of(n) == "projector" for n in names)
    assert any("language_model" in n and "lora_A" in n for n in names)
    assert not any("vision_tower" in n and "lora_" in n for n in names)
    # make the adapter matter, then check both exports reproduce the logits
    with torch.no_grad():
        for n, p in a.model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    batch = a.collate([SAMPLE])
    with torch.no_grad():
        ref = a.model(**batch).logits
    a.save(tmp_path / "adapter", lora="adapter")
    assert (tmp_path / "adapter" / "lora_adapter" / "adapter_model.safetensors").is_file()
    b = load_adapter(tmp_path / "adapter")
    with torch.no_grad():
        torch.testing.assert_close(b.model(**b.collate([SAMPLE])).logits, ref, rtol=1e-4, atol=1e-4)
    a.save(tmp_path / "merged", lora="merge")
    keys = json.loads((tmp_path / "merged" / "model.safetensors.index.json").read_text())["weight_map"] \
        if (tmp_path / "merged" / "model.safetensors.index.json").is_file() else None
    assert keys is None and not (tmp_path / "merged" / "adapter_config.json").exists()
    c = load_adapter(tmp_path / "merged")
    with torch.no_grad():
        torch.testing.assert_close(c.model(**c.collate([SAMPLE])).logits, ref, rtol=1e-4, atol=1e-4)


def test_merged_export_loads_in_plain_transformers(tmp_path):
    import transformers

    a = build_adapter(ModelConfig(tiny=TINY))
    a.save(tmp_path / "m")
    model = transformers.AutoModelForImageTextToText.from_pretrained(tmp_path / "m")
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "m")
    assert type(model).__name__ == "LlavaOnevisionForConditionalGeneration"
    assert tok.chat_template and tok.convert_tokens_to_ids("<video>") == model.config.video_token_index
    batch = a.collate([SAMPLE])
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, a.model(**batch).logits)


def test_gradient_checkpointing_same_gradients():
    grads = []
    for ckpt in (False, True):
        a = build_adapter(ModelConfig(tiny=TINY, freeze=["vision"], gradient_checkpointing=ckpt))
        assert getattr(a.model, "is_activation_checkpointing", None) == ckpt
        _step(a)
        grads.append(a.model.lm_head.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_attention_choice():
    has_flash = importlib.util.find_spec("flash_attn") is not None
    assert resolve_attn("auto") == ("flash_attention_2" if has_flash and torch.cuda.is_available() else "sdpa")
    assert resolve_attn("eager") == "eager"
    if not has_flash:
        with pytest.raises(ImportError, match="flash_attn is not installed"):
            resolve_attn("flash_attention_2")
        cfg = ModelConfig(tiny=TINY, attn_implementation="flash_attention_2")
        with pytest.raises(ImportError):
            build_adapter(cfg)
        assert cfg.attn_implementation == "flash_attention_2"
    a = build_adapter(ModelConfig(tiny=TINY, attn_implementation="eager"))
    assert a.model.config._attn_implementation == "eager"


def test_bad_inputs_name_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="model.family='nope'"):
        build_adapter(ModelConfig(family="nope"))
    with pytest.raises(FileNotFoundError, match="not a model folder"):
        load_adapter(tmp_path)
    with pytest.raises(FileNotFoundError, match="qa/"):
        build_adapter(ModelConfig(tiny={**TINY, "corpus": [str(tmp_path)]}))
    a = build_adapter(ModelConfig(tiny=TINY))
    with pytest.raises(ValueError, match="sample 'q'.*no assistant"):
        a.collate([Sample(FRAMES, [{"role": "user", "content": "hi"}], "q")])


def test_folder_without_chat_template_gets_the_family_format(tmp_path):
    a = build_adapter(ModelConfig(family="video_llava", tiny=TINY))
    a.save(tmp_path / "m")
    (tmp_path / "m" / "chat_template.jinja").unlink(missing_ok=True)
    cfg_file = tmp_path / "m" / "tokenizer_config.json"
    data = json.loads(cfg_file.read_text())
    data.pop("chat_template", None)
    cfg_file.write_text(json.dumps(data))
    b = load_adapter(tmp_path / "m")
    ids = b.encode(Sample([], [{"role": "user", "content": "Hi"}]), train=False)["input_ids"]
    assert b.tokenizer.decode(ids) == "USER: Hi ASSISTANT:"


def test_lora_adapter_export_over_a_local_base_references_it(tmp_path):
    build_adapter(ModelConfig(tiny=TINY)).save(tmp_path / "base")
    a = build_adapter(ModelConfig(path=str(tmp_path / "base"), lora={"r": 2}))
    with torch.no_grad():
        for n, p in a.model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    a.save(tmp_path / "lora", lora="adapter")
    meta = json.loads((tmp_path / "lora" / "dreamframe_model.json").read_text())
    assert meta["base_path"] == str((tmp_path / "base").resolve())
    assert not (tmp_path / "lora" / "model.safetensors").exists()  # the base is not copied
    b = load_adapter(tmp_path / "lora")
    batch = a.collate([SAMPLE])
    with torch.no_grad():
        torch.testing.assert_close(b.model(**batch).logits, a.model(**batch).logits, rtol=1e-4, atol=1e-4)
