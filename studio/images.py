"""Reference images: decide what an upload really is, clean it, and fit it to a video's size.

The pipeline, in order: the type from the bytes, not the name (PNG, JPEG, WEBP
stills only); at most 5 MB; decompression bombs refused from the header,
before any pixel is decoded, and the 256 px minimum checked there too; a full
decode (truncated files refused, PNGs checked to their last chunk); EXIF
orientation applied; every metadata block dropped (only pixels are kept);
RGB (CMYK, greyscale and palettes converted, alpha flattened onto white),
reduced first when far larger than needed so big PNGs don't multiply in memory.
Each refusal is a sentence a creator reads.

Fitting to the exact target size crops (around the centre or a focal point) or
pads (a blurred fill of the image itself, or a solid colour). JPEGs are
decoded at a reduced scale when the target is smaller (libjpeg's DCT scaling):
the decode still reads the whole file, so truncation is still caught.
"""

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from . import uploads
from .inputs import fraction, parse_size

MIN_SHORT_SIDE = 256
# A pixel budget per format, checked from the header before anything is decoded, so no
# upload costs more than about 160 MB to read. JPEGs decode at a reduced scale (draft), so
# big photos stay cheap; PNG decodes at full size; Pillow's WEBP decoder needs about
# twice PNG's memory per pixel (measured: 24 MP lossless WEBP, 390 MB).
MAX_PIXELS = {"JPEG": 40_000_000, "PNG": 24_000_000, "WEBP": 8_000_000}
MAX_ASPECT = 4.0  # wider or taller than 4:1 can't fit any video frame sensibly
STORED_LONG_SIDE = 2560  # enough to fit any size up to 1792 px with room to crop
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
)
DISGUISES = (
    (b"%PDF", "It's a PDF document, not a picture"),
    (b"GIF8", "GIFs aren't supported"),
    (b"<svg", "It's an SVG drawing, not a picture"),
    (b"<?xml", "It's an XML file (an SVG drawing?), not a picture"),
    (b"<!doctype html", "It's a web page, not a picture"),
    (b"<html", "It's a web page, not a picture"),
    (b"PK\x03\x04", "It's a ZIP archive, not a picture"),
)
USE_INSTEAD = ": use a PNG, JPEG or WEBP still."
ORIENTATION = 0x0112  # the EXIF tag


class ImageRejected(ValueError):
    """An image Slate won't use; the message says why in a sentence."""


@dataclass(frozen=True)
class Fit:
    mode: str = "crop"  # crop or pad
    focus: tuple[float, float] = (0.5, 0.5)  # where to keep, as fractions of width and height
    pad: str = "blur"  # blur or colour
    colour: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def from_values(cls, values) -> "Fit":
        """From form or query values, forgiving: anything odd falls back to the default."""

        colour = str(values.get("pad_color") or "#000000").lstrip("#")
        try:
            rgb = tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4)) if len(colour) == 6 else None
        except ValueError:
            rgb = None
        return cls(
            mode="pad" if values.get("fit") == "pad" else "crop",
            focus=(fraction(values.get("focus_x", 0.5)), fraction(values.get("focus_y", 0.5))),
            pad="colour" if values.get("pad") == "colour" else "blur",
            colour=rgb or (0, 0, 0),
        )


def sniff(head: bytes) -> str:
    """The image format the bytes begin with, or raise saying what the file is instead."""
    if not head:
        raise ImageRejected("The file is empty.")
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    lowered = head.lstrip()[:32].lower()
    for signature, reason in DISGUISES:
        if lowered.startswith(signature.lower()) or head.startswith(signature):
            return _refuse(reason + USE_INSTEAD)
    return _refuse("That isn't an image Slate can read" + USE_INSTEAD)


def _refuse(message: str):
    raise ImageRejected(message)


def _open(data: bytes) -> tuple[Image.Image, str]:
    """Checks that need no pixels: size of file, type, dimensions, animation."""
    if problem := uploads.over_limit("image", len(data), uploads.REFERENCE_LIMIT):
        raise ImageRejected(problem)
    kind = sniff(data[:64])
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit: a bomb is a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("The image has far too many pixels to be a real photo.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageRejected("The file is damaged: its header can't be read.") from error
    try:
        _check_header(image, kind)
        if kind == "PNG":  # load() accepts a PNG cut after its pixels; verify() reads to IEND
            with Image.open(io.BytesIO(data), formats=["PNG"]) as whole:
                whole.verify()
    except ImageRejected:
        image.close()
        raise
    except (OSError, SyntaxError, ValueError) as error:
        image.close()
        raise ImageRejected("The file is cut short or damaged; export it again.") from error
    return image, kind


def _check_header(image: Image.Image, kind: str) -> None:
    width, height = image.size
    limit = MAX_PIXELS[kind]
    if width * height > limit:
        raise ImageRejected(
            f"The image is {width}×{height} ({width * height / 1e6:.0f} "
            f"megapixels); the limit is {limit // 1_000_000} for {kind}"
            + (" (a JPEG may have up to 40)." if kind != "JPEG" else ".")
        )
    if min(width, height) < MIN_SHORT_SIDE:  # the same whichever way up it is shown
        raise ImageRejected(
            f"The image is {width}×{height}; the short side must be at least {MIN_SHORT_SIDE} px."
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageRejected(
            f"The image is {width}×{height}, more than {MAX_ASPECT:.0f} times as "
            f"{'wide' if width > height else 'tall'} as it is "
            f"{'tall' if width > height else 'wide'}: no video frame fits it. Crop it first."
        )
    if getattr(image, "n_frames", 1) > 1:
        raise ImageRejected("Animated images aren't supported" + USE_INSTEAD)


def _decoded(image: Image.Image, needed: tuple[int, int] | None = None) -> Image.Image:
    """Decode every byte (at a reduced JPEG scale when ``needed`` allows), orient, make RGB.

    ``needed`` is the upright size the caller needs at least.
    """
    if needed and image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):  # stored sideways
        needed = (needed[1], needed[0])
    if needed and image.format == "JPEG":
        image.draft("RGB", needed)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejected("The file is cut short or damaged; export it again.") from error
    factor = min(image.width // needed[0], image.height // needed[1]) if needed else 1
    if factor >= 2:  # shrink before any copy is made (a cheap box filter; LANCZOS comes later)
        if image.mode in ("P", "PA", "1", "CMYK", "YCbCr", "I;16"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        image = image.reduce(factor)
    ImageOps.exif_transpose(image, in_place=True)  # no copy: this decode is ours alone
    # A fresh image holding only the pixels: no EXIF, ICC, XMP, comments or text chunks.
    # Made with one copy of the pixels, so a large decode isn't multiplied.
    clean = Image.new("RGB", image.size, (255, 255, 255))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        clean.paste(rgba, mask=rgba.getchannel("A"))  # alpha flattened onto white
    else:
        clean.paste(image if image.mode == "RGB" else image.convert("RGB"))
    return clean


@dataclass(frozen=True)
class Normalized:
    image: Image.Image
    source_format: str

    def jpeg(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, "JPEG", quality=95, optimize=True)
        return out.getvalue()


def read_at_most(path: Path, limit: int) -> bytes:
    """The file at ``path``, or its first ``limit + 1`` bytes: enough to tell it is over
    ``limit`` without holding a file of any size (or an endless one, /dev/zero) in memory."""
    with open(path, "rb") as handle:
        return handle.read(limit + 1)


def normalize(data: bytes) -> Normalized:
    """The whole pipeline for an upload: a clean RGB image, at most 2560 px on the long side."""
    image, kind = _open(data)
    with image:
        scale = min(1.0, STORED_LONG_SIDE / max(image.size))
        needed = (round(image.width * scale), round(image.height * scale))
        clean = _decoded(image, needed)
    if max(clean.size) > STORED_LONG_SIDE:
        clean.thumbnail((STORED_LONG_SIDE, STORED_LONG_SIDE), Image.Resampling.LANCZOS)
    return Normalized(clean, kind)


def fit(image: Image.Image, width: int, height: int, how: Fit = Fit()) -> Image.Image:
    """``image`` at exactly width × height: cropped around the focus, or padded."""
    if how.mode == "pad":
        scale = min(width / image.width, height / image.height)
        inner = image.resize(
            (max(round(image.width * scale), 1), max(round(image.height * scale), 1)),
            Image.Resampling.LANCZOS,
            reducing_gap=3.0,
        )
        if how.pad == "colour":
            canvas = Image.new("RGB", (width, height), how.colour)
        else:
            canvas = _cover(image, width, height, (0.5, 0.5), small=True)
            canvas = canvas.filter(ImageFilter.GaussianBlur(radius=max(width, height) / 60))
            canvas = Image.blend(canvas, Image.new("RGB", canvas.size), 0.25)  # a touch darker
        canvas.paste(inner, ((width - inner.width) // 2, (height - inner.height) // 2))
        return canvas
    return _cover(image, width, height, how.focus)


def _cover(image: Image.Image, width: int, height: int, focus, small=False) -> Image.Image:
    scale = max(width / image.width, height / image.height)
    box_w, box_h = width / scale, height / scale
    left = min(max(focus[0] * image.width - box_w / 2, 0), image.width - box_w)
    top = min(max(focus[1] * image.height - box_h / 2, 0), image.height - box_h)
    target = (max(width // 8, 1), max(height // 8, 1)) if small else (width, height)
    resized = image.resize(
        target,
        Image.Resampling.LANCZOS,
        box=(left, top, left + box_w, top + box_h),
        reducing_gap=3.0,
    )
    return resized.resize((width, height), Image.Resampling.BILINEAR) if small else resized


def as_first_frame(image: Image.Image) -> bytes:
    """A first frame as providers take it: a JPEG at near-lossless quality, no metadata.

    (PNG would be lossless, but encoding a photo's noise as PNG takes longer than the
    whole rest of the pipeline, and the file is ten times the size.)
    """
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, subsampling=0)
    return out.getvalue()


def fit_bytes(data: bytes, size: str, how: Fit = Fit()) -> bytes:
    """An upload straight to a fitted first frame of ``size`` (the CLI's --reference)."""
    width, height = parse_size(size)
    image, _ = _open(data)
    with image:
        upright = image.size
        if image.format == "JPEG" and image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):
            upright = (image.height, image.width)
        cover = max(width / upright[0], height / upright[1])
        needed = (round(upright[0] * cover), round(upright[1] * cover))
        clean = _decoded(image, needed)
    return as_first_frame(fit(clean, width, height, how))


def fit_reference_file(path: Path, size: str, how: Fit = Fit()) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageRejected(f"Can't read {path.name}: {error.strerror}.") from error
    return fit_bytes(data, size, how)


def safe_label(name: str) -> str:
    """An upload's name as a harmless label: no folders, no control characters, not too long."""
    import unicodedata

    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    base = " ".join(base.split()).strip(". ") or "reference"
    return base[:80]


def fit_frame(data: bytes, size: str) -> bytes:
    """A frame Slate cut from a video (trusted, any size) as a first frame of ``size``:
    cropped to fill when its size differs (a provider may send another size than asked)."""
    width, height = parse_size(size)
    with Image.open(io.BytesIO(data)) as image:
        if image.size == (width, height):
            return data
        return as_first_frame(fit(image.convert("RGB"), width, height))
