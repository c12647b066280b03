"""Procedural twin of Style Immobilization: one fixed set of style parameters per movie.

The diffusion backend learns an embedding for the style keyword; this one derives palette, texture,
outline and grading from the keyword, then holds them fixed for every frame of the movie.
Known keywords get hand-picked looks; any other keyword gets a stable hash-derived look.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass
from typing import Literal

Texture = Literal["none", "noise", "hatch", "dots", "scanlines", "paper"]
TEXTURES: tuple[str, ...] = ("none", "noise", "hatch", "dots", "scanlines", "paper")


@dataclass(frozen=True)
class StyleParams:
    keyword: str
    tint: tuple[int, int, int]
    tint_strength: float
    saturation: float
    contrast: float
    texture: Texture
    texture_strength: float
    outline_width: int
    outline_colour: tuple[int, int, int]
    vignette: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"


_KNOWN: dict[str, tuple] = {  # tint, tint_strength, saturation, contrast, texture, strength, outline, outline colour, vignette
    "gothic": ((60, 40, 80), 0.35, 0.6, 1.3, "noise", 0.12, 3, (10, 0, 20), 0.6),
    "romantic": ((255, 170, 190), 0.25, 1.1, 0.9, "paper", 0.08, 1, (120, 60, 80), 0.3),
    "dramatic": ((40, 40, 60), 0.2, 0.9, 1.5, "none", 0.0, 3, (0, 0, 0), 0.7),
    "noir": ((128, 128, 128), 0.1, 0.05, 1.5, "scanlines", 0.10, 3, (0, 0, 0), 0.7),
    "pastel": ((255, 230, 240), 0.35, 0.6, 0.8, "none", 0.0, 1, (180, 160, 170), 0.0),
    "watercolor": ((220, 235, 255), 0.2, 0.8, 0.85, "paper", 0.15, 0, (0, 0, 0), 0.1),
    "sketch": ((240, 236, 225), 0.5, 0.3, 1.1, "hatch", 0.2, 2, (40, 40, 40), 0.0),
    "cyberpunk": ((255, 0, 200), 0.25, 1.4, 1.3, "scanlines", 0.12, 2, (0, 255, 255), 0.5),
    "vintage": ((200, 160, 100), 0.3, 0.7, 0.9, "noise", 0.10, 1, (80, 50, 20), 0.5),
    "retro": ((255, 140, 60), 0.2, 1.2, 1.1, "dots", 0.12, 2, (60, 30, 0), 0.2),
}


def _hash_style(keyword: str) -> tuple:
    h = zlib.crc32(keyword.lower().encode())
    r = [((h >> s) & 0xFF) / 255 for s in range(0, 32, 4)]
    tint = (int(80 + 175 * r[0]), int(80 + 175 * r[1]), int(80 + 175 * r[2]))
    return (tint, 0.15 + 0.25 * r[3], 0.5 + 0.8 * r[4], 0.85 + 0.5 * r[5], TEXTURES[h % len(TEXTURES)],
            0.05 + 0.12 * r[6], int(r[7] * 4), (int(40 * r[0]), int(40 * r[1]), int(40 * r[2])), r[5] * 0.6)


def style_from_keyword(keyword: str) -> StyleParams:
    tint, ts, sat, con, tex, tstr, ow, oc, vig = _KNOWN.get(keyword.lower()) or _hash_style(keyword)
    return StyleParams(keyword=keyword, tint=tint, tint_strength=ts, saturation=sat, contrast=con,
                       texture=tex, texture_strength=tstr, outline_width=ow, outline_colour=oc, vignette=vig)
