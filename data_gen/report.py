"""An HTML report of what a generated dataset folder contains, to look at before training on it.

    python -m data_gen.report runs/data --out runs/data_report
    python -m data_gen.report runs/data --out report --max-movies 8 --frames-per-movie 24

One self-contained index.html (thumbnails embedded as data URIs, inline SVG charts, no network):
counts, genre mix against the paper's, QA types and levels, answer-balance checks (how often the
most common answer is right vs chance, and where the right option sits), blind answerability (majority and
text-only answerers fitted on the train split, scored on the test split), a keyframe contact sheet
per movie, and the consistency metrics when the manifest carries them.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamframe.config import parse_config

# The paper's consistency ablation (full method), shown next to measured values.
PAPER_CONSISTENCY = {"clip_image_image": ("CLIP-Score between frames", 0.8304, "higher"),
                     "lpips_adjacent": ("LPIPS between frames", 0.5316, "lower")}


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


# -- page --------------------------------------------------------------------------------------
def _counts_section(data: dict[str, Any]) -> str:
    from dreamframe.html import table

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
            ["backends", ", ".join(f"{k}={v}" for k, v in (man.get("backends") or {}).items())], ["frame sampling", man.get("frame_sampling", "")],
            ["seed", man.get("seed", "")], ["failed movies", len(man.get("failures", {}))]]
    return ("<h2>Counts</h2><div style=\"display:flex;gap:2rem;flex-wrap:wrap\">"
            + table(["what", "count"], rows, sortable=False, table_id="counts")
            + table(["provenance", "value"], [[k, "" if v is None else str(v)] for k, v in prov], sortable=False)
            + "</div>")


def _distribution_section(data: dict[str, Any]) -> str:
    from dreamframe.html import bar_chart, figure, table
    from dreamframe.vocab import GENRE_MIX

    n_movies = max(1, len(data["movies"]))
    genres = sorted(set(data["genres"]) | set(GENRE_MIX), key=lambda g: -GENRE_MIX.get(g, 0))
    ours = [100 * data["genres"].get(g, 0) / n_movies for g in genres]
    paper = [GENRE_MIX.get(g) for g in genres]
    genre_svg = bar_chart(genres, {"this dataset %": ours, "paper %": paper}, title="genre mix", y_label="% of movies")
    genre_rows = [[g, data["genres"].get(g, 0), round(o, 1), p if p is not None else "-"]
                  for g, o, p in zip(genres, ours, paper)]
    by_split: dict[str, Counter] = defaultdict(Counter)
    for r in data["rows"]:
        by_split[r["split"]][r["qa_type"]] += 1
    types = sorted(data["qa_types"], key=lambda t: -data["qa_types"][t])
    type_svg = bar_chart(types, {s: [by_split[s].get(t, 0) for t in types] for s in sorted(by_split)},
                         title="QA types", y_label="QA pairs")
    closed = Counter(r["qa_type"] for r in data["rows"] if r["options"])
    type_rows = [[t, data["qa_types"][t], closed.get(t, 0), round(100 * data["qa_types"][t] / max(1, len(data["rows"])), 1)]
                 for t in types]
    levels = sorted(data["levels"])
    level_svg = bar_chart(levels, {"QA pairs": [data["levels"][lv] for lv in levels]}, title="QA levels",
                          y_label="QA pairs", legend=False)
    return ("<h2>Genres</h2>" + figure(genre_svg, "Share of movies per genre, against the paper's genre mix.")
            + table(["genre", "movies", "%", "paper %"], genre_rows, table_id="genres")
            + "<h2>QA types and levels</h2>" + figure(type_svg, "QA pairs per type and split.")
            + table(["qa_type", "QA pairs", "closed", "%"], type_rows, table_id="qa-types")
            + figure(level_svg, "QA pairs per level (the span of frames a question is about)."))


def _balance_section(data: dict[str, Any]) -> str:
    from dreamframe.html import bar_chart, cell, esc, figure, table

    rows = []
    for b in data["balance"]:
        flag = (f'<span class="badge warn">{esc(b["flag"])}</span>' if b["flag"]
                else ('<span class="badge ok">ok</span>' if b["chance"] is not None else '<span class="muted">open-ended</span>'))
        pos = " ".join(f"{k}:{v}" for k, v in b["positions"].items())
        rows.append([b["qa_type"], b["n"], b["closed"], b["distinct_answers"], b["majority_answer"][:60],
                     cell(f"{100 * b['majority_rate']:.1f}", sort=b["majority_rate"], cls="num"),
                     cell(f"{100 * b['chance']:.1f}" if b["chance"] is not None else "-", sort=b["chance"] or "", cls="num"),
                     pos or "-", cell(f"{b['position_p']:.3g}" if b["position_p"] is not None else "-",
                                      sort=b["position_p"] if b["position_p"] is not None else ""),
                     cell(flag, sort=b["flag"])])
    closed = [b for b in data["balance"] if b["positions"]]
    k = max((len(b["positions"]) for b in closed), default=0)
    letters = [chr(65 + i) for i in range(k)]
    total = {L: sum(b["positions"].get(L, 0) for b in closed) for L in letters}
    n_closed = max(1, sum(total.values()))
    svg = bar_chart(letters, {"correct option at position %": [100 * total[L] / n_closed for L in letters]},
                    title="answer positions", y_label="% of closed QA", legend=False) if letters else ""
    return ("<h2>Answer balance</h2><p class=\"note\">majority rate: accuracy of always giving the most common "
            "answer of the type; chance: mean 1/(number of options) over the closed questions. A flag means the "
            "majority rate beats chance by more than 3 standard errors, or the correct option's position is not "
            "uniform (chi-square p &lt; 0.01).</p>"
            + table(["qa_type", "n", "closed", "distinct answers", "majority answer", "majority rate %", "chance %",
                     "correct position counts", "position p", "check"], rows, table_id="balance")
            + (figure(svg, "Where the correct option sits, over all closed questions (uniform = "
                           f"{100 / k:.1f}% each when every question has {k} options).") if svg else ""))


def _contact_sheets(folder: Any, data: dict[str, Any], cfg: ReportConfig) -> tuple[str, int, int]:
    from dreamframe.dataset import frame_name
    from dreamframe.frames import sample_indices
    from dreamframe.html import esc, image_data_uri

    parts, shown, missing = [], 0, 0
    movies = [m for m in data["movies"] if m["descriptions"]][: cfg.max_movies]
    for m in movies:
        idx = sample_indices(m["frames"], min(cfg.frames_per_movie, m["frames"]), "linspace_inclusive")
        imgs = []
        for i in idx:
            desc = m["descriptions"][i] if i < len(m["descriptions"]) else ""
            path = folder.frames_dir(m["id"]) / frame_name(i)  # by name: a missing file must not shift the rest
            try:
                uri = image_data_uri(path, max_side=cfg.thumb_size) if path.is_file() else None
            except OSError:  # a corrupt JPEG (PIL's UnidentifiedImageError is an OSError)
                uri = None
            if uri:
                imgs.append(f'<img src="{uri}" alt="frame {i}" title="frame {i}: {esc(desc)}">')
                shown += 1
            else:
                missing += 1
                imgs.append(f'<span class="badge warn" title="{esc(desc)}">frame {i} missing or unreadable</span>')
        parts.append(f'<h3 id="movie-{esc(m["id"])}">{esc(m["id"])}: {esc(m["title"])} '
                     f'<span class="badge">{esc(m["genre"])}</span> <span class="badge">{esc(m["style_keyword"])}</span> '
                     f'<span class="badge">{esc(m["split"])}</span>'
                     + (f' <span class="badge warn">incomplete: {esc(m["problem"])}</span>' if m["problem"] else "")
                     + f'</h3><p class="muted">{m["frames"]} frames, '
                     f'{m["qa"]} QA pairs; {esc("; ".join(m["characters"]))}</p><div class="sheet">{"".join(imgs)}</div>')
    more = len(data["movies"]) - len(movies)
    head = (f"<h2>Contact sheets</h2><p class=\"muted\">{len(movies)} movies, up to {cfg.frames_per_movie} evenly "
            "spaced keyframes each (hover a frame for its description)"
            + (f"; {more} more movies not shown (--max-movies)" if more > 0 else "") + ".</p>")
    return head + "".join(parts), shown, missing


def _consistency_section(manifest: dict[str, Any]) -> str:
    from dreamframe.html import esc, fmt, table

    block = manifest.get("consistency")
    if not isinstance(block, dict):
        return "<h2>Consistency</h2><p class=\"note\">Not in the manifest (older dataset, or metrics not run).</p>"
    means = block.get("mean") or {}
    skipped = block.get("skipped") or {}
    html = ["<h2>Consistency</h2>"]
    if any(v is not None for v in means.values()):
        rows = []
        for k, v in means.items():
            label, ref, better = PAPER_CONSISTENCY.get(k, (k, None, ""))
            rows.append([k, label, fmt(v, 4), fmt(ref, 4) if ref is not None else "-", better or "-"])
        html.append(table(["metric", "meaning", "mean over movies", "paper (full method)", "better"], rows,
                          table_id="consistency"))
        per = block.get("per_movie") or {}
        if per:
            keys = list(means)
            html.append(table(["movie", *keys], [[mid, *[fmt(v.get(k), 4) for k in keys]] for mid, v in sorted(per.items())],
                              table_id="consistency-per-movie"))
    else:
        html.append("<p class=\"note\">No consistency metric was measured for this dataset.</p>")
    if skipped:
        html.append("<p class=\"muted\">Skipped: " + esc("; ".join(f"{k}: {v}" for k, v in skipped.items())) + "</p>")
    return "".join(html)


def _blind_section(data: dict[str, Any]) -> str:
    from dreamframe.html import cell, esc, table

    audit = data["blind_audit"]
    if not audit:
        return "<h2>Blind answerability</h2><p class=\"note\">Needs closed questions in both splits.</p>"

    def pct(value: float, ci: list[float] | None = None) -> dict[str, Any]:
        return cell(f"{value:.1f}" + (f' <span class="muted">[{ci[0]:.1f}, {ci[1]:.1f}]</span>' if ci else ""),
                    sort=value, cls="num")

    rows = [[t, a["n"], pct(a["chance"]), pct(a["majority"], a["majority_ci"]), pct(a["text_only"], a["text_only_ci"]),
             cell('<span class="badge warn">answerable without the frames</span>' if a["flagged"]
                  else '<span class="badge ok">ok</span>', sort=a["flagged"])] for t, a in audit.items()]
    return ("<h2>Blind answerability</h2><p class=\"note\">Accuracy (%) on the test split's closed questions of "
            "two answerers that never see the frames, fitted on the train split: <b>majority</b> (the option that "
            "is most often the answer of its type) and <b>text-only</b> (naive Bayes from the question's words to "
            "the answer). A type is flagged when either beats chance by more than 5 points: a model could learn "
            f"it without looking. {esc('95% Wilson intervals in brackets.')}</p>"
            + table(["qa_type", "test questions", "chance %", "majority %", "text-only %", "check"], rows,
                    table_id="blind"))


def _writer_rules_section(manifest: dict[str, Any]) -> str:
    """What the paper's Stage-1 rules did to an LLM writer's replies (manifest["plot"], data_gen.story.rule_log)."""
    from dreamframe.html import esc, table

    plot = manifest.get("plot")
    if not isinstance(plot, dict) or "rules" not in plot:
        return ""  # procedural story writer, or a dataset written before the rules were counted
    accept = [[model, a["attempted"], a["accepted"], f"{100 * a['acceptance_rate']:.1f}"]
              for model, a in sorted(plot.get("acceptance", {}).items())]
    rules = [[name, c["fired"], c["repaired"], c["rejected_level"], c["rejected_movie"]]
             for name, c in plot["rules"].items()]
    levels = [[name, *c.values()] for name, c in plot.get("levels", {}).items()]
    level_keys = list(next(iter(plot.get("levels", {}).values()), {}))
    rejected = plot.get("rejected", {})
    return ("<h2>Writer rules</h2><p class=\"note\">Each LLM reply is checked against the paper's Stage-1 rules; "
            "a broken rule goes back to the model with its reason. fired: replies it rejected; repaired: requests "
            "that passed after it fired; rejected level / movie: what it still failed after the repairs "
            "(rejected movies are never rendered).</p>"
            + table(["writer model", "movies attempted", "accepted", "acceptance %"], accept, table_id="writer-acceptance")
            + table(["rule", "fired", "repaired", "rejected level", "rejected movie"], rules, table_id="writer-rules")
            + (table(["level", *level_keys], levels, table_id="writer-levels") if levels else "")
            + ("<p class=\"muted\">Rejected movies: " + esc("; ".join(f"{m} ({', '.join(r) or 'schema'})"
                                                                   for m, r in sorted(rejected.items()))) + "</p>"
               if rejected else ""))


def build(cfg: ReportConfig, progress: bool = True) -> dict[str, Any]:
    """Read the dataset folder and write OUT/index.html and OUT/report.json."""
    from dreamframe.dataset import DatasetError, DatasetFolder
    from dreamframe.html import esc, page, write_shareable

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
    sheets, shown, missing = _contact_sheets(folder, data, cfg)
    title = cfg.title or f"Dataset report: {folder.root.name}"
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    body = "\n".join([f"<h1>{esc(title)}</h1>", f'<p class="muted">{esc(str(folder.root.resolve()))} - report built {now}</p>',
                      _counts_section(data), _distribution_section(data), _balance_section(data), _blind_section(data),
                      sheets, _consistency_section(data["manifest"]), _writer_rules_section(data["manifest"])])
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
    write_shareable(out / "index.html", page(title, body))  # last: the pipeline's done marker
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
