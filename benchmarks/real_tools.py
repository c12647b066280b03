"""This project's data and exports through the real third-party code, not re-implementations.

    python benchmarks/real_tools.py --lf-python /work/venvs/lf/bin/python --llava-next /path/to/LLaVA-NeXT \
        [--llava-python PY] [--floor-python /work/venvs/ds-floor/bin/python] [--work DIR]

Optional dependencies, not in CI or the test suite (docs/exports.md: how to install them, and the output):
- LLaMA-Factory in its own venv (`pip install torch==2.13.0 && pip install llamafactory`);
- a LLaVA-NeXT checkout; its python (default: the LLaMA-Factory venv's) needs torch, transformers,
  deepspeed and decord (`pip install deepspeed decord` there);
- `--floor-python`: a venv with the lowest `datasets` pyproject.toml allows (and pillow).
It writes two dataset folders named `data` (6 and 3 movies), exports the first in every format, and prints
one JSON line per check:
1. `datasets`: `load_dataset` on both folders with one cache, here, in a fresh process and (given) under the
   lowest declared `datasets`: each returns its own folder's QA ids per split.
2. LLaMA-Factory: the `llamafactory` and `sharegpt` exports copied into a `data/` folder and registered in its
   `dataset_info.json` (LLaMA-Factory's README), read by its own `get_dataset_list` + `_load_single_dataset`
   (which aligns rows with its converter), each row's video through the qwen2_vl plugin's
   `_regularize_videos`: rows, roles, frames per row, frames equal to the export's.
3. LLaVA-NeXT: `LazySupervisedDataset` (llava/train/train.py) on the llava export with the flags the export
   printed, and with its video script's `--frames_upbound 64 --force_sample True`: frames per sample.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOAD = """
import json, sys, datasets
ds = datasets.load_dataset(sys.argv[1], cache_dir=sys.argv[2])
print(json.dumps({"datasets": datasets.__version__, "ids": {s: sorted(ds[s]["id"]) for s in ds},
                  "frames_in_row_0": len(ds[next(iter(ds))][0]["frames"])}))
"""
LF_CHECK = """
import json, sys
from collections import Counter
import llamafactory
from transformers import Seq2SeqTrainingArguments
from llamafactory.data.loader import _load_single_dataset
from llamafactory.data.parser import get_dataset_list
from llamafactory.data.mm_plugin import get_mm_plugin
from llamafactory.hparams import DataArguments, ModelArguments
data_dir, out_dir, names, expected = sys.argv[1], sys.argv[2], sys.argv[3].split(","), json.loads(sys.argv[4])
plugin = get_mm_plugin("qwen2_vl", image_token="<|image_pad|>", video_token="<|video_pad|>")
report = {"llamafactory": llamafactory.__version__}
for name in names:
    data_args = DataArguments(dataset_dir=data_dir, dataset=name)
    (attr,) = get_dataset_list([name], data_dir)
    rows = _load_single_dataset(attr, ModelArguments(model_name_or_path="none"), data_args,
                                Seq2SeqTrainingArguments(output_dir=out_dir))
    frames, plugin_frames, roles, same = Counter(), Counter(), Counter(), 0
    for row, exported in zip(rows, expected[name], strict=True):  # rows keep the file's order
        (video,) = row["_videos"]
        frames[len(video)] += 1
        same += video == exported
        got = plugin._regularize_videos([video], image_max_pixels=768 * 768, image_min_pixels=32 * 32,
                                        video_fps=2.0, video_maxlen=128)["videos"][0]
        plugin_frames[len(got)] += 1
        roles[",".join(m["role"] for m in row["_prompt"] + row["_response"])] += 1
    report[name] = {"rows": len(rows), "frames_per_row": dict(sorted(frames.items())),
                    "frames_equal_export": same, "after_qwen2_vl_plugin": dict(sorted(plugin_frames.items())),
                    "roles": dict(roles)}
print(json.dumps(report))
"""
LLAVA_CHECK = """
import json, os, sys, types
from collections import Counter
repo, data_path, flagsets = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, repo)
pkg = types.ModuleType("llava")  # llava/__init__.py imports every model class: not needed to read data
pkg.__path__ = [os.path.join(repo, "llava")]
sys.modules["llava"] = pkg
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, SiglipImageProcessor
from llava import conversation as conversation_lib
from llava.train.train import DataArguments, LazySupervisedDataset
tok = Tokenizer(models.WordLevel({"[UNK]": 0, "[PAD]": 1}, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
conversation_lib.default_conversation = conversation_lib.conv_templates["plain"]  # any template: frames are the same
records = json.load(open(data_path))
report = {}
for label, flags in flagsets.items():
    args = DataArguments(data_path=data_path, is_multimodal=True, **flags)
    args.image_processor, args.mm_use_im_start_end = SiglipImageProcessor(), False
    ds = LazySupervisedDataset(data_path, tokenizer, args)
    per_sample, grown = Counter(), 0
    for i in range(len(ds)):
        pixels = ds[i]["image"][0][0]
        per_sample[pixels.shape[0]] += 1
        grown += pixels.shape[0] != len(records[i]["frames"])
    report[label] = {"samples": len(ds), "frames_per_sample": dict(sorted(per_sample.items())),
                     "samples_not_as_exported": grown}
print(json.dumps(report))
"""


def run(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} ...: exit {proc.returncode}\n{proc.stderr[-4000:]}")
    return proc.stdout


def own_ids(folder: Path) -> dict[str, list[str]]:
    from dreamframe.dataset import DatasetFolder

    ids = {s: sorted(q.id for m in DatasetFolder(folder).movies(s) for q in m.qa) for s in ("train", "test")}
    return {s: v for s, v in ids.items() if v}


def check_datasets(folders: list[Path], cache: Path, floor: str | None) -> dict:
    """Each folder's own rows from `load_dataset`, in this process, a fresh one and the floor's."""
    import datasets

    out: dict = {"datasets": datasets.__version__}
    for where, python in [("this process", None), ("fresh process", sys.executable)] + ([("floor", floor)] if floor else []):
        got = []
        for folder in folders:
            if python is None:
                ds = datasets.load_dataset(str(folder), cache_dir=str(cache))
                ids = {s: sorted(ds[s]["id"]) for s in ds}
            else:
                res = json.loads(run([python, "-c", LOAD, str(folder), str(cache)], env={"HF_DATASETS_OFFLINE": "1"}))
                ids, out[f"{where} datasets"] = res["ids"], res["datasets"]
            got.append({s: len(v) for s, v in ids.items()} if ids == own_ids(folder) else "OTHER ROWS")
        out[where] = got
    return out


def export(data: Path, fmt: str, out: Path) -> dict:
    run([sys.executable, "-m", "data_gen.export", "--in", str(data), "--format", fmt, "--out", str(out),
         "--split", "all", "--progress", "false"])
    return json.loads(out.with_name(out.stem + ".export.json").read_text())


def check_llamafactory(data: Path, work: Path, python: str) -> dict:
    """Exports copied into an LLaMA-Factory-like `data/` folder with their entries, read by its own loader."""
    lf_data = work / "LLaMA-Factory" / "data"
    lf_data.mkdir(parents=True)
    info, expected = {"identity": {"file_name": "identity.json"}}, {}
    for fmt in ("llamafactory", "sharegpt"):
        summary = export(data, fmt, work / "exports" / f"dreamframe_{fmt}.json")
        src = work / "exports" / f"dreamframe_{fmt}.json"
        shutil.copy(src, lf_data / src.name)
        info.update(summary["dataset_info"])
        expected[src.stem] = [r["videos"][0] for r in json.loads(src.read_text())]
    (lf_data / "dataset_info.json").write_text(json.dumps(info, indent=2))
    return json.loads(run([python, "-c", LF_CHECK, str(lf_data), str(work / "lf_out"), ",".join(expected),
                           json.dumps(expected)], cwd=lf_data.parent).strip().splitlines()[-1])


def check_llava_next(data: Path, work: Path, repo: str, python: str) -> dict:
    out = work / "exports" / "llava_train.json"
    summary = export(data, "llava", out)
    printed = dict(zip(summary["train_flags"][::2], summary["train_flags"][1::2]))
    flagsets = {
        "printed flags": {"video_folder": printed["--video_folder"], "video_fps": int(printed["--video_fps"]),
                          "frames_upbound": int(printed["--frames_upbound"]), "force_sample": printed["--force_sample"] == "True"},
        "its video script's --frames_upbound 64 --force_sample True": {
            "video_folder": str(out.parent), "frames_upbound": 64, "force_sample": True}}
    report = json.loads(run([python, "-c", LLAVA_CHECK, repo, str(out), json.dumps(flagsets)],
                            cwd=work).strip().splitlines()[-1])
    report["export"] = {"frames_per_clip": summary["frames_per_clip"], "train_flags": " ".join(summary["train_flags"][2:])}
    git = Path(repo) / ".git"
    if git.exists():
        report["commit"] = run(["git", "-C", repo, "rev-parse", "--short", "HEAD"]).strip()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lf-python", help="python of a venv with llamafactory")
    ap.add_argument("--llava-next", help="a LLaVA-NeXT checkout")
    ap.add_argument("--llava-python", help="python for LLaVA-NeXT (default: --lf-python)")
    ap.add_argument("--floor-python", help="python of a venv with the lowest declared datasets")
    ap.add_argument("--work", help="work folder (default: a temporary one, removed at the end)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="real_tools_"))
    try:
        folders = [work / "a" / "data", work / "b" / "data"]
        for folder, n in zip(folders, (6, 3)):
            run([sys.executable, "-m", "data_gen.generate", "--config", str(REPO / "configs/data_gen/tiny.yaml"),
                 "--num-movies", str(n), "--out", str(folder)])
        print(json.dumps({"check": "datasets.load_dataset, two folders named data",
                          **check_datasets(folders, work / "hf_cache", args.floor_python)}), flush=True)
        if args.lf_python:
            print(json.dumps({"check": "LLaMA-Factory loader", **check_llamafactory(folders[0], work, args.lf_python)}),
                  flush=True)
        if args.llava_next:
            python = args.llava_python or args.lf_python or sys.executable
            print(json.dumps({"check": "LLaVA-NeXT LazySupervisedDataset",
                              **check_llava_next(folders[0], work, args.llava_next, python)}), flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
