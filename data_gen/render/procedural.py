"""Pillow keyframe renderer: draws each frame from its structured description.

The place is the background (built and styled once per movie), each character a figure in its
clothing colour, in the pose of the frame's verb, with the frame's expression; a held object is drawn
in the hand. The movie's style (grading, texture, vignette, outline) is fixed for all its frames.
Background work is cached per (place, style), so a frame costs a copy plus a few dozen primitives.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from data_gen.style.procedural import StyleParams
from dreamframe.schema import Character, Frame, Movie
from dreamframe.vocab import COLOURS

if TYPE_CHECKING:
    from data_gen.config import RenderConfig

OUTDOOR = ("forest", "beach", "garden", "park", "farm", "desert", "bridge", "harbor", "rooftop", "market",
           "lighthouse", "street", "square", "field", "mountain", "river", "lake", "village")
SKIN = (224, 182, 150)
OBJECT_SHAPES = {  # object -> (shape, colour)
    "book": ("rect", (120, 60, 30)), "cup": ("cup", (250, 250, 250)), "letter": ("rect", (250, 245, 220)),
    "flower": ("flower", (230, 60, 140)), "umbrella": ("umbrella", (40, 40, 160)), "lamp": ("lamp", (255, 220, 80)),
    "key": ("key", (200, 170, 40)), "phone": ("rect", (30, 30, 30)),
}


def _rgb(name: str) -> tuple[int, int, int]:
    if name in COLOURS:
        return COLOURS[name]
    h = zlib.crc32(name.encode())
    return (h & 0xFF, (h >> 8) & 0xFF, (h >> 16) & 0xFF)


def _place_look(place: str) -> tuple[tuple, tuple, float, str, int]:
    """Sky/wall colour, ground/floor colour, horizon height, prop kind, seed - stable per place name."""
    h = zlib.crc32(place.lower().encode())
    rng = np.random.default_rng(h)
    outdoor = any(w in place.lower() for w in OUTDOOR)
    if outdoor:
        top = tuple(int(x) for x in rng.integers([90, 140, 190], [170, 210, 255]))
        ground = tuple(int(x) for x in rng.integers([40, 90, 30], [170, 190, 120]))
        prop = ["trees", "waves", "buildings", "hills"][h % 4]
    else:
        top = tuple(int(x) for x in rng.integers([120, 100, 90], [250, 240, 230]))
        ground = tuple(int(x) for x in rng.integers([60, 40, 30], [160, 130, 110]))
        prop = ["windows", "shelves", "columns", "door"][h % 4]
    horizon = float(rng.uniform(0.55, 0.7))
    return top, ground, horizon, prop, h


def _draw_props(draw: ImageDraw.ImageDraw, prop: str, size: int, horizon: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = size / 336
    if prop == "trees":
        for _ in range(4):
            x = int(rng.uniform(0, size))
            draw.rectangle([x - 5 * s, horizon - 60 * s, x + 5 * s, horizon], fill=(90, 60, 30))
            draw.ellipse([x - 28 * s, horizon - 110 * s, x + 28 * s, horizon - 50 * s], fill=(30, 110, 40))
    elif prop == "waves":
        for k in range(5):
            y = horizon + 12 * s * (k + 1)
            draw.arc([-20, y - 8 * s, size + 20, y + 8 * s], 0, 180, fill=(230, 240, 255), width=max(1, int(2 * s)))
    elif prop == "buildings":
        for _ in range(5):
            x, w, hgt = rng.uniform(0, size), rng.uniform(30, 60) * s, rng.uniform(60, 140) * s
            draw.rectangle([x, horizon - hgt, x + w, horizon], fill=tuple(int(v) for v in rng.integers(70, 150, 3)))
    elif prop == "hills":
        for _ in range(3):
            x, r = rng.uniform(0, size), rng.uniform(60, 120) * s
            draw.ellipse([x - r, horizon - r * 0.6, x + r, horizon + r * 0.6], fill=(70, 130, 60))
    elif prop == "windows":
        for k in range(3):
            x = size * (0.15 + 0.3 * k)
            draw.rectangle([x, 40 * s, x + 50 * s, 110 * s], fill=(190, 220, 250), outline=(80, 60, 40), width=3)
    elif prop == "shelves":
        for k in range(4):
            y = 30 * s + k * 35 * s
            draw.rectangle([10 * s, y, size - 10 * s, y + 5 * s], fill=(100, 70, 40))
            for j in range(10):
                draw.rectangle([20 * s + j * 30 * s, y - 22 * s, 32 * s + j * 30 * s, y],
                               fill=tuple(int(v) for v in rng.integers(40, 220, 3)))
    elif prop == "columns":
        for k in range(4):
            x = size * (0.1 + 0.27 * k)
            draw.rectangle([x, 10 * s, x + 22 * s, horizon], fill=(210, 205, 195), outline=(150, 145, 135))
    elif prop == "door":
        draw.rectangle([size * 0.4, horizon - 130 * s, size * 0.6, horizon], fill=(110, 70, 40), outline=(60, 40, 20))


@lru_cache(maxsize=16)
def _texture(kind: str, size: int) -> Image.Image | None:
    """A grey overlay (L mode) whose deviation from 128 is the texture; None for no texture."""
    rng = np.random.default_rng(size)
    if kind == "noise":
        arr = rng.normal(128, 60, (size, size))
    elif kind == "paper":
        arr = np.kron(rng.normal(128, 50, (size // 4 + 1, size // 4 + 1)), np.ones((4, 4)))[:size, :size]
    elif kind == "hatch":
        yy, xx = np.mgrid[:size, :size]
        arr = np.where((xx + yy) % 6 < 1, 40, 128)
    elif kind == "dots":
        yy, xx = np.mgrid[:size, :size]
        arr = np.where(((xx % 8) - 4) ** 2 + ((yy % 8) - 4) ** 2 < 4, 60, 128)
    elif kind == "scanlines":
        arr = np.tile(np.where(np.arange(size) % 3 == 0, 70, 128)[:, None], (1, size))
    else:
        return None
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


@lru_cache(maxsize=16)
def _vignette(size: int, amount: float) -> Image.Image:
    yy, xx = np.mgrid[:size, :size] / (size - 1) * 2 - 1
    mask = 255 * (1 - amount * np.clip(np.hypot(xx, yy) - 0.5, 0, 1))
    return Image.fromarray(mask.astype(np.uint8), "L")


def styled_background(place: str, style: StyleParams, size: int) -> Image.Image:
    top, ground, horizon, prop, seed = _place_look(place)
    img = Image.new("RGB", (size, size), top)
    draw = ImageDraw.Draw(img)
    hy = int(size * horizon)
    draw.rectangle([0, hy, size, size], fill=ground)
    _draw_props(draw, prop, size, hy, seed)
    img = Image.blend(img, Image.new("RGB", img.size, style.tint), style.tint_strength)
    img = ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(style.saturation)).enhance(style.contrast)
    tex = _texture(style.texture, size)
    if tex is not None:
        arr = np.asarray(img, dtype=np.int16) + (
            (np.asarray(tex, dtype=np.int16) - 128) * style.texture_strength)[..., None].astype(np.int16)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if style.vignette > 0:
        img = Image.composite(img, Image.new("RGB", img.size, (0, 0, 0)), _vignette(size, round(style.vignette, 2)))
    return img


def draw_from_bands(rng: np.random.Generator, bands: list[float]) -> float:
    """Uniform over the union of [low1, high1], [low2, high2], ...: one draw, so a single band gives exactly
    `rng.uniform(low, high)` and the datasets written before bands existed keep every figure."""
    pairs = list(zip(bands[::2], bands[1::2]))
    u = float(rng.uniform(0.0, sum(high - low for low, high in pairs)))
    for low, high in pairs:
        if u <= high - low:
            return low + u
        u -= high - low
    return pairs[-1][1]  # float rounding past the last band's top


def figure_layout(seed: int, movie_id: str, render: RenderConfig) -> dict[str, float]:
    """A movie's figure scale, sideways offset (fraction of the frame width, sign drawn too) and gap between
    figures (a multiple of the default gap), drawn uniformly from `render`'s ranges with a stream seeded by
    (seed, movie id): training data sees many drawings of one skill, and a shifted set draws from ranges
    training never saw. The spacing is drawn last, so a config without it keeps every other draw."""
    rng = np.random.default_rng([seed, zlib.crc32(movie_id.encode()), 31337])
    scale = draw_from_bands(rng, render.figure_scale_range) if render.figure_scale_range else render.figure_scale
    offset = float(rng.uniform(*render.figure_offset_range)) * (1 if rng.random() < 0.5 else -1)
    spacing = float(rng.uniform(*render.figure_spacing_range)) if render.figure_spacing_range else 1.0
    return {"figure_scale": round(scale, 4), "figure_offset": round(offset, 4) or 0.0,
            "figure_spacing": round(spacing, 4)}


class ProceduralRenderer:
    """Renders every frame of a movie with one fixed style."""

    def __init__(self, size: int = 336, figure_scale: float = 1.0, figure_offset: float = 0.0,
                 limb_scale: float = 1.0, figure_spacing: float = 1.0):
        self.size, self.figure_scale, self.figure_offset = size, figure_scale, figure_offset
        self.limb_scale, self.figure_spacing = limb_scale, figure_spacing

    def render(self, movie: Movie, style: StyleParams) -> Iterator[Image.Image]:
        backgrounds: dict[str, Image.Image] = {}
        for frame in movie.keyframes:
            if frame.place not in backgrounds:
                backgrounds[frame.place] = styled_background(frame.place, style, self.size)
            yield self.render_frame(frame, [movie.character(n) for n in frame.characters],
                                    backgrounds[frame.place], style)

    def render_frame(self, frame: Frame, chars: list[Character], background: Image.Image,
                     style: StyleParams) -> Image.Image:
        img = background.copy()
        draw = ImageDraw.Draw(img)
        n = len(chars)
        for i, (char, (cx, _)) in enumerate(zip(chars, self.torso_centres(frame.verb, n))):
            facing = 1 if (n > 1 and i < (n - 1) / 2) else (-1 if n > 1 else 1)
            self._figure(draw, char, frame, cx, style, facing)
        return img

    def _body(self, verb: str) -> tuple[float, float, float, float, float, float]:
        """(scale, ground, height, head radius, neck, hip) of a figure doing `verb`, in pixels."""
        s = self.size / 336 * self.figure_scale
        ground = self.size * 0.92
        height = 170 * s * (0.7 if verb in ("sit", "squat") else 1.0)
        head_r = 17 * s
        neck = ground - height + 2 * head_r
        return s, ground, height, head_r, neck, neck + height * 0.42

    def torso_centres(self, verb: str, n: int) -> list[tuple[float, float]]:
        """Pixel centre of each of the n figures' clothing, left to right (where its colour is painted)."""
        # a hug keeps its figures touching; otherwise the movie's spacing moves where each figure stands
        spacing = (0.16 if verb == "hug" else 0.27 * self.figure_spacing) * min(self.figure_scale, 1.2)
        s, _, _, _, neck, hip = self._body(verb)
        # the movie's offset moves the group sideways until its outermost figure's centre is a quarter of a
        # dress's width (15 * s of its 60 * s) from the frame's side: every figure stays at least half inside
        inset = 15 * s / self.size + spacing * (n - 1) / 2
        centre = min(max(0.5 + self.figure_offset, inset), 1 - inset) if inset < 0.5 else 0.5
        return [((centre + spacing * (i - (n - 1) / 2)) * self.size, (neck + hip) / 2) for i in range(n)]

    def _figure(self, draw: ImageDraw.ImageDraw, char: Character, frame: Frame, cx: float,
                style: StyleParams, facing: int) -> None:
        verb = frame.verb
        s, ground, height, head_r, neck, hip = self._body(verb)
        top = ground - height
        cloth = _rgb(char.colour)
        ol = style.outline_colour if style.outline_width else None
        ow = max(1, int(style.outline_width * s)) if style.outline_width else 0
        limb = max(2, int(7 * s * self.limb_scale))
        # legs
        if verb == "walk":  # mid-stride: the front foot down, the back foot lifted off the ground
            legs = [(cx + 28 * facing * s, ground), (cx - 30 * facing * s, ground - 22 * s)]
        elif verb == "sit":
            draw.rectangle([cx - 28 * s, hip, cx + 22 * s, hip + 12 * s], fill=(120, 80, 40))
            draw.rectangle([cx - 28 * s, hip, cx - 22 * s, ground], fill=(120, 80, 40))
            legs = [(cx + 30 * facing * s, hip + 4 * s), (cx + 30 * facing * s, ground)]
        elif verb == "squat":
            legs = [(cx - 32 * s, ground - 30 * s), (cx + 32 * s, ground - 30 * s)]
        else:
            legs = [(cx - 10 * s, ground), (cx + 10 * s, ground)]
        for lx, ly in legs:
            draw.line([(cx, hip), (lx, ly)], fill=(50, 50, 70), width=limb)
            if verb == "squat":
                draw.line([(lx, ly), (lx, ground)], fill=(50, 50, 70), width=limb)
        # body: a dress for women, a jacket for men, in the character's colour
        if char.gender == "woman":
            draw.polygon([(cx - 12 * s, neck), (cx + 12 * s, neck), (cx + 30 * s, hip + 12 * s),
                          (cx - 30 * s, hip + 12 * s)], fill=cloth, outline=ol, width=ow)
        else:
            draw.rectangle([cx - 20 * s, neck, cx + 20 * s, hip + 4 * s], fill=cloth, outline=ol, width=ow)
        # arms by verb
        shoulder = neck + 8 * s
        if verb == "hold":  # both hands out in front at chest height, the object in the outer one
            hand = (cx + 40 * facing * s, shoulder + 6 * s)
            arms = [hand, (cx + 36 * facing * s, shoulder + 16 * s)]
        elif verb == "talk":
            hand = (cx + 40 * facing * s, shoulder + 10 * s)
            arms = [hand, (cx - 16 * facing * s, hip)]
        elif verb == "hug":
            hand = (cx + 34 * facing * s, shoulder + 12 * s)
            arms = [hand, (cx + 30 * facing * s, shoulder + 28 * s)]
        elif verb == "walk":  # arms swing against the legs: one forward and up, one back
            hand = (cx + 36 * facing * s, hip - 18 * s)
            arms = [hand, (cx - 32 * facing * s, hip - 2 * s)]
        elif verb == "look":  # arm raised clear of the hair, shading the eyes; the hand stays in the frame
            hand = (cx + 32 * facing * s, max(top - 0.2 * head_r, limb * 0.7))
            arms = [hand, (cx - 16 * facing * s, hip)]
        else:
            hand = (cx + 18 * s, hip)
            arms = [hand, (cx - 18 * s, hip)]
        for ax, ay in arms:  # sleeves in the clothing colour, bare hands: where the hands are shows the pose
            draw.line([(cx, shoulder), (ax, ay)], fill=cloth, width=limb)
        for ax, ay in arms:
            draw.ellipse([ax - limb * 0.7, ay - limb * 0.7, ax + limb * 0.7, ay + limb * 0.7], fill=SKIN)
        # head, hair, face
        hx, hy = cx, top + head_r
        if char.gender == "woman":
            draw.rectangle([hx - head_r * 1.15, hy, hx + head_r * 1.15, hy + head_r * 1.9], fill=(70, 40, 20))
            draw.ellipse([hx - head_r * 1.2, hy - head_r * 1.25, hx + head_r * 1.2, hy + head_r * 1.0], fill=(70, 40, 20))
        draw.ellipse([hx - head_r, hy - head_r, hx + head_r, hy + head_r], fill=SKIN, outline=ol, width=ow)
        self._face(draw, frame.expression, hx + 3 * facing * s, hy, s)
        if verb == "hold" and frame.target:
            self._object(draw, frame.target, hand, s)
        if verb == "talk":  # the bubble above the head, or beside it where a large figure leaves no room above
            above = hy - 40 * s >= 15 * s
            bx, by = (hx + 30 * facing * s, hy - 40 * s) if above else (hx + 44 * facing * s, 15 * s)
            draw.ellipse([bx - 22 * s, by - 14 * s, bx + 22 * s, by + 14 * s], fill=(255, 255, 255), outline=(0, 0, 0))

    @staticmethod
    def _face(draw: ImageDraw.ImageDraw, expression: str, x: float, y: float, s: float) -> None:
        eye = 2.5 * s
        for ex in (x - 6 * s, x + 6 * s):
            r = eye * (1.8 if expression in ("surprised", "scared") else 1)
            draw.ellipse([ex - r, y - 4 * s - r, ex + r, y - 4 * s + r], fill=(20, 20, 20))
        box = [x - 7 * s, y + 2 * s, x + 7 * s, y + 11 * s]
        if expression == "happy":
            draw.arc(box, 0, 180, fill=(120, 20, 20), width=max(1, int(2 * s)))
        elif expression == "sad":
            draw.arc([box[0], box[1] + 6 * s, box[2], box[3] + 6 * s], 180, 360, fill=(60, 20, 20), width=max(1, int(2 * s)))
        elif expression in ("surprised", "scared"):
            draw.ellipse([x - 4 * s, y + 4 * s, x + 4 * s, y + 12 * s], fill=(60, 0, 0))
        else:
            draw.line([(x - 6 * s, y + 7 * s), (x + 6 * s, y + 7 * s)], fill=(60, 20, 20), width=max(1, int(2 * s)))
        if expression == "angry":
            draw.line([(x - 10 * s, y - 11 * s), (x - 2 * s, y - 7 * s)], fill=(0, 0, 0), width=max(1, int(2 * s)))
            draw.line([(x + 10 * s, y - 11 * s), (x + 2 * s, y - 7 * s)], fill=(0, 0, 0), width=max(1, int(2 * s)))
        if expression == "scared":
            draw.line([(x - 9 * s, y - 12 * s), (x + 9 * s, y - 12 * s)], fill=(0, 0, 0), width=max(1, int(s)))

    @staticmethod
    def _object(draw: ImageDraw.ImageDraw, name: str, hand: tuple[float, float], s: float) -> None:
        shape, colour = OBJECT_SHAPES.get(name, ("rect", _rgb(name)))
        x, y = hand
        r = 11 * s
        if shape == "rect":
            draw.rectangle([x - r, y - r * 0.7, x + r, y + r * 0.7], fill=colour, outline=(0, 0, 0))
        elif shape == "cup":
            draw.rectangle([x - r * 0.6, y - r, x + r * 0.6, y + r * 0.6], fill=colour, outline=(0, 0, 0))
        elif shape == "flower":
            draw.line([(x, y), (x, y + 2 * r)], fill=(30, 140, 30), width=max(1, int(2 * s)))
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        elif shape == "umbrella":
            draw.line([(x, y), (x, y - 3 * r)], fill=(20, 20, 20), width=max(1, int(2 * s)))
            draw.pieslice([x - 2.5 * r, y - 5 * r, x + 2.5 * r, y - 1.5 * r], 180, 360, fill=colour)
        elif shape == "lamp":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour, outline=(90, 70, 0))
        elif shape == "key":
            draw.ellipse([x - r * 0.6, y - r * 0.6, x + r * 0.6, y + r * 0.6], outline=colour, width=max(2, int(3 * s)))
            draw.line([(x + r * 0.6, y), (x + 2 * r, y)], fill=colour, width=max(2, int(3 * s)))
