"""Captions and the "animatic preview" label, drawn once and blended into every frame.

Frames are encoded as yuv420p, so the overlay is converted to that format once
and blended region by region in YUV: much cheaper than compositing RGB frames.
"""

from dataclasses import dataclass

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

LABEL = "ANIMATIC PREVIEW"
SUBLABEL = "not model output"


@dataclass(frozen=True)
class Captions:
    subject: str
    motion: str
    dialogue: str
    info: str  # top-right: the camera move, duration and size


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's bundled font: the same glyphs on every machine, so same bytes.
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and font.getlength(lines[-1] + "…") > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return lines


def draw_overlay(captions: Captions, width: int, height: int) -> Image.Image:
    """The whole overlay as a transparent RGBA image of the frame's size."""
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    unit = min(width, height) / 720
    pad = round(24 * unit)

    # Top left: the label nobody can miss.
    label_font, small_font = _font(round(26 * unit)), _font(round(17 * unit))
    label_w = max(label_font.getlength(LABEL), small_font.getlength(SUBLABEL))
    box = (pad, pad, pad + label_w + 2 * pad * 0.7, pad + 66 * unit)
    draw.rounded_rectangle(box, radius=round(8 * unit), fill=(255, 190, 40, 235))
    draw.text((pad * 1.7, pad + 8 * unit), LABEL, font=label_font, fill=(24, 20, 10, 255))
    draw.text((pad * 1.7, pad + 40 * unit), SUBLABEL, font=small_font, fill=(60, 46, 10, 255))

    # Top right: what the camera does, and the clip's format.
    if captions.info:
        info_font = _font(round(19 * unit))
        text_w = info_font.getlength(captions.info)
        x = width - pad - text_w - pad
        draw.rounded_rectangle(
            (x, pad, width - pad, pad + 38 * unit), radius=round(8 * unit), fill=(0, 0, 0, 150)
        )
        draw.text((x + pad / 2, pad + 8 * unit), captions.info, font=info_font, fill="white")

    # Bottom: the shot in words.
    text_width = width - 4 * pad
    rows: list[tuple[str, ImageFont.FreeTypeFont, tuple]] = []
    for text, size, colour, max_lines in (
        (captions.subject, 34, (255, 255, 255, 255), 2),
        (captions.motion, 26, (225, 225, 225, 255), 2),
        (captions.dialogue, 26, (255, 214, 120, 255), 2),
    ):
        if text:
            font = _font(round(size * unit))
            rows += [(line, font, colour) for line in _wrap(text, font, text_width, max_lines)]
    if rows:
        line_gap = 10 * unit
        block = sum(font.size + line_gap for _, font, _ in rows) + pad
        top = height - pad - block
        draw.rounded_rectangle(
            (pad, top, width - pad, height - pad), radius=round(10 * unit), fill=(0, 0, 0, 165)
        )
        y = top + pad / 2
        for line, font, colour in rows:
            draw.text((2 * pad, y), line, font=font, fill=colour)
            y += font.size + line_gap
    return overlay


def yuv_planes(data: np.ndarray, height: int, width: int):
    """Views of the Y, U and V planes in PyAV's packed yuv420p array."""
    flat = data.reshape(-1)
    luma_size, chroma_size = height * width, height * width // 4
    return (
        flat[:luma_size].reshape(height, width),
        flat[luma_size : luma_size + chroma_size].reshape(height // 2, width // 2),
        flat[luma_size + chroma_size :].reshape(height // 2, width // 2),
    )


@dataclass(frozen=True)
class _Region:
    top: int
    left: int
    planes: tuple[np.ndarray, np.ndarray, np.ndarray]  # premultiplied Y, U, V (uint16)
    inverse: tuple[np.ndarray, np.ndarray]  # 256 - alpha, full and half resolution


class YuvOverlay:
    """The overlay, pre-converted for blending into yuv420p frames."""

    def __init__(self, overlay: Image.Image):
        alpha = np.asarray(overlay.getchannel("A"))
        self.regions = [self._region(overlay, alpha, rows) for rows in self._bands(alpha)]

    @staticmethod
    def _bands(alpha: np.ndarray) -> list[tuple[int, int]]:
        """Row ranges (even-aligned) that hold any visible overlay pixel."""
        used = np.flatnonzero(alpha.any(axis=1))
        if not used.size:
            return []
        bands, start, previous = [], used[0], used[0]
        for row in used[1:]:
            if row > previous + 1:
                bands.append((start, previous + 1))
                start = row
            previous = row
        bands.append((start, previous + 1))
        return [(a // 2 * 2, min(-(-b // 2) * 2, alpha.shape[0])) for a, b in bands]

    @staticmethod
    def _region(overlay: Image.Image, alpha: np.ndarray, rows: tuple[int, int]) -> _Region:
        top, bottom = rows
        cols = np.flatnonzero(alpha[top:bottom].any(axis=0))
        left, right = cols[0] // 2 * 2, min(-(-(cols[-1] + 1) // 2) * 2, alpha.shape[1])
        rgba = np.asarray(overlay.crop((left, top, right, bottom)))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba[..., :3]), format="rgb24")
        h, w = bottom - top, right - left
        y, u, v = yuv_planes(frame.reformat(format="yuv420p").to_ndarray(), h, w)
        a = rgba[..., 3].astype(np.uint16) + (rgba[..., 3] > 127)  # 0..256
        a_half = (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2] + 2) // 4
        planes = (y * a, u * a_half, v * a_half)
        return _Region(
            top, left, tuple(p.astype(np.uint16) for p in planes), (256 - a, 256 - a_half)
        )

    def blend(self, frame: av.VideoFrame) -> av.VideoFrame:
        """A new yuv420p frame: ``frame`` with the overlay on top."""
        data = frame.to_ndarray()
        luma, chroma_u, chroma_v = yuv_planes(data, frame.height, frame.width)
        for r in self.regions:
            for plane, top, left, ov, inv in (
                (luma, r.top, r.left, r.planes[0], r.inverse[0]),
                (chroma_u, r.top // 2, r.left // 2, r.planes[1], r.inverse[1]),
                (chroma_v, r.top // 2, r.left // 2, r.planes[2], r.inverse[1]),
            ):
                ph, pw = ov.shape
                target = plane[top : top + ph, left : left + pw]
                target[:] = (target * inv + ov) >> 8
        return av.VideoFrame.from_ndarray(data, format="yuv420p")
