"""Official evaluation settings per model family and benchmark (`python -m eval.run --protocol official`).

Data, not code: `eval/families/<family>.yaml` holds what a family's authors published for every video
benchmark (frames, fps, per-frame pixels, video tokens, prompt, decoding, with sources), and
`eval/tasks/<bench>/protocols.yaml` what they published for that benchmark, over the family's. A field
no source states reads "not published". The harness applies what it can express - a fixed frame count
and a sampling rule - and records the rest per task in the results (`per_task.<task>.protocol`), with
what was not applied and why (an fps-based frame count, the adapter's own pixel budget, the
benchmark's prompt), so a number is never presented as the authors' setting when it is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from dreamframe.clip import ClipSpec

FAMILIES_DIR = Path(__file__).resolve().parent / "families"
NOT_PUBLISHED = "not published"
FIELDS = ("num_frames", "frame_sampling", "fps", "max_frames", "frame_pixels", "video_tokens", "prompt",
          "max_new_tokens", "decoding")
BENCHMARKS = ("mvbench", "videomme", "tempcompass", "msvd_qa", "vcgbench", "videobench")
"""Benchmarks the settings table shows."""
RECORDED_ONLY = {
    "fps": "the harness samples a fixed frame count per video (no fps-based sampling)",
    "max_frames": "the harness samples a fixed frame count per video (no fps-based sampling)",
    "frame_pixels": "frames are resized by the adapter's own preprocessing (models/)",
    "video_tokens": "follows from the adapter's preprocessing (models/)",
    "prompt": "each benchmark asks with its own official prompt (docs/eval_benchmarks.md)",
    "max_new_tokens": "each task's generation settings (or --max-new-tokens)",
    "decoding": "eval.run always decodes greedily",
}


class ProtocolError(ValueError):
    """A protocol file that does not fit the format, or a model whose family is unknown; names the file."""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ProtocolError(f"{path}: {err}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: not a mapping")
    return data


def family_of(model: str, family: str | None) -> str:
    """The adapter family of `--model` without loading it: --family, a tiny-<family> preset, or a saved folder."""
    if family:
        return family
    if model.startswith("tiny-"):
        return model[len("tiny-"):]
    from models.saving import read_model_meta

    meta = read_model_meta(model) if Path(model).is_dir() else None
    if meta is not None:
        return meta.family
    raise ProtocolError(f"--protocol official: the family of --model {model!r} is unknown; give --family")


def _family_file(family: str) -> dict[str, Any]:
    path = FAMILIES_DIR / f"{family}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in FAMILIES_DIR.glob("*.yaml"))
        raise ProtocolError(f"--protocol official: no {path} (families with published settings: {known})")
    data = _read(path)
    unknown = set(data.get("settings", {})) - set(FIELDS)
    if unknown:
        raise ProtocolError(f"{path}: settings has unknown field(s) {sorted(unknown)}; known: {FIELDS}")
    return data


def _benchmark_entry(bench: str, family: str) -> dict[str, Any] | None:
    """The benchmark's entry for the family; None when the benchmark has no protocols.yaml or no entry."""
    from eval.tasks.registry import benchmark_folder

    path = Path(benchmark_folder(bench)) / "protocols.yaml"
    if not path.is_file():
        return None
    entry = _read(path).get(family)
    if entry is not None and set(entry) - {*FIELDS, "sources", "published"}:
        raise ProtocolError(f"{path}: {family} has unknown field(s) {sorted(set(entry) - {*FIELDS, 'sources', 'published'})}")
    return entry


def table(family: str, bench: str) -> dict[str, Any]:
    """The official settings of `family` on `bench`: the family's, overlaid by the benchmark's entry."""
    fam = _family_file(family)
    entry = _benchmark_entry(bench, family)
    settings = {f: fam.get("settings", {}).get(f, NOT_PUBLISHED) for f in FIELDS}
    settings.update({f: v for f, v in (entry or {}).items() if f in FIELDS})
    return {"family": family, "benchmark": bench, "settings": settings,
            "published": bool(entry) and entry.get("published", True),
            "sources": [*fam.get("sources", []), *((entry or {}).get("sources", []))]}


def official(family: str, bench: str, frames: ClipSpec) -> dict[str, Any]:
    """The results' record of the official protocol for one benchmark, and the frames it applies.

    `frames` is what the run would use otherwise; a published fixed count and rule replace it. Everything
    else is recorded with the reason it is not applied."""
    from dreamframe.frames import SAMPLING_RULES

    rec = {"name": "official", **table(family, bench)}
    s = rec["settings"]
    count = s["num_frames"] if isinstance(s["num_frames"], int) and not isinstance(s["num_frames"], bool) else None
    rule = s["frame_sampling"] if s["frame_sampling"] in SAMPLING_RULES else None
    rec["applied"] = {"num_frames": count or frames.num_frames, "frame_sampling": rule or str(frames.rule)}
    rec["not_applied"] = {f: RECORDED_ONLY[f] for f in RECORDED_ONLY if s[f] != NOT_PUBLISHED}
    return rec


def markdown(benches: tuple[str, ...] = BENCHMARKS) -> str:
    """The table family x benchmark as markdown (docs/eval.md quotes it)."""
    head = ["family", "benchmark", "published", *FIELDS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fam in sorted(p.stem for p in FAMILIES_DIR.glob("*.yaml")):
        for bench in benches:
            t = table(fam, bench)
            cells = [fam, bench, "yes" if t["published"] else "no", *(str(t["settings"][f]) for f in FIELDS)]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", "\\n") for c in cells) + " |")
    return "\n".join(lines)



@dataclass
class TableConfig:
    """Print the official settings table, family x benchmark, as markdown (docs/eval.md quotes it)."""

    benchmarks: list[str] = field(default_factory=lambda: list(BENCHMARKS))
    """Benchmarks shown."""


def main(argv: Sequence[str] | None = None) -> int:
    from dreamframe.config import parse_config

    cfg = parse_config(TableConfig, argv, "python -m eval.protocol", __doc__)
    print(markdown(tuple(cfg.benchmarks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
