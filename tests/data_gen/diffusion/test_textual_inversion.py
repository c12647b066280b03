"""Style Immobilization: only the style row moves (the keyword's own token in paper mode, a new token
otherwise), the file reloads into a fresh pipeline and unloads cleanly, paper preset."""

import pytest
import torch
from PIL import Image

from data_gen.style.embeddings import (embedding_file_bytes, keyword_token_id, load_style_embedding,
                                       read_embedding_file, text_encoders, unload_style_embedding)
from data_gen.style.textual_inversion import (PAPER_LR_STAGES, TextualInversionConfig, lr_at, parse_lr_stages,
                                              prepare_images, style_token, train_style_embedding)

REFS = [Image.new("RGB", (40, 40), (200, 30, 30)), Image.new("RGB", (40, 40), (30, 30, 200))]
TOKEN = "<gothic-m00007>"


def _cfg(**kw) -> TextualInversionConfig:
    return TextualInversionConfig(**{"lr_stages": "3:1e-2", "reference_size": 32, "gradient_checkpointing": False,
                                     "mode": "new_token", **kw})


@pytest.mark.parametrize("kind,encoders", [("tiny-sd", ["clip_l"]), ("tiny-sdxl", ["clip_l", "clip_g"])])
def test_only_style_rows_change(pipes, kind, encoders):
    pipe = pipes(kind)
    frozen = {f"{name}.{k}": v.detach().clone() for name in ("unet", "vae")
              for k, v in getattr(pipe, name).state_dict().items()}
    tables = {key: enc.get_input_embeddings().weight.detach().clone() for key, _, enc in text_encoders(pipe)}
    others = {f"{key}.{k}": v.detach().clone() for key, _, enc in text_encoders(pipe)
              for k, v in enc.state_dict().items() if "token_embedding" not in k}
    n = {key: t.shape[0] for key, t in tables.items()}

    learned, stats = train_style_embedding(pipe, REFS, "Gothic", TOKEN, _cfg(), progress=False, keep_token=True)

    assert set(learned) == set(encoders) and stats["steps"] == 3
    for key, tok, enc in text_encoders(pipe):
        table = enc.get_input_embeddings().weight
        assert table.shape[0] == n[key] + 1 and tok.convert_tokens_to_ids(TOKEN) == n[key]
        assert torch.equal(table[: n[key]], tables[key]), f"{key}: a non-style row changed"
        assert torch.equal(table[n[key]], learned[key][0])
        assert stats["moved"][key] > 1e-3, f"{key}: the style row did not move"
        for k, v in enc.state_dict().items():
            if "token_embedding" not in k:
                assert torch.equal(v, others[f"{key}.{k}"]), f"text encoder {key}.{k} changed"
    for name in ("unet", "vae"):
        for k, v in getattr(pipe, name).state_dict().items():
            assert torch.equal(v, frozen[f"{name}.{k}"]), f"{name}.{k} changed"
    unload_style_embedding(pipe, TOKEN)
    assert all(torch.equal(enc.get_input_embeddings().weight, tables[key]) for key, _, enc in text_encoders(pipe))


@pytest.mark.parametrize("kind", ["tiny-sd", "tiny-sdxl"])
def test_saved_file_reloads_into_fresh_pipeline_and_generates(pipes, kind, tmp_path):
    pipe = pipes(kind)
    learned, _ = train_style_embedding(pipe, REFS, "Gothic", TOKEN, _cfg(init="keyword"), progress=False)
    assert TOKEN not in pipe.tokenizer.get_vocab()  # the training pipeline is left clean
    path = tmp_path / "m00007.safetensors"
    path.write_bytes(embedding_file_bytes(learned, TOKEN, {"keyword": "Gothic"}))
    tensors, meta = read_embedding_file(path)
    assert meta["token"] == TOKEN and meta["keyword"] == "Gothic"
    assert set(tensors) == ({"clip_l", "clip_g"} if kind == "tiny-sdxl" else {TOKEN})

    fresh = pipes(kind)
    gen = lambda p: fresh(p, num_inference_steps=2, height=32, width=32, guidance_scale=1.0, output_type="np",
                          generator=torch.Generator().manual_seed(20)).images[0]
    without = gen(f"an image in {TOKEN} style")  # unknown token: split into pieces
    assert load_style_embedding(fresh, path) == TOKEN
    assert fresh.tokenizer.tokenize(f"an image in {TOKEN} style")[3] == TOKEN
    for key, tok, enc in text_encoders(fresh):
        assert torch.equal(enc.get_input_embeddings().weight[tok.convert_tokens_to_ids(TOKEN)], learned[key][0])
    with_token = gen(f"an image in {TOKEN} style")
    assert with_token.shape == (32, 32, 3) and abs(with_token - without).max() > 0


def test_paper_lr_stages_and_step_count():
    stages = parse_lr_stages(PAPER_LR_STAGES)
    assert sum(s for s, _ in stages) == 400
    assert [lr_at(stages, s) for s in (0, 3, 4, 11, 12, 24, 25, 44, 45, 79, 80, 139, 140, 239, 240, 399)] == [
        1e-3, 1e-3, 9e-4, 9e-4, 8e-4, 8e-4, 7e-4, 7e-4, 6e-4, 6e-4, 5e-4, 5e-4, 4e-4, 4e-4, 3e-4, 3e-4]
    cfg = TextualInversionConfig()
    assert (cfg.batch_size, cfg.grad_accumulation, cfg.betas, cfg.weight_decay, cfg.grad_clip) == (1, 2, [0.9, 0.999], 1e-2, 1.0)
    assert len(cfg.templates) * len(cfg.variations) == 20 and cfg.reference_size == 768 and cfg.init == "randn"
    assert cfg.mode == "keyword" and cfg.init_std == 0.01 and style_token(cfg, "Gothic", "m00007") == "gothic"
    with pytest.raises(ValueError, match="lr_stages"):
        parse_lr_stages("4:abc")


def test_prepare_images_autocontrast_resize_flip():
    img = Image.new("RGB", (20, 10), (100, 100, 100))
    img.paste((150, 150, 150), (0, 0, 10, 10))
    x = prepare_images([img], 16)
    assert x.shape == (2, 3, 16, 16)
    assert x.min() == -1 and x.max() == 1  # autocontrast stretched 100..150 to 0..255
    assert torch.equal(x[1], x[0].flip(-1))
    assert prepare_images([img], 16, flip=False).shape[0] == 1


def test_paper_mode_relearns_the_keywords_own_token_in_both_encoders(pipes):
    """Paper mode: the keyword's existing row (no new token) in both SDXL encoders is reset to
    randn * 0.01 and trained; every other row and weight is untouched; afterwards the pipeline is as before."""
    pipe = pipes("tiny-sdxl")
    cfg = _cfg(mode="keyword")
    tables = {key: enc.get_input_embeddings().weight.detach().clone() for key, _, enc in text_encoders(pipe)}
    rows = {key: keyword_token_id(tok, "gothic") for key, tok, _ in text_encoders(pipe)}
    learned, stats = train_style_embedding(pipe, REFS, "Gothic", "gothic", cfg, progress=False, keep_token=True)
    assert set(learned) == {"clip_l", "clip_g"}
    for key, tok, enc in text_encoders(pipe):
        table, row = enc.get_input_embeddings().weight, rows[key]
        assert table.shape == tables[key].shape and len(tok) == tables[key].shape[0], "no token was added"
        others = torch.arange(table.shape[0]) != row
        assert torch.equal(table[others], tables[key][others]), f"{key}: a row other than the keyword's changed"
        assert torch.equal(table[row], learned[key][0]) and not torch.equal(table[row], tables[key][row])
        # learned from randn * 0.01, not from the keyword's pretrained row
        assert (learned[key][0] - tables[key][row]).norm() > (learned[key][0]).norm() * 0.5
        assert stats["moved"][key] > 1e-3
    unload_style_embedding(pipe, "gothic")  # keep_token: no loaded file to undo; a no-op, never a vocab removal
    assert pipe.tokenizer.tokenize("gothic") == ["gothic</w>"]

    fresh = pipes("tiny-sdxl")
    train_style_embedding(fresh, REFS, "Gothic", "gothic", cfg, progress=False)
    for key, _, enc in text_encoders(fresh):
        assert torch.equal(enc.get_input_embeddings().weight, tables[key]), "training must leave the pipeline as it was"


def test_paper_mode_file_loads_into_the_keyword_and_unloads(pipes, tmp_path):
    pipe = pipes("tiny-sdxl")
    learned, _ = train_style_embedding(pipe, REFS, "Gothic", "gothic", _cfg(mode="keyword"), progress=False)
    path = tmp_path / "m00007.safetensors"
    path.write_bytes(embedding_file_bytes(learned, "gothic", {"keyword": "Gothic", "mode": "keyword"}))
    fresh = pipes("tiny-sdxl")
    before = {key: enc.get_input_embeddings().weight.detach().clone() for key, _, enc in text_encoders(fresh)}
    gen = lambda: fresh("an image in gothic style", num_inference_steps=2, height=32, width=32, guidance_scale=1.0,
                        output_type="np", generator=torch.Generator().manual_seed(20)).images[0]
    plain = gen()
    assert load_style_embedding(fresh, path) == "gothic"
    for key, tok, enc in text_encoders(fresh):
        assert len(tok) == before[key].shape[0]
        assert torch.equal(enc.get_input_embeddings().weight[keyword_token_id(tok, "gothic")], learned[key][0])
    styled = gen()
    assert abs(styled - plain).max() > 0
    with pytest.raises(ValueError, match="already carries"):
        load_style_embedding(fresh, path)
    unload_style_embedding(fresh, "gothic")
    assert all(torch.equal(enc.get_input_embeddings().weight, before[key]) for key, _, enc in text_encoders(fresh))
    assert abs(gen() - plain).max() == 0


def test_paper_mode_names_a_keyword_that_is_not_one_token(pipes):
    pipe = pipes("tiny-sdxl")
    before = {key: enc.get_input_embeddings().weight.detach().clone() for key, _, enc in text_encoders(pipe)}
    with pytest.raises(ValueError, match=r"'gothicnoir' is \d+ tokens.*mode=new_token"):
        train_style_embedding(pipe, REFS, "Gothicnoir", "gothicnoir", _cfg(mode="keyword"), progress=False)
    assert all(torch.equal(enc.get_input_embeddings().weight, before[key]) for key, _, enc in text_encoders(pipe))
