"""Write the leaderboard as Markdown, CSV and one self-contained HTML page (inline CSS/JS/SVG); the page's
markup is the template eval/templates/leaderboard.html.jinja, filled here."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dreamframe.html import bar_chart, fmt, hbar_chart, render, write_shareable
from dreamframe.text_safety import markdown_inline
from eval.leaderboard.types import NO_JUDGE, Delta, Entry, LeaderboardConfig

OURS_COLOR, PUBLISHED_COLOR, CONTROL_COLOR = "#4e79a7", "#f28e2b", "#9d9d9d"
CSV_FIELDS = ["model", "published", "base_model", "benchmark", "board", "task", "subtask_of", "metric", "value",
              "ci_low", "ci_high", "n", "rank", "judge", "judge_group", "frames", "source", "url",
              "model_fingerprint", "raw_metric", "errors"]

Groups = dict[tuple[str, str, str], list[tuple[int, Entry]]]


def title_of(board: str, benchmarks: dict[str, dict[str, Any]]) -> str:
    if board.endswith(" (partial)"):  # numbers from a partial download form boards of their own
        return f"{title_of(board.removesuffix(' (partial)'), benchmarks)} (partial download)"
    return benchmarks.get(board, {}).get("title", board)


def group_title(key: tuple[str, str, str], benchmarks: dict[str, dict[str, Any]]) -> str:
    board, metric, judge = key
    unit = " (%)" if metric == "accuracy" else ""
    return f"{title_of(board, benchmarks)} - {metric}{unit} - judge: {judge}"


def source_numbers(entries: Sequence[Entry]) -> dict[str, int]:
    """Published citations numbered in order of first appearance."""
    out: dict[str, int] = {}
    for e in entries:
        if e.published and e.source not in out:
            out[e.source] = len(out) + 1
    return out


def _colour(e: Entry) -> str:
    return PUBLISHED_COLOR if e.published else CONTROL_COLOR if e.control else OURS_COLOR


def _ci_text(ci: tuple[float, float] | None, digits: int) -> str:
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else ""


ERROR_TEXT = {"skipped_questions": "{} question(s) skipped", "missing_video": "{} video(s) missing",
              "unreadable": "{} unreadable video(s)", "judge_unparsable": "{} unparsable judge repl(ies)",
              "missing_prediction": "{} missing prediction(s)"}


def errors_text(errors: dict[str, int]) -> str:
    """'3 question(s) skipped, 1 video(s) missing, ...' in a fixed order (results counts, leaderboard cells)."""
    keys = [k for k in ERROR_TEXT if errors.get(k)] + sorted(k for k in errors if k not in ERROR_TEXT and errors[k])
    return ", ".join(ERROR_TEXT.get(k, k.replace("_", " ") + ": {}").format(errors[k]) for k in keys)


def _digits(metric: str) -> int:
    return 1 if metric == "accuracy" else 2


# -- CSV -------------------------------------------------------------------------------------------
def to_csv(entries: Sequence[Entry], groups: Groups) -> str:
    """One row per number; an unavailable one (n/a) has value `nan` and no rank."""
    ranks = {id(e): r for ranked in groups.values() for r, e in ranked}
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for e in sorted(entries, key=lambda e: (e.board, e.metric, e.judge_key, e.parent or "", e.task,
                                            -e.value if math.isfinite(e.value) else math.inf)):
        w.writerow({"model": e.model, "published": e.published, "base_model": e.base_model or "",
                    "benchmark": e.benchmark, "board": e.board, "task": e.task, "subtask_of": e.parent or "",
                    "metric": e.metric, "value": round(e.value, 4) if math.isfinite(e.value) else "nan",
                    "ci_low": round(e.ci[0], 4) if e.ci else "", "ci_high": round(e.ci[1], 4) if e.ci else "",
                    "n": e.n or "", "rank": ranks.get(id(e), ""), "judge": e.judge, "judge_group": e.judge_key,
                    "frames": e.frames, "source": e.source, "url": e.url or "",
                    "model_fingerprint": e.fingerprint, "raw_metric": e.raw_metric,
                    "errors": ";".join(f"{k}={v}" for k, v in sorted(e.errors.items()) if v)})
    return buf.getvalue()


# -- Markdown --------------------------------------------------------------------------------------
def _md_row(cells: Sequence[Any]) -> str:
    """One table row; every cell made inert (model, task and judge names come from results files, which
    anyone can write: no HTML, links, control or bidi characters; `|` escaped)."""
    return "| " + " | ".join(markdown_inline(str(c)).replace("|", "\\|") for c in cells) + " |"


def to_markdown(cfg: LeaderboardConfig, entries: Sequence[Entry], groups: Groups, ds: Sequence[Delta],
                benchmarks: dict[str, dict[str, Any]]) -> str:
    refs = source_numbers(entries)
    lines = [f"# {markdown_inline(cfg.title)}", "",
             f"{len({e.model for e in entries if not e.published})} evaluated models; published reference rows "
             f"are marked *(published)* with their source. Intervals: bootstrap {cfg.confidence:.0%} over "
             f"questions ({cfg.bootstrap} resamples). Each table holds numbers from ONE judge; numbers under "
             "different judges are listed in separate tables and never ranked together.", ""]
    if cfg.controls:
        from eval.leaderboard.controls import context, markdown

        lines += markdown(context(cfg.controls), _md_row)
    lines += ours_markdown(groups, benchmarks)
    for key, ranked in groups.items():
        d = _digits(key[1])
        lines += [f"## {markdown_inline(group_title(key, benchmarks))}", "",
                  _md_row(["rank", "model", "value", "95% CI", "n", "judge", "frames", "source"]),
                  _md_row(["---"] * 8)]
        for r, e in ranked:
            name = f"{e.model} *(published [{refs[e.source]}])*" if e.published else e.model
            name += f" *({e.control})*" if e.control else ""
            src = f"[{refs[e.source]}]" if e.published else Path(e.source).name
            notes = [n for n in (e.beside, errors_text(e.errors)) if n]
            value = f"{e.value:.{d}f}" + (f" ({'; '.join(notes)})" if notes else "")
            lines.append(_md_row([r, name, value, _ci_text(e.ci, d), e.n or "", e.judge, e.frames, src]))
        lines.append("")
    for published, heading in ((False, DELTA_HEADINGS[False]), (True, DELTA_HEADINGS[True])):
        rows = [x for x in ds if x.published == published]
        if not rows:
            continue
        lines += [f"## {heading}", "", _md_row(["fine-tune", "compared with", "benchmark", "metric", "judge", "delta",
                                                  "95% CI", "note"]), _md_row(["---"] * 8)]
        for x in rows:
            d = _digits(x.metric)
            lines.append(_md_row([x.model, x.base, title_of(x.task, benchmarks), x.metric, x.judge_key,
                                  f"{x.value:+.{d}f}", _ci_text(x.ci, d), x.note]))
        lines.append("")
    for parent, (tasks, models, cellmap) in subtask_tables(entries).items():
        title = markdown_inline(title_of(parent, benchmarks))
        lines += [f"## {title} per task (accuracy %; columns: model / judge / frames)", "",
                  _md_row(["task", *models]), _md_row(["---"] * (len(models) + 1))]
        for t in tasks:
            lines.append(_md_row([t, *[fmt(cellmap.get((t, m)).value if (t, m) in cellmap else None)
                                       for m in models]]))
        lines.append("")
    if refs:
        urls = {e.source: e.url for e in entries if e.published and e.url}
        lines += ["## Sources", ""] + [f"{n}. {markdown_inline(src)}"
                                       + (f" {_autolink(urls[src])}" if src in urls else "")
                                       for src, n in refs.items()] + [""]
    return "\n".join(lines)


def _autolink(url: str) -> str:
    """`<url>` (a link) for a plain http(s) address; anything else shown as inert text."""
    return f"<{url}>" if re.fullmatch(r"https?://[^\s<>`\\]+", url) else markdown_inline(url)


def ours_markdown(groups: Groups, benchmarks: dict[str, dict[str, Any]]) -> list[str]:
    """Our models (and controls) across the boards they have numbers on, before any published row."""
    cols = [k for k in groups if k[1] == "accuracy" and any(not e.published for _, e in groups[k])]
    ours = {e.model: None for k in cols for _, e in groups[k] if not e.published}
    if not cols:
        return []
    cells = {(e.model, k): e for k in cols for _, e in groups[k] if not e.published}
    lines = ["## Our models (accuracy %, 95% CI; published rows follow in the per-benchmark tables)", "",
             _md_row(["model", *[group_title(k, benchmarks) for k in cols]]), _md_row(["---"] * (len(cols) + 1))]
    for model in ours:
        lines.append(_md_row([model, *[f"{cells[(model, k)].value:.1f} {_ci_text(cells[(model, k)].ci, 1)}".strip()
                                       if (model, k) in cells else "-" for k in cols]]))
    return lines + [""]


DELTA_HEADINGS = {
    False: "Ours: fine-tune minus its base and its blind control (this run's data; not comparable with published gains)",
    True: "Published: gains reported by the papers (their models, data and judges)",
}
def subtask_tables(entries: Sequence[Entry]) -> dict[str, tuple[list[str], list[str], dict[tuple[str, str], Entry]]]:
    """For each benchmark with subtasks (MVBench's 20): task names, model labels, (task, model) -> entry."""
    out: dict[str, tuple[list[str], list[str], dict]] = {}
    by_parent: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.parent is not None and e.metric == "accuracy":
            by_parent[e.benchmark].append(e)
    for bench, es in sorted(by_parent.items()):
        tasks = sorted({e.subtask or e.task for e in es})
        models = sorted({_label(e) for e in es})
        out[bench] = (tasks, models, {(e.subtask or e.task, _label(e)): e for e in es})
    return out


def _label(e: Entry) -> str:
    """One column per model and setting: the same model under two judges or frame counts is two columns."""
    return " / ".join([e.model] + ([e.judge_key] if e.judge_key != NO_JUDGE else []) + [e.frames])


# -- HTML ------------------------------------------------------------------------------------------
def _overview(groups: Groups, benchmarks: dict) -> dict[str, Any]:
    """Models x (benchmark, metric, judge) columns: a column never mixes judges, so sorting it is fair."""
    cols = [k for k in groups if k[1] == "accuracy"] or list(groups)
    cols.sort(key=lambda k: all(e.published for _, e in groups[k]))  # boards with our numbers first
    models: dict[tuple[str, bool], Entry] = {}
    for ranked in groups.values():
        for _, e in ranked:
            models.setdefault((e.model, e.published), e)
    lookup = {(e.model, e.published, k): e for k, ranked in groups.items() for _, e in ranked}
    rows = [{"first": first, "published": pub, "cells": [lookup.get((model, pub, k)) for k in cols]}
            for (model, pub), first in sorted(models.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    headers = ["model"] + [f"{title_of(k[0], benchmarks)} {k[1]}" + (f" [judge: {k[2]}]" if k[2] != NO_JUDGE else "")
                           for k in cols]
    return {"headers": headers, "rows": rows}


def _group(key: tuple[str, str, str], ranked: list[tuple[int, Entry]], benchmarks: dict) -> dict[str, Any]:
    """One ranked table and its bar chart."""
    labels = [e.model + (" (published)" if e.published else "") for _, e in ranked]
    chart = hbar_chart(labels, [e.value for _, e in ranked], errors=[e.ci for _, e in ranked],
                       colors=[_colour(e) for _, e in ranked],
                       x_max=100.0 if key[1] == "accuracy" else (5.0 if key[1] == "score" else None),
                       title=group_title(key, benchmarks), x_label=key[1] + (" %" if key[1] == "accuracy" else ""))
    return {"title": group_title(key, benchmarks), "metric": key[1], "ranked": ranked, "chart": chart}


def _subtasks(entries: Sequence[Entry], benchmarks: dict) -> list[dict[str, Any]]:
    """Per benchmark with subtasks: grouped bars and a task x model table."""
    out = []
    for bench, (tasks, models, cellmap) in subtask_tables(entries).items():
        series = {m: [cellmap[(t, m)].value if (t, m) in cellmap else None for t in tasks] for m in models}
        errs = {m: [cellmap[(t, m)].ci if (t, m) in cellmap else None for t in tasks] for m in models}
        chart = bar_chart(tasks, series, errors=errs, title=f"{title_of(bench, benchmarks)} per task",
                          y_label="accuracy %", y_max=100.0, height=340)
        first = {m: next(e for (t, mm), e in cellmap.items() if mm == m) for m in models}
        out.append({"benchmark": bench, "title": title_of(bench, benchmarks), "tasks": tasks, "models": models,
                    "cells": cellmap, "chart": chart,
                    "headers": [f"{first[m].model} (judge: {first[m].judge}; frames: {first[m].frames})" for m in models]})
    return out


def _deltas(ds: Sequence[Delta], benchmarks: dict) -> list[dict[str, Any]]:
    """Ours first, then the published gains: never one table or chart for both."""
    out = []
    for published in (False, True):
        part = [x for x in ds if x.published == published]
        if not part:
            continue
        acc = [x for x in part if x.metric == "accuracy"]
        chart = hbar_chart([f"{x.model} vs {x.base}: {title_of(x.task, benchmarks)}" for x in acc],
                           [x.value for x in acc], errors=[x.ci for x in acc],
                           colors=[PUBLISHED_COLOR if published else OURS_COLOR] * len(acc), diverging=True,
                           title=DELTA_HEADINGS[published], x_label="accuracy delta (points)")
        out.append({"heading": DELTA_HEADINGS[published], "chart": chart, "rows": part,
                    "id": "deltas-published" if published else "deltas"})
    return out


def _controls(cfg: LeaderboardConfig) -> dict[str, Any] | None:
    if not cfg.controls:
        return None
    from eval.leaderboard.controls import context

    return context(cfg.controls)


def to_html(cfg: LeaderboardConfig, entries: Sequence[Entry], groups: Groups, ds: Sequence[Delta],
            benchmarks: dict[str, dict[str, Any]], unavailable: Sequence[Entry] = ()) -> str:
    ours = [e for e in entries if not e.published]
    return str(render(
        "leaderboard.html.jinja", package="eval", title=cfg.title, cfg=cfg,
        built=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        n_files=len({e.source for e in ours}), n_models=len({e.model for e in ours}),
        n_published=len({e.model for e in entries if e.published}),
        refs=source_numbers(entries), urls={e.source: e.url for e in entries if e.published and e.url},
        overview=_overview(groups, benchmarks),
        groups=[_group(k, ranked, benchmarks) for k, ranked in groups.items()],
        controls=_controls(cfg), deltas=_deltas(ds, benchmarks),
        subtasks=_subtasks(entries, benchmarks), unavailable=_unavailable_rows(unavailable),
        unavailable_header=UNAVAILABLE_HEADER, unavailable_note=UNAVAILABLE_NOTE,
        digits=_digits, title_of=lambda board: title_of(board, benchmarks),
        short_source=lambda source: f"{Path(source).parent.name}/{Path(source).name}",
        errors_text=lambda e: errors_text(e.errors)))


UNAVAILABLE_HEADER = ["model", "task", "metric", "value", "source"]
UNAVAILABLE_NOTE = ("These results files hold a metric that is not a number (nothing could be scored, e.g. no "
                    "judge reply parsed); they are shown as n/a and not ranked.")


def _unavailable_rows(unavailable: Sequence[Entry]) -> list[list[str]]:
    return [[e.model, e.task, e.raw_metric or e.metric, "n/a", e.source] for e in unavailable]


def unavailable_markdown(unavailable: Sequence[Entry]) -> str:
    if not unavailable:
        return ""
    rows = [_md_row(UNAVAILABLE_HEADER), _md_row(["---"] * len(UNAVAILABLE_HEADER))]
    return "\n".join(["## Not available (n/a)", "", UNAVAILABLE_NOTE, "", *rows,
                      *map(_md_row, _unavailable_rows(unavailable)), ""])


def write_outputs(cfg: LeaderboardConfig, entries: Sequence[Entry], groups: Groups, ds: Sequence[Delta],
                  benchmarks: dict[str, dict[str, Any]], unavailable: Sequence[Entry] = ()) -> list[str]:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"leaderboard.md": to_markdown(cfg, entries, groups, ds, benchmarks) + unavailable_markdown(unavailable),
             "leaderboard.csv": to_csv([*entries, *unavailable], groups),
             "index.html": to_html(cfg, entries, groups, ds, benchmarks, unavailable)}
    for name, text in files.items():
        write_shareable(out / name, text)
    return [str(out / name) for name in files]
