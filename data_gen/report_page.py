"""What each section of the dataset report shows, gathered for its template
(data_gen/templates/report.html.jinja): table rows, charts, contact-sheet thumbnails."""

from __future__ import annotations

import datetime as _dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from dreamframe.frames import recorded_rule
from dreamframe.html import bar_chart, fmt, image_data_uri, render
from dreamframe.text_safety import show_hidden

# The paper's consistency ablation (full method), shown next to measured values.
PAPER_CONSISTENCY = {"clip_image_image": ("CLIP-Score between frames", 0.8304, "higher"),
                     "lpips_adjacent": ("LPIPS between frames", 0.5316, "lower")}



def visible(value: Any) -> Any:
    """Story text (and anything else) with its control and bidi characters shown as `[U+202E]`: a NUL or a
    right-to-left override from an LLM's story must not reorder or cut the page around it. Recurses into
    dicts, lists and tuples; markup made by our own charts (markupsafe.Markup) passes unchanged."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return show_hidden(value)
    if isinstance(value, Mapping):
        return {visible(k): visible(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [visible(v) for v in value]
    return value


def counts(data: dict[str, Any]) -> dict[str, Any]:
    man = data["manifest"]
    c = man.get("counts", {})
    rows = [["movies", c.get("movies", len(data["movies"]))], ["frames", c.get("frames", "")],
            ["QA pairs", c.get("qa", len(data["rows"]))]]
    rows += [[f"movies ({s})", n] for s, n in sorted(c.get("movies_by_split", {}).items())]
    rows += [[f"QA pairs ({s})", n] for s, n in sorted(c.get("qa_by_split", {}).items())]
    rows.append(["closed (multiple-choice) QA", sum(1 for r in data["rows"] if r["options"])])
    frames = [m["frames"] for m in data["movies"]]
    if frames:
        rows.append(["frames per movie (min / mean / max)", f"{min(frames)} / {sum(frames) / len(frames):.1f} / {max(frames)}"])
    prov = [["format", f"{man.get('format')} {man.get('format_version')}"], ["created", man.get("created_at", "")],
            ["backends", ", ".join(f"{k}={v}" for k, v in (man.get("backends") or {}).items())],
            ["frame sampling", recorded_rule(man) or ""], ["seed", man.get("seed", "")],
            ["failed movies", len(man.get("failures", {}))]]
    return {"counts": rows, "provenance": [[k, "" if v is None else str(v)] for k, v in prov]}


def distributions(data: dict[str, Any]) -> dict[str, Any]:
    from dreamframe.vocab import GENRE_MIX

    n_movies = max(1, len(data["movies"]))
    genres = sorted(set(data["genres"]) | set(GENRE_MIX), key=lambda g: (-GENRE_MIX.get(g, 0), g))  # ties: by name
    ours = [100 * data["genres"].get(g, 0) / n_movies for g in genres]
    paper = [GENRE_MIX.get(g) for g in genres]
    by_split: dict[str, Counter] = defaultdict(Counter)
    for r in data["rows"]:
        by_split[r["split"]][r["qa_type"]] += 1
    types = sorted(data["qa_types"], key=lambda t: -data["qa_types"][t])
    closed = Counter(r["qa_type"] for r in data["rows"] if r["options"])
    levels = sorted(data["levels"])
    return {
        "genre_chart": bar_chart(genres, {"this dataset %": ours, "paper %": paper}, title="genre mix",
                                 y_label="% of movies"),
        "genres": [[g, data["genres"].get(g, 0), round(o, 1), p if p is not None else "-"]
                   for g, o, p in zip(genres, ours, paper)],
        "type_chart": bar_chart(types, {s: [by_split[s].get(t, 0) for t in types] for s in sorted(by_split)},
                                title="QA types", y_label="QA pairs"),
        "qa_types": [[t, data["qa_types"][t], closed.get(t, 0), round(100 * data["qa_types"][t] / max(1, len(data["rows"])), 1)]
                     for t in types],
        "level_chart": bar_chart(levels, {"QA pairs": [data["levels"][lv] for lv in levels]}, title="QA levels",
                                 y_label="QA pairs", legend=False)}


def balance(data: dict[str, Any]) -> dict[str, Any]:
    """The answer-balance rows and where the correct option sits over all closed questions."""
    rows = [{**b, "position_counts": " ".join(f"{k}:{v}" for k, v in b["positions"].items())} for b in data["balance"]]
    closed = [b for b in data["balance"] if b["positions"]]
    k = max((len(b["positions"]) for b in closed), default=0)
    letters = [chr(65 + i) for i in range(k)]
    total = {L: sum(b["positions"].get(L, 0) for b in closed) for L in letters}
    n_closed = max(1, sum(total.values()))
    chart = bar_chart(letters, {"correct option at position %": [100 * total[L] / n_closed for L in letters]},
                      title="answer positions", y_label="% of closed QA", legend=False) if letters else ""
    caption = (f"Where the correct option sits, over all closed questions (uniform = {100 / k:.1f}% each when every "
               f"question has {k} options)." if k else "")
    return {"balance": rows, "positions_chart": chart, "positions_caption": caption}


def contact_sheets(folder: Any, movies: list[dict[str, Any]], max_movies: int, frames_per_movie: int,
                   thumb_size: int) -> tuple[dict[str, Any], int, int]:
    """Evenly spaced keyframes of the first movies as embedded thumbnails; (context, shown, missing)."""
    from dreamframe.dataset import frame_name
    from dreamframe.frames import sample_indices

    sheets, shown, missing = [], 0, 0
    listed = [m for m in movies if m["descriptions"]][:max_movies]
    for m in listed:
        images = []
        for i in sample_indices(m["frames"], min(frames_per_movie, m["frames"]), "linspace_inclusive"):
            path = folder.frames_dir(m["id"]) / frame_name(i)  # by name: a missing file must not shift the rest
            try:
                uri = image_data_uri(path, max_side=thumb_size) if path.is_file() else None
            except OSError:  # a corrupt JPEG (PIL's UnidentifiedImageError is an OSError)
                uri = None
            shown, missing = shown + bool(uri), missing + (not uri)
            images.append({"index": i, "uri": uri,
                           "description": m["descriptions"][i] if i < len(m["descriptions"]) else ""})
        sheets.append({**m, "images": images})
    context = {"sheets": sheets, "frames_per_movie": frames_per_movie, "more_movies": len(movies) - len(listed)}
    return context, shown, missing


def consistency(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """Measured means beside the paper's, per movie, and what was skipped; None when never measured."""
    block = manifest.get("consistency")
    if not isinstance(block, dict):
        return None
    means = block.get("mean") or {}
    rows = []
    for k, v in means.items():
        label, ref, better = PAPER_CONSISTENCY.get(k, (k, None, ""))
        rows.append([k, label, fmt(v, 4), fmt(ref, 4) if ref is not None else "-", better or "-"])
    per = block.get("per_movie") or {}
    return {"means": rows if any(v is not None for v in means.values()) else [], "metrics": list(means),
            "per_movie": [[mid, *[fmt(v.get(k), 4) for k in means]] for mid, v in sorted(per.items())],
            "skipped": "; ".join(f"{k}: {v}" for k, v in (block.get("skipped") or {}).items())}


def writer_rules(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """What the paper's Stage-1 rules did to an LLM writer's replies (manifest["plot"], data_gen.story.rule_log)."""
    plot = manifest.get("plot")
    if not isinstance(plot, dict) or "rules" not in plot:
        return None  # procedural story writer, or a dataset written before the rules were counted
    return {"acceptance": [[model, a["attempted"], a["accepted"], f"{100 * a['acceptance_rate']:.1f}"]
                           for model, a in sorted(plot.get("acceptance", {}).items())],
            "rules": [[name, c["fired"], c["repaired"], c["rejected_level"], c["rejected_movie"]]
                      for name, c in plot["rules"].items()],
            "levels": [[name, *c.values()] for name, c in plot.get("levels", {}).items()],
            "level_names": list(next(iter(plot.get("levels", {}).values()), {})),
            "rejected": "; ".join(f"{m} ({', '.join(r) or 'schema'})" for m, r in sorted(plot.get("rejected", {}).items()))}


def to_html(title: str, root: str, data: dict[str, Any], sheets: dict[str, Any]) -> str:
    """The whole page; `sheets` is the context from `contact_sheets`. Every text passes `visible`."""
    title, root, data, sheets = visible(title), visible(root), visible(data), visible(sheets)
    return str(render("report.html.jinja", package="data_gen", title=title, root=root,
                      built=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                      **counts(data), **distributions(data), **balance(data), blind=data["blind_audit"], **sheets,
                      consistency=consistency(data["manifest"]), writer=writer_rules(data["manifest"])))
