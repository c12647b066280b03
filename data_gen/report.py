"""An HTML report of what a generated dataset folder contains, to look at before training on it.

    python -m data_gen.report runs/data --out runs/data_report
    python -m data_gen.report runs/data --out report --max-movies 8 --frames-per-movie 24

One self-contained index.html (thumbnails embedded as data URIs, inline SVG charts, no network):
counts, genre mix against the paper's, QA types and levels, answer-balance checks (how often the
most common answer is right vs chance, and where the right option sits), blind answerability (majority and
text-only answerers fitted on the train split, scored on the test split), a keyframe contact sheet
per movie, and the consistency metrics when the manifest carries them. This module reads and counts;
data_gen/report_page.py lays the sections out for the template data_gen/templates/report.html.jinja.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamframe.config import parse_config


@dataclass
class ReportConfig:
    """Write an HTML report (index.html) describing a DreamFrame dataset folder."""

    dataset: str | None = None
    """The dataset folder (written by python -m data_gen.generate); also positional."""
    out: str | None = None
    """Output folder for index.html and report.json (required)."""
    max_movies: int = 24
    """Movies shown in the contact sheets (all movies are counted in the statistics)."""
    frames_per_movie: int = 16
    """Keyframes per movie in its contact sheet (evenly spaced, first and last included)."""
    thumb_size: int = 112
    """Longest side of an embedded thumbnail, in pixels."""
    title: str = ""
    """Page title (default: the dataset folder name)."""


# -- statistics ----------------------------------------------------------------------------------
def answer_balance(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per QA type: how often the most common answer is correct, against chance for closed types.

    A dataset where always answering "blue" beats chance teaches a shortcut. `flag` is set when the
    majority rate exceeds chance by more than 3 binomial standard errors, or when the position of the
    correct option departs from uniform (chi-square p < 0.01).
    """
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_type[r["qa_type"]].append(r)
    out = []
    for qa_type, items in sorted(by_type.items()):
        n = len(items)
        answers = Counter(r["answer"] for r in items)
        top, top_n = answers.most_common(1)[0]
        closed = [r for r in items if r["options"]]
        rec: dict[str, Any] = {"qa_type": qa_type, "n": n, "closed": len(closed), "distinct_answers": len(answers),
                               "majority_answer": top, "majority_rate": top_n / n,
                               "chance": None, "positions": {}, "position_p": None, "flag": ""}
        if closed:
            rec["chance"] = sum(1 / len(r["options"]) for r in closed) / len(closed)
            k = max(len(r["options"]) for r in closed)
            pos = Counter(list(r["options"]).index(r["answer"]) for r in closed)
            rec["positions"] = {chr(65 + i): pos.get(i, 0) for i in range(k)}
            rec["position_p"] = _uniform_p(closed)
            se = math.sqrt(rec["chance"] * (1 - rec["chance"]) / len(closed))
            flags = []
            if rec["majority_rate"] > rec["chance"] + 3 * se:
                flags.append("majority answer beats chance")
            if rec["position_p"] is not None and rec["position_p"] < 0.01:
                flags.append("answer position not uniform")
            rec["flag"] = "; ".join(flags)
        out.append(rec)
    return out


def chi2_sf(stat: float, df: int) -> float:
    """Survival function of the chi-square distribution for integer df (closed form; no scipy import)."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    h = stat / 2
    if df % 2 == 0:
        return math.exp(-h) * sum(h ** i / math.factorial(i) for i in range(df // 2))
    tail = sum(h ** (i - 0.5) / math.gamma(i + 0.5) for i in range(1, (df - 1) // 2 + 1))
    return math.erfc(math.sqrt(h)) + math.exp(-h) * tail


def _uniform_p(closed: Sequence[dict[str, Any]]) -> float | None:
    """Chi-square p-value of the correct-option positions against each question's uniform chance."""
    k = max(len(r["options"]) for r in closed)
    observed = [0.0] * k
    expected = [0.0] * k
    for r in closed:
        m = len(r["options"])
        observed[list(r["options"]).index(r["answer"])] += 1
        for i in range(m):
            expected[i] += 1 / m
    cells = [(o, e) for o, e in zip(observed, expected) if e > 0]
    if len(cells) < 2:
        return None
    stat = sum((o - e) ** 2 / e for o, e in cells)
    return chi2_sf(stat, len(cells) - 1)


def collect(folder: Any, max_movies: int, progress: bool = True) -> dict[str, Any]:
    """Everything the report shows, as plain data (also saved as report.json)."""
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from dreamframe.dataset import SPLITS, DatasetError

    manifest = folder.manifest()
    rows: list[dict[str, Any]] = []
    for split in SPLITS:
        path = folder.qa_path(split)
        if path.exists():
            try:
                rows += pq.read_table(path).to_pylist()
            except Exception as err:  # a broken parquet file: name it
                raise DatasetError(f"{path}: cannot read QA table ({err})") from err
    movies = []
    finished, incomplete = folder.scan()  # a movie with missing or broken files is shown, and flagged
    for m in tqdm(sorted(finished + [folder.load_movie(i) for i in incomplete], key=lambda m: m.id),
                  desc="movies", unit="movie", disable=not progress):
        movies.append({"id": m.id, "title": m.title, "genre": m.genre, "split": m.split,
                       "problem": incomplete.get(m.id),
                       "style_keyword": m.style_keyword, "frames": m.num_frames, "qa": len(m.qa),
                       "characters": [c.phrase for c in m.characters],
                       "descriptions": [f.description for f in m.frames] if len(movies) < max_movies else []})
    from dreamframe.scoring import blind_audit

    train, test = ([r for r in rows if r["split"] == split] for split in ("train", "test"))
    return {"manifest": manifest, "rows": rows, "movies": movies,
            "genres": Counter(m["genre"] for m in movies), "qa_types": Counter(r["qa_type"] for r in rows),
            "levels": Counter(r["level"] for r in rows), "balance": answer_balance(rows),
            "blind_audit": blind_audit(train, test) if train and test else {}}


def build(cfg: ReportConfig, progress: bool = True) -> dict[str, Any]:
    """Read the dataset folder and write OUT/index.html and OUT/report.json."""
    from data_gen import report_page
    from dreamframe.dataset import DatasetError, DatasetFolder
    from dreamframe.html import write_shareable

    if not cfg.dataset:
        raise DatasetError("give the dataset folder: python -m data_gen.report DATASET_DIR --out DIR")
    if not cfg.out:
        raise DatasetError("--out is required: the folder to write the report to")
    if cfg.max_movies < 0 or cfg.frames_per_movie < 1 or cfg.thumb_size < 16:
        raise DatasetError("--max-movies must be >= 0, --frames-per-movie >= 1, --thumb-size >= 16")
    folder = DatasetFolder(cfg.dataset)
    if Path(cfg.out).resolve() == folder.root.resolve():
        raise DatasetError(f"--out {cfg.out} is the dataset folder itself; choose another folder")
    data = collect(folder, cfg.max_movies, progress)
    sheets, shown, missing = report_page.contact_sheets(folder, data["movies"], cfg.max_movies, cfg.frames_per_movie,
                                                        cfg.thumb_size)
    page = report_page.to_html(cfg.title or f"Dataset report: {folder.root.name}", str(folder.root.resolve()), data,
                               sheets)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"dataset": str(folder.root), "movies": len(data["movies"]), "qa": len(data["rows"]),
               "genres": dict(data["genres"]), "qa_types": dict(data["qa_types"]), "levels": dict(data["levels"]),
               "balance": data["balance"], "blind_audit": data["blind_audit"], "thumbnails": shown,
               "missing_frames": missing,
               "incomplete_movies": {m["id"]: m["problem"] for m in data["movies"] if m["problem"]},
               "consistency": data["manifest"].get("consistency"),
               "writer_rules": {k: v for k, v in (data["manifest"].get("plot") or {}).items()
                                if k in ("rules", "levels", "acceptance", "rejected")} or None}
    write_shareable(out / "report.json", json.dumps(summary, indent=2, default=str) + "\n")
    write_shareable(out / "index.html", page)  # last: the pipeline's done marker
    return summary


def _positional_to_option(argv: list[str]) -> list[str]:
    """`DATASET_DIR` (positional) becomes `--dataset DATASET_DIR`; every option takes a value."""
    rest, positional, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-"):
            rest.append(arg)
            if arg.startswith("--") and "=" not in arg and arg not in ("--help", "--print_config") and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        else:
            positional.append(arg)
        i += 1
    if len(positional) > 1:
        raise SystemExit(f"error: one DATASET_DIR expected, got {positional}")
    return rest + (["--dataset", positional[0]] if positional else [])  # after --config, so it wins


def main(argv: Sequence[str] | None = None) -> int:
    from dreamframe.dataset import DatasetError
    from dreamframe.schema import SchemaError

    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = parse_config(ReportConfig, _positional_to_option(argv), prog="python -m data_gen.report", description=__doc__)
    try:
        s = build(cfg)
    except (DatasetError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    flags = [b["qa_type"] for b in s["balance"] if b["flag"]]
    flags += [f"{t} (blind)" for t, a in s["blind_audit"].items() if a["flagged"]]
    print(f"wrote {Path(cfg.out) / 'index.html'}: {s['movies']} movies, {s['qa']} QA pairs, {s['thumbnails']} thumbnails"
          + (f", {s['missing_frames']} frames missing" if s["missing_frames"] else "")
          + (f"; answer-balance flags on: {', '.join(flags)}" if flags else "; answer balance ok"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
