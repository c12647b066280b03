"""Style embedding files and how they enter a diffusers pipeline (data_gen/style/textual_inversion.py
learns them): diffusers' textual-inversion safetensors layout ({"clip_l", "clip_g"} for SDXL, {token: vector}
for one encoder; metadata `token`, `mode`, ...), loaded as a new token through `load_textual_inversion`, or
- mode keyword, the paper's - written into the style keyword's own rows (the authors' `set_XLembedding`)
and put back on unload.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any


def text_encoders(pipe) -> list[tuple[str, Any, Any]]:
    """(file key, tokenizer, text encoder) for every text encoder the pipeline has."""
    out = []
    if getattr(pipe, "text_encoder", None) is not None:
        out.append(("clip_l", pipe.tokenizer, pipe.text_encoder))
    if getattr(pipe, "text_encoder_2", None) is not None:
        out.append(("clip_g", pipe.tokenizer_2, pipe.text_encoder_2))
    return out


def keyword_token_id(tokenizer, keyword: str) -> int:
    """The id of `keyword`'s single token (CLIP lower-cases); an error naming it when it is several."""
    ids = tokenizer(keyword, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise ValueError(f"style keyword {keyword!r} is {len(ids)} tokens {pieces} in {type(tokenizer).__name__}, not one: "
                         "style.textual_inversion.mode=keyword re-learns a single token (as the paper does); "
                         "use mode=new_token for this keyword")
    return ids[0]


_REPLACED: weakref.WeakKeyDictionary[Any, dict[str, list]] = weakref.WeakKeyDictionary()
"""pipeline -> {keyword: [(encoder, row id, original row)]}: what `load_style_embedding` overwrote in
mode keyword, for `unload_style_embedding` to put back."""


def _remove_token(pipe, token: str) -> None:
    replaced = _REPLACED.get(pipe, {}).pop(token, None)
    if replaced is not None:
        import torch

        with torch.no_grad():
            for encoder, row, original in replaced:
                encoder.get_input_embeddings().weight[row] = original
        return
    for _key, tokenizer, encoder in text_encoders(pipe):
        if token in tokenizer.get_added_vocab():  # a word of the base vocabulary is never removed
            pipe.unload_textual_inversion(token, tokenizer=tokenizer, text_encoder=encoder)


def embedding_file_bytes(learned: dict, token: str, meta: dict[str, Any]) -> bytes:
    """The diffusers textual-inversion file: {"clip_l", "clip_g"} for SDXL, {token: vector} for one encoder."""
    from safetensors.torch import save

    tensors = learned if len(learned) == 2 else {token: next(iter(learned.values()))}
    metadata = {"token": token, **{k: str(v) for k, v in meta.items()}}
    return save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


def read_embedding_file(path: str | Path) -> tuple[dict, dict[str, str]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata() or {})


def load_style_embedding(pipe, path: str | Path, token: str | None = None) -> str:
    """Load a saved style embedding into `pipe`; returns the token prompts carry the style with. A file
    of mode keyword overwrites the keyword's own rows (kept for `unload_style_embedding`); any other goes
    through diffusers' load_textual_inversion as a new token."""
    tensors, meta = read_embedding_file(path)
    token = token or meta.get("token")
    if not token:
        raise ValueError(f"{path}: no token given and none recorded in the file's metadata")
    encoders = text_encoders(pipe)
    if {"clip_l", "clip_g"} <= set(tensors):
        by_key = {"clip_l": tensors["clip_l"], "clip_g": tensors["clip_g"]}
        if len(encoders) != 2 and not (len(encoders) == 1 and encoders[0][0] == "clip_g"):
            raise ValueError(f"{path}: an SDXL (two text encoder) embedding cannot load into {type(pipe).__name__}")
    else:
        if len(encoders) != 1:
            raise ValueError(f"{path}: a one-encoder embedding cannot load into {type(pipe).__name__}, which has two")
        by_key = {encoders[0][0]: next(iter(tensors.values()))}
    if meta.get("mode") == "keyword":
        import torch

        rows = [(enc, keyword_token_id(tok, token)) for _key, tok, enc in encoders]  # all checked before writing
        replaced = _REPLACED.setdefault(pipe, {})
        if token in replaced:
            raise ValueError(f"style keyword {token!r} already carries a loaded embedding; unload it first")
        replaced[token] = []
        with torch.no_grad():
            for (key, _tok, enc), (_enc, row) in zip(encoders, rows):
                table = enc.get_input_embeddings().weight
                replaced[token].append((enc, row, table[row].detach().clone()))
                table[row] = by_key[key][0].to(table.dtype)
    elif len(by_key) == 2:
        for key, tok, enc in encoders:
            pipe.load_textual_inversion(by_key[key], token=token, tokenizer=tok, text_encoder=enc)
    else:
        pipe.load_textual_inversion(str(path), token=token)
    return token


def unload_style_embedding(pipe, token: str) -> None:
    """Undo `load_style_embedding` (or a `keep_token` training); a no-op when `token` is not loaded."""
    _remove_token(pipe, token)
