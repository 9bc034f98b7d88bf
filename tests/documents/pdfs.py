"""Reading documents back: text (pypdf) and the QR code decoded from the rendered page (zxing-cpp)."""

import io

import pypdf
import pypdfium2
import zxingcpp


def pdf_text(content):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def qr_payloads(content, scale=4):
    """Every QR code on every page, decoded from pixels as a phone's banking app would."""
    found = []
    document = pypdfium2.PdfDocument(content)
    try:
        for page in document:
            image = page.render(scale=scale).to_pil()
            found += [
                result.text
                for result in zxingcpp.read_barcodes(image)
                if result.format == zxingcpp.BarcodeFormat.QRCode
            ]
    finally:
        document.close()
    return found
