"""QR codes drawn on the server as SVG (the pages load nothing from the internet and carry
no QR library): a ticket's status page, a booking's code, a procedure's online filing page."""
from __future__ import annotations

import qrcode
import qrcode.image.svg


def qr_svg(text: str) -> bytes:
    """A QR code of `text` as SVG: one path on a white square (scannable on any page colour)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       image_factory=qrcode.image.svg.SvgPathFillImage)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image().to_string()

