"""Self-contained HTML pages: inline CSS, inline JS, inline SVG charts, images as data URIs.

The leaderboard (eval) and the dataset report (data_gen) both write pages that must open offline
from a file or an email attachment, so nothing here links to a CDN or a file beside the page.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1400px;
  padding:1rem 2rem;color:#222;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th::after{content:" \\2195";color:#aaa;font-size:.8em}
table.sortable th[aria-sort=ascending]::after{content:" \\2191";color:#222}
table.sortable th[aria-sort=descending]::after{content:" \\2193";color:#222}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777;font-size:.8em}
.badge{display:inline-block;padding:0 .35em;border-radius:.3em;font-size:.75em;background:#eee;color:#333}
.badge.published{background:#fde9c8;color:#7a4b00}
.badge.ours{background:#d8ecff;color:#124a80}
.badge.warn{background:#ffd9d9;color:#8a0000}
.badge.ok{background:#dcf5dc;color:#145214}
.badge.control{background:#e6e6e6;color:#444}
tr.published td{background:#fffaf0}
tr.control td{background:#f6f6f6;color:#555}
figure{margin:.5rem 0 1.5rem}figcaption{font-size:.85rem;color:#555}
.sheet{display:flex;flex-wrap:wrap;gap:2px}.sheet img{width:96px;height:96px;object-fit:cover}
.scroll{overflow-x:auto;max-width:100%}#overview td:first-child{min-width:13em}.setting{color:#777;font-size:.72em;white-space:nowrap}
.note{background:#f7f7f7;border-left:3px solid #bbb;padding:.4rem .8rem;font-size:.9rem}
"""

# Click a header to sort its table; numbers sort numerically (data-sort attribute wins over text).
SORT_JS = """
(function(){
  function key(td){var v=td.getAttribute('data-sort');if(v===null)v=td.textContent.trim();
    var n=parseFloat(v);return isNaN(n)?{n:null,s:v.toLowerCase()}:{n:n,s:v};}
  function cmp(a,b){if(a.n!==null&&b.n!==null)return a.n-b.n;if(a.n!==null)return -1;
    if(b.n!==null)return 1;return a.s<b.s?-1:a.s>b.s?1:0;}
  document.querySelectorAll('table.sortable').forEach(function(t){
    t.querySelectorAll('thead th').forEach(function(th,i){
      th.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';
        t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(r1,r2){var a=key(r1.cells[i]),b=key(r2.cells[i]);
          var ea=a.n===null&&(a.s===''||a.s==='-'),eb=b.n===null&&(b.s===''||b.s==='-');
          if(ea||eb)return ea-eb;  /* missing values stay at the bottom either way */
          var c=cmp(a,b);return asc?c:-c;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
    t.setAttribute('data-sortable','ready');
  });
})();
"""


def esc(value: Any) -> str:
    """HTML-escape anything (None becomes an empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def page(title: str, body: str, extra_css: str = "") -> str:
    """A whole HTML document with the shared CSS and the table-sorting script inlined."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}{extra_css}</style></head>\n<body>\n"
            f"{body}\n<script>{SORT_JS}</script>\n</body></html>\n")


def cell(content: str, sort: Any = None, cls: str = "", title: str = "") -> dict[str, Any]:
    """A table cell whose `content` is already HTML; `sort` is the value the column sorts by."""
    return {"html": content, "sort": sort, "cls": cls, "title": title}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], sortable: bool = True,
          row_classes: Sequence[str] | None = None, table_id: str = "") -> str:
    """An HTML table; each cell is plain text (escaped) or a `cell(...)` dict (HTML kept)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r, row in enumerate(rows):
        cls = f' class="{esc(row_classes[r])}"' if row_classes and row_classes[r] else ""
        tds = []
        for c in row:
            if isinstance(c, dict):
                attrs = ""
                if c.get("sort") is not None:
                    attrs += f' data-sort="{esc(c["sort"])}"'
                if c.get("cls"):
                    attrs += f' class="{esc(c["cls"])}"'
                if c.get("title"):
                    attrs += f' title="{esc(c["title"])}"'
                tds.append(f"<td{attrs}>{c['html']}</td>")
            elif isinstance(c, (int, float)) and not isinstance(c, bool):
                tds.append(f'<td class="num" data-sort="{c}">{esc(c)}</td>')
            else:
                tds.append(f"<td>{esc(c)}</td>")
        body.append(f"<tr{cls}>{''.join(tds)}</tr>")
    klass = ' class="sortable"' if sortable else ""
    tid = f' id="{esc(table_id)}"' if table_id else ""
    return f"<table{klass}{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


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
              diverging: bool = False, bar_colors: Sequence[str] | None = None, legend: bool = True) -> str:
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

    full_h = height + (18 * (1 + sum(22 + 6 * len(n[:40]) for n in names) // max(1, width - left)) if legend else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{full_h}" viewBox="0 0 {width} {full_h}" font-family="sans-serif" font-size="11">',
             f"<title>{esc(title)}</title>"]
    for k in range(5):
        v = bottom + (top - bottom) * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#e5e5e5"/><text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">'
                     f"{v:g}</text>")
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888"/>')
    if y_label:
        parts.append(f'<text transform="translate(12,{top_pad + plot_h / 2:.0f}) rotate(-90)" '
                     f'text-anchor="middle">{esc(y_label)}</text>')
    for c, cat in enumerate(categories):
        gx = left + c * group_w + 6
        for s, name in enumerate(names):
            v = series[name][c] if c < len(series[name]) else None
            if v is None:
                continue
            x = gx + s * bar_w
            fill = bar_colors[c] if bar_colors and c < len(bar_colors) else colors[name]
            y0, y1 = sorted((y(0), y(v)))
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y0:.1f}" width="{bar_w - 1}" '
                         f'height="{max(0.5, y1 - y0):.1f}" fill="{fill}">'
                         f"<title>{esc(name)} - {esc(cat)}: {v:.4g}</title></rect>")
            iv = (errors or {}).get(name, [None] * len(categories))
            iv = iv[c] if c < len(iv) else None
            if iv:
                cx = x + (bar_w - 1) / 2
                parts.append(f'<path d="M{cx:.1f},{y(iv[0]):.1f}V{y(iv[1]):.1f}M{cx - 3:.1f},{y(iv[0]):.1f}'
                             f'h6M{cx - 3:.1f},{y(iv[1]):.1f}h6" stroke="#222" stroke-width="1"/>')
        lx, ly = gx + group_w / 2 - 6, top_pad + plot_h + 10
        parts.append(f'<text x="{lx:.1f}" y="{ly}" text-anchor="end" transform="rotate(-40 {lx:.1f} {ly})">'
                     f"{esc(cat)}</text>")
    lx, ly = left, height
    for name in names if legend else []:
        item_w = 22 + 6 * len(name[:64])
        if lx + item_w > width and lx > left:
            lx, ly = left, ly + 18
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colors[name]}"/>'
                     f'<text x="{lx + 14}" y="{ly}">{esc(name[:64])}</text>')
        lx += item_w
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(labels: Sequence[str], values: Sequence[float], errors: Sequence[tuple[float, float] | None] | None = None,
               colors: Sequence[str] | None = None, x_max: float | None = None, title: str = "",
               x_label: str = "", diverging: bool = False, digits: int = 1) -> str:
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
    height = top_pad + len(labels) * (bar_h + gap) + 34
    width = label_w + plot_w + right

    def x(v: float) -> float:
        return label_w + plot_w * (min(top, max(low, v)) - low) / (top - low)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11"><title>{esc(title)}</title>']
    axis_y = top_pad + len(labels) * (bar_h + gap)
    for k in range(5):
        v = low + (top - low) * k / 4
        parts.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top_pad}" y2="{axis_y}" stroke="#e5e5e5"/>'
                     f'<text x="{x(v):.1f}" y="{axis_y + 14}" text-anchor="middle">{v:g}</text>')
    if x_label:
        parts.append(f'<text x="{label_w + plot_w / 2:.0f}" y="{axis_y + 28}" text-anchor="middle">{esc(x_label)}</text>')
    for i, (label, v) in enumerate(zip(labels, values)):
        y = top_pad + i * (bar_h + gap)
        color = colors[i] if colors and i < len(colors) else PALETTE[0]
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end">{esc(label)}</text>'
                     f'<rect class="bar" x="{min(x(0), x(v)):.1f}" y="{y}" width="{max(0.5, abs(x(v) - x(0))):.1f}" height="{bar_h}" '
                     f'fill="{color}"><title>{esc(label)}: {v:.4g}</title></rect>')
        iv = errors[i] if errors and i < len(errors) else None
        end = x(v)
        if iv:
            cy = y + bar_h / 2
            parts.append(f'<path d="M{x(iv[0]):.1f},{cy}H{x(iv[1]):.1f}M{x(iv[0]):.1f},{cy - 4}v8M{x(iv[1]):.1f},'
                         f'{cy - 4}v8" stroke="#222" stroke-width="1"/>')
            end = max(end, x(iv[1]))
        parts.append(f'<text x="{end + 4:.1f}" y="{y + bar_h - 4}">{v:+.{digits}f}</text>' if diverging else
                     f'<text x="{end + 4:.1f}" y="{y + bar_h - 4}">{v:.{digits}f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


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


__all__ = ["page", "table", "cell", "bar_chart", "hbar_chart", "figure", "image_data_uri", "esc", "fmt", "write_shareable",
           "PALETTE"]
