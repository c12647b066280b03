"""The dataset card: README.md with the YAML header that `datasets` and the Hugging Face Hub read.

    import datasets
    ds = datasets.load_dataset("runs/demo/data")      # QA table per split, `frames` decoded as images

`datasets` picks the image-folder builder from the card's `configs`: each split reads its
`<split>-metadata.parquet` (the QA table plus `frames_file_names`, the QA pair's frames relative to
the folder), which the builder turns into a `frames` column of images - so a pushed folder shows its
frames on the Hub, and frames are stored once, not copied into every QA row. The header also carries
the features, the license, and the provenance from the manifest (generator, backends, model ids,
seed, creation time).

`datasets` names a local folder's cache entry after the folder's base name and a hash of the card's
configs (datasets' `LocalDatasetModuleFactory`), not after its path or files: two folders called `data`
with the same card would share one cache entry and the second would return the first one's rows. So the
config's `description` (a BuilderConfig field, hashed with the rest) carries a fingerprint of the folder's
content - the QA tables, the resolved config and the time of the last finalize - and a folder that a
resumed or extended run changed is read again. An empty split is left out of the configs (datasets
cannot build a split from a 0-row table), so a folder with only a train split loads as one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CARD_NAME = "README.md"
METADATA_SUFFIX = "-metadata.parquet"
PROCEDURAL_LICENSE = "apache-2.0"
"""Procedural output comes from this project's own code; models' terms apply otherwise (license: other)."""


def metadata_name(split: str) -> str:
    return f"{split}{METADATA_SUFFIX}"


def card_entries(splits: tuple[str, ...]) -> set[str]:
    """The names this module writes at the top of a dataset folder."""
    return {CARD_NAME, *(metadata_name(s) for s in splits)}


def models_used(manifest: dict[str, Any]) -> list[str]:
    """The models whose output is in the dataset (their terms decide the data's license)."""
    cfg, backends = manifest.get("config", {}), manifest.get("backends", {})
    found = [s.get("llm_model") for s in manifest.get("sources", [])]
    if backends.get("render") == "diffusion":
        diffusion = cfg.get("render", {}).get("diffusion", {})
        found += [diffusion.get("model"), diffusion.get("refiner"), diffusion.get("lora")]
    return sorted({m for m in found if m})


def content_fingerprint(tables: dict[str, bytes], manifest: dict[str, Any]) -> str:
    """A hash of what `load_dataset` returns: the metadata tables' bytes, the resolved config and when the
    folder was last finalized (a re-rendered movie keeps its QA rows but gets a new finalize time)."""
    import hashlib
    import json

    h = hashlib.sha256()
    for split in sorted(tables):
        h.update(split.encode() + b"\0" + tables[split])
    h.update(json.dumps([manifest.get("config"), manifest.get("created_at")], sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def card_data(manifest: dict[str, Any], splits: tuple[str, ...], fingerprint: str = ""):
    """The card's YAML header as a `huggingface_hub.DatasetCardData`; `splits`: the non-empty ones."""
    import datasets
    from huggingface_hub import DatasetCardData

    from dreamframe.frames import recorded_rule
    from dreamframe.schema import qa_arrow_schema

    features = datasets.Features.from_arrow_schema(qa_arrow_schema())
    features["frames"] = datasets.List(datasets.Image())
    models = models_used(manifest)
    counts = manifest.get("counts", {})
    rule = recorded_rule(manifest)
    return DatasetCardData(
        license="other" if models else PROCEDURAL_LICENSE,
        license_name="terms-of-the-generating-models" if models else None,
        language=["en"],
        pretty_name="DreamFrame synthetic video QA",
        task_categories=["visual-question-answering", "video-text-to-text"],
        tags=["synthetic", "dreamframe", "video-qa"],
        size_categories=[_size_category(counts.get("qa", 0))],
        configs=[{
            "config_name": "default", "drop_labels": True,
            # hashed by datasets into the cache entry's name: one entry per content, not per folder name
            "description": f"DreamFrame dataset, content fingerprint {fingerprint}",
            "metadata_filenames": [metadata_name(s) for s in splits],
            # the first frame of each movie makes `datasets` choose its image-folder builder
            "data_files": [{"split": s, "path": [metadata_name(s), "frames/*/00000.jpg"]} for s in splits],
        }],
        dataset_info={"features": features._to_yaml_list()},
        dreamframe={
            "format": manifest.get("format"), "format_version": manifest.get("format_version"),
            "generator": f"dreamframe {manifest.get('packages', {}).get('dreamframe', '?')}",
            "created_at": manifest.get("created_at"), "seed": manifest.get("seed"),
            "backends": manifest.get("backends", {}), "models": models,
            "frame_sampling": None if rule is None else str(rule),
            "counts": {k: counts.get(k) for k in ("movies", "frames", "qa")},
            "content_fingerprint": fingerprint,
        },
    )


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def write_card(folder: Any, manifest: dict[str, Any], splits: tuple[str, ...]) -> Path:
    """Write `<split>-metadata.parquet` per split and README.md into a finished `DatasetFolder`; the card's
    config lists the splits that have rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import DatasetCard

    from dreamframe.atomic import atomic_write_bytes, atomic_write_text

    root = Path(folder.root)
    tables, filled = {}, []
    for split in splits:
        table = pq.read_table(folder.qa_path(split))
        table = table.append_column("frames_file_names", table.column("frame_paths"))
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf, compression="zstd")
        tables[split] = buf.getvalue().to_pybytes()
        atomic_write_bytes(root / metadata_name(split), tables[split])
        if table.num_rows:
            filled.append(split)
    data = card_data(manifest, tuple(filled), content_fingerprint(tables, manifest))
    models = data.dreamframe["models"]
    terms = (f"Frames and text were generated with {', '.join(models)}; their licenses and terms of use apply "
             "to this data." if models else "Generated procedurally by DreamFrame's own code (Apache-2.0).")
    body = "\n".join([
        f"# {data.pretty_name}", "",
        f"{data.dreamframe['counts']['movies']} movies, {data.dreamframe['counts']['frames']} keyframes and "
        f"{data.dreamframe['counts']['qa']} QA pairs written by DreamFrame (backends: "
        + ", ".join(f"{k} {v}" for k, v in data.dreamframe["backends"].items()) + ").", "",
        "```python", "import datasets", 'ds = datasets.load_dataset("path/to/this/folder")   # frames decode as images',
        "```", "",
        "Each row is one QA pair; `frames` are the keyframes of its clip in story order, `frame_paths` the "
        "same frames as paths; `frame_order` says whether a model is handed them `forward` or `reversed`. "
        "Temporal and action questions come as minimal pairs: the two twins share a `pair_id` (null: "
        "unpaired), one hands the other's frames in reverse order or redraws its action, and their answers "
        "differ. `manifest.json` holds the full configuration and provenance; `movies/` the structured movies.",
        "",
        f"License: {terms}", "",
    ])
    card = DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
    path = root / CARD_NAME
    atomic_write_text(path, str(card))
    return path
