"""The dataset card: `datasets.load_dataset(<folder>)` gives the QA table with its frames as images."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dreamframe.dataset import DatasetFolder
from dreamframe.dataset_card import card_data, models_used


def test_load_dataset_on_the_folder_gives_images(paired_dataset, tmp_path, monkeypatch):
    import datasets

    dataset = paired_dataset  # minimal pairs: pair_id and frame_order are columns, twin keyframes are frames

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    ds = datasets.load_dataset(str(dataset), cache_dir=str(tmp_path / "cache"))
    folder = DatasetFolder(dataset)
    for split in ("train", "test"):
        expected = {q.id: q for m in folder.movies(split) for q in m.qa}
        assert ds[split].num_rows == len(expected) > 0
        assert isinstance(ds[split].features["frames"], datasets.List)
        assert isinstance(ds[split].features["frames"].feature, datasets.Image)
        for row in ds[split].select(range(0, ds[split].num_rows, 7)):
            qa = expected[row["id"]]
            assert row["question"] == qa.question and row["answer"] == qa.answer
            assert len(row["frames"]) == len(qa.frame_indices)
            assert (row["pair_id"], row["frame_order"]) == (qa.pair_id, qa.frame_order)
            for image, rel in zip(row["frames"], row["frame_paths"]):
                assert isinstance(image, Image.Image)
                assert np.array_equal(np.asarray(image), np.asarray(Image.open(dataset / rel)))


def test_card_header_has_license_features_and_provenance(dataset):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(dataset / "README.md")
    data = card.data.to_dict()
    manifest = DatasetFolder(dataset).manifest()
    assert data["license"] == "apache-2.0"  # procedural backends only
    assert [c["config_name"] for c in data["configs"]] == ["default"]
    features = {f["name"]: f for f in data["dataset_info"]["features"]}
    assert features["frames"] == {"name": "frames", "list": "image"} and "question" in features
    assert features["pair_id"]["dtype"] == features["frame_order"]["dtype"] == "string"  # minimal pairs
    prov = data["dreamframe"]
    assert prov["backends"] == manifest["backends"] and prov["seed"] == manifest["seed"]
    assert prov["counts"]["qa"] == manifest["counts"]["qa"] and prov["created_at"] == manifest["created_at"]


def test_models_that_wrote_the_data_set_the_license():
    manifest = {"sources": [{"story": "llm", "llm_backend": "openai", "llm_model": "gpt-4o"}],
                "backends": {"story": "llm", "render": "diffusion"},
                "config": {"render": {"diffusion": {"model": "sdxl-base", "refiner": None}}}, "counts": {"qa": 5}}
    assert models_used(manifest) == ["gpt-4o", "sdxl-base"]
    data = card_data(manifest, ("train", "test"))
    assert data.license == "other" and data.dreamframe["models"] == ["gpt-4o", "sdxl-base"]
