"""The QR slip: the code for a receipt's link as a PNG, with its token and short code printed
under it, and portable file names for the images (moved from receipts.py)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, Final

import qrcode
from qrcode.image.pil import PilImage

#: The dossier code is never stored; the limit only keeps file names and lines sane.
MAX_DOSSIER_CHARS: Final = 64

#: Error correction M survives a smudge or a fold on a paper slip. 8-pixel modules give a
#: 328-pixel image for a 24-character token, still sharp when printed 3 cm wide at 300 dpi;
#: the 4-module quiet zone is the standard's minimum for reliable scanning.
QR_BOX_SIZE: Final = 8
QR_BORDER: Final = 4
#: How many modules high the short code is printed (5: about 3.4 mm on a 3 cm code).
CODE_MODULES: Final = 5


def qr_code(link: str) -> qrcode.QRCode:
    """The QR code ``write_qr`` draws for ``link``."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=QR_BOX_SIZE, border=QR_BORDER
    )
    # One 8-bit segment holding exactly the link: what a phone's scanner will read back.
    qr.add_data(link, optimize=0)
    qr.make(fit=True)
    return qr


def write_qr(link: str, path: Path, caption: str | None = None, code: str | None = None) -> None:
    """Writes ``link`` as a black-on-white PNG QR code, with ``caption`` under it if given,
    and under that ``code`` in large type (``CODE_MODULES`` modules high), if given.

    The caption is meant for the token: a citizen whose phone cannot scan can still type
    ``/start TOKEN`` to the bot; on Zalo they type the short code, hence its size.
    """
    from PIL import Image, ImageDraw

    image = qr_code(link).make_image(image_factory=PilImage).get_image().convert("L")
    width, height = image.size
    lines = [(text, size) for text, size in ((caption, 2), (code, CODE_MODULES)) if text]
    if lines:
        extra = sum((size + 1) * QR_BOX_SIZE for _, size in lines)
        # Below the quiet zone, so the text never touches the code.
        slip = Image.new("L", (width, height + extra), color=255)
        slip.paste(image, (0, 0))
        draw = ImageDraw.Draw(slip)
        top = height
        for text, size in lines:
            font = _caption_font(text, width - 2 * QR_BOX_SIZE, size * QR_BOX_SIZE)
            # Centred by hand: text anchors need FreeType, which a minimal Pillow may lack.
            left = (width - draw.textlength(text, font=font)) / 2
            draw.text((left, top), text, fill=0, font=font)
            top += (size + 1) * QR_BOX_SIZE
        image = slip
    image.save(path, format="PNG")


def _dejavu() -> str | None:
    """DejaVu Sans (bundled with matplotlib) has the Vietnamese letters Pillow's default font
    lacks ("Gửi mã" would print as boxes)."""
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    except ImportError:
        return None
    return str(path) if path.exists() else None


_CAPTION_FONT = _dejavu()


def _caption_font(text: str, width: int, height: int = 2 * QR_BOX_SIZE) -> Any:
    """The largest default font, up to ``height`` pixels, that fits ``text`` in ``width``."""
    from PIL import ImageFont

    font: Any = None
    for size in range(height, 7, -1):
        try:
            font = (
                ImageFont.truetype(_CAPTION_FONT, size)
                if _CAPTION_FONT
                else (ImageFont.load_default(size=size))
            )
        except (ImportError, OSError):  # a Pillow without FreeType: its small bitmap font
            return ImageFont.load_default()
        if font.getlength(text) <= width:
            break
    return font


def qr_filename(number: int, dossier: str | None = None) -> str:
    """``0001.png``, or ``0001_<dossier>.png`` with the dossier code made file-safe:
    ``number`` is the receipt's place (from 1) in the printed list. Never the token: a folder
    of images named by token and dossier is a table joining dossiers to survey links."""
    stem = safe_stem(dossier) if dossier else ""
    return f"{number:04d}_{stem}.png" if stem else f"{number:04d}.png"


def safe_stem(text: str) -> str:
    """``text`` as a portable file name part: ASCII letters, digits, ``.``, ``_`` and ``-``."""
    ascii_text = _fold(text)
    # Leading dots and dashes would make a hidden file or a name read as an option.
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")[:MAX_DOSSIER_CHARS]


def _fold(text: str) -> str:
    """Vietnamese text without diacritics (``Mã hồ sơ`` → ``Ma ho so``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
