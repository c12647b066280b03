"""Self-contained HTML pages: inline CSS, inline JS, inline SVG charts, images as data URIs.

The leaderboard (eval) and the dataset report (data_gen) both write pages that must open offline
from a file or an email attachment, so nothing here links to a CDN or a file beside the page. The markup
lives in Jinja2 templates (dreamframe/templates/ and each room's templates/, shipped as package data);
Python here only computes: chart geometry, thumbnails, the environment that finds the templates.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from dreamframe.text_safety import clean_text

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")

TEMPLATES = "templates"  # beside this module and in each room's package; shipped as package data


@functools.cache
def environment(package: str = "dreamframe") -> Any:
    """The Jinja2 environment of `package`'s templates, falling back to the shared ones here (page shell,
    macros, charts). Autoescaping is on: a value becomes HTML only by passing through a template."""
    import jinja2

    loaders = [jinja2.PackageLoader(package, TEMPLATES)] if package != "dreamframe" else []
    env = jinja2.Environment(loader=jinja2.ChoiceLoader([*loaders, jinja2.PackageLoader("dreamframe", TEMPLATES)]),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, finalize=_displayable)
    env.filters["fixed"] = fixed
    env.filters["fmt"] = fmt
    return env


def _displayable(value: Any) -> Any:
    """Every plain string a template prints, without control and bidi characters (a U+202E in a story or a
    model name would reverse what the reader sees); escaping `<`, `>`, `&` is autoescape's job. Markup
    (a chart rendered by another template) is ours and passes as it is."""
    from markupsafe import Markup

    return clean_text(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def render(template: str, package: str = "dreamframe", **context: Any) -> Any:
    """Render one template of `package` (see `environment`); returns markup, safe to embed in another page."""
    from markupsafe import Markup

    return Markup(environment(package).get_template(template).render(**context))


def fixed(value: float, digits: int = 1, signed: bool = False) -> str:
    """`value` with `digits` decimals (and a + on positives when `signed`)."""
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def bar_chart(categories: Sequence[str], series: Mapping[str, Sequence[float | None]],
              errors: Mapping[str, Sequence[tuple[float, float] | None]] | None = None,
              title: str = "", y_label: str = "", y_max: float | None = None,
              colors: Mapping[str, str] | None = None, width: int | None = None, height: int = 300,
              diverging: bool = False, bar_colors: Sequence[str] | None = None, legend: bool = True) -> Any:
    """Grouped vertical bars as inline SVG: one group per category, one bar per series.

    `errors` holds (low, high) intervals drawn as whiskers; `diverging` centres zero for deltas;
    `bar_colors` colours a single series bar by bar (e.g. published vs ours).
    Every bar carries a <title> tooltip with its exact value.
    """
    names = list(series)
    colors = dict(colors or {})
    for i, name in enumerate(names):
        colors.setdefault(name, PALETTE[i % len(PALETTE)])
    values = [v for name in names for v in series[name] if v is not None]
    highs = [iv[1] for name in names for iv in (errors or {}).get(name, []) if iv]
    lows = [iv[0] for name in names for iv in (errors or {}).get(name, []) if iv]
    top = y_max if y_max is not None else _nice_max(max([0.0, *values, *highs]) * 1.05)
    bottom = 0.0
    if diverging:
        span = _nice_max(max([abs(v) for v in values + highs + lows] or [1.0]) * 1.1)
        top, bottom = span, -span
    n_cat, n_ser = max(1, len(categories)), max(1, len(names))
    bar_w = max(6, min(28, 360 // (n_cat * n_ser) if n_cat * n_ser else 28))
    group_w = bar_w * n_ser + 12
    longest = max([len(str(c)) for c in categories] or [1])
    first = len(str(categories[0])) if categories else 1
    # rotated labels hang down-left from their group: leave room for the first and the longest
    left, right, top_pad = int(max(56, 4.6 * first - group_w / 2 + 8)), 16, 28
    bottom_pad = int(min(220, 24 + 4.2 * longest))
    height = max(height, top_pad + bottom_pad + 140)
    width = width or max(360, left + right + group_w * n_cat)
    plot_h = height - top_pad - bottom_pad

    def y(v: float) -> float:
        return top_pad + plot_h * (top - v) / (top - bottom)

    groups = []
    for c, cat in enumerate(categories):
        gx, bars = left + c * group_w + 6, []
        for s, name in enumerate(names):
            v = series[name][c] if c < len(series[name]) else None
            if v is None:
                continue
            x = gx + s * bar_w
            y0, y1 = sorted((y(0), y(v)))
            iv = (errors or {}).get(name, [None] * len(categories))
            iv = iv[c] if c < len(iv) else None
            bars.append({"x": x, "y": y0, "width": bar_w - 1, "height": max(0.5, y1 - y0), "value": v,
                         "fill": bar_colors[c] if bar_colors and c < len(bar_colors) else colors[name],
                         "series": name, "category": cat,
                         "whisker": (x + (bar_w - 1) / 2, y(iv[0]), y(iv[1])) if iv else None})
        groups.append({"bars": bars, "label": {"x": gx + group_w / 2 - 6, "y": top_pad + plot_h + 10, "text": cat}})
    items, lx, ly = [], left, height
    for name in names if legend else []:
        item_w = 22 + 6 * len(name[:64])
        if lx + item_w > width and lx > left:
            lx, ly = left, ly + 18
        items.append({"x": lx, "y": ly, "color": colors[name], "text": name[:64]})
        lx += item_w
    full_h = height + (18 * (1 + sum(22 + 6 * len(n[:40]) for n in names) // max(1, width - left)) if legend else 0)
    ticks = [{"y": y(v), "value": v} for v in (bottom + (top - bottom) * k / 4 for k in range(5))]
    return render("bar_chart.svg.jinja", width=width, height=full_h, title=title, left=left, right=width - right,
                  ticks=ticks, zero=y(0), y_label=y_label, y_label_at=top_pad + plot_h / 2, groups=groups,
                  legend=items)


def hbar_chart(labels: Sequence[str], values: Sequence[float], errors: Sequence[tuple[float, float] | None] | None = None,
               colors: Sequence[str] | None = None, x_max: float | None = None, title: str = "",
               x_label: str = "", diverging: bool = False, digits: int = 1) -> Any:
    """Horizontal bars as inline SVG, one per label (long model names stay readable), with whiskers;
    `diverging` puts zero in the middle (for deltas)."""
    label_w = int(min(600, 12 + 6.2 * max([len(str(x)) for x in labels] or [1])))
    bar_h, gap, top_pad, plot_w, right = 16, 6, 8, 460, 50
    highs = [iv[1] for iv in (errors or []) if iv]
    top = x_max if x_max is not None else _nice_max(max([0.0, *values, *highs]) * 1.05)
    low = 0.0
    if diverging:
        lows = [iv[0] for iv in (errors or []) if iv]
        top = _nice_max(max([abs(v) for v in [*values, *highs, *lows]] or [1.0]) * 1.05)
        low = -top

    def x(v: float) -> float:
        return label_w + plot_w * (min(top, max(low, v)) - low) / (top - low)

    bars = []
    for i, (label, v) in enumerate(zip(labels, values)):
        y = top_pad + i * (bar_h + gap)
        iv = errors[i] if errors and i < len(errors) else None
        bars.append({"label": label, "value": v, "y": y, "x": min(x(0), x(v)), "width": max(0.5, abs(x(v) - x(0))),
                     "color": colors[i] if colors and i < len(colors) else PALETTE[0],
                     "whisker": (x(iv[0]), x(iv[1]), y + bar_h / 2) if iv else None,
                     "end": max(x(v), x(iv[1])) if iv else x(v)})
    axis_y = top_pad + len(labels) * (bar_h + gap)
    return render("hbar_chart.svg.jinja", width=label_w + plot_w + right, height=axis_y + 34, title=title,
                  top=top_pad, axis_y=axis_y, ticks=[{"x": x(low + (top - low) * k / 4), "value": low + (top - low) * k / 4}
                                                     for k in range(5)],
                  x_label=x_label, x_label_at=label_w + plot_w / 2, label_right=label_w - 6, bars=bars,
                  bar_height=bar_h, digits=digits, diverging=diverging)


def image_data_uri(image: Any, max_side: int = 128, quality: int = 80) -> str:
    """A PIL image (or image path) as a small JPEG data URI, so the page needs no files beside it."""
    from PIL import Image

    img = Image.open(image) if not isinstance(image, Image.Image) else image
    img = img.convert("RGB")
    img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def write_shareable(path: Any, text: str) -> None:
    """Atomic write, then the usual umask permissions (mkstemp leaves 0600, and pages are meant to be shared)."""
    import os

    from dreamframe.atomic import atomic_write_text

    atomic_write_text(path, text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


__all__ = ["environment", "render", "bar_chart", "hbar_chart", "image_data_uri", "fixed", "fmt", "write_shareable",
           "PALETTE"]
