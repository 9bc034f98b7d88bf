"""Documents as PDF: the Jinja2 template gives the text, fpdf2 lays it out on A4.

Text reaches the PDF only through fpdf2's text calls, which escape it as PDF strings; the
template's finalize takes "|" and line breaks out of every value, so no customer's or shop's
text can add a line or a column of its own. The body is set in DejaVu Sans (vendored in
``fonts/`` with its license, embedded as a subset): Latin, Greek and Cyrillic letters, Arabic and
Hebrew among others, shaped by HarfBuzz (uharfbuzz), so that Arabic letters join and right-to-left
text runs right to left. The QR-bill's payment part keeps its own text (see qr.py).
"""

import io
from pathlib import Path

from fpdf import FPDF, XPos, YPos
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from oms_common.fields import CONTROL_OR_LINE_BREAK, INVISIBLE_FORMATTING

TEMPLATES = Path(__file__).parent / "templates"
FONTS = Path(__file__).parent / "fonts"
DOCUMENT = "document.txt"  # invoices and credit notes
FONT = "DejaVuSans"
FONT_FILES = {"": FONTS / "DejaVuSans.ttf", "B": FONTS / "DejaVuSans-Bold.ttf"}
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 210, 297, 15
QR_BILL_HEIGHT = 106  # the payment part and receipt (105 mm) with the line to cut along
# Pos, article, description, quantity, price, rate, amount (180 mm)
COLUMNS = (10, 26, 68, 16, 22, 14, 24)
TAX_COLUMNS = (40, 35, 35, 35)
# a delivery note's goods: pos, article, description, quantity (180 mm)
GOODS_COLUMNS = (12, 34, 114, 20)


def _finalize(value):
    if value is None:
        return ""
    text = INVISIBLE_FORMATTING.sub("", str(value))
    return CONTROL_OR_LINE_BREAK.sub(" ", text).replace("|", "/")


_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    undefined=StrictUndefined,
    finalize=_finalize,
    autoescape=False,
    keep_trailing_newline=False,
)


def document_text(content, template=DOCUMENT):
    """The lines of ``template`` filled with one document's content, as (kind, fields)."""
    rendered = _environment.get_template(template).render(**content)
    rows = []
    for line in rendered.splitlines():
        if line.strip():
            kind, _, rest = line.partition("|")
            rows.append((kind, rest.split("|")))
    return rows


class _Layout:
    def __init__(self, logo=None):
        self.pdf = FPDF(format="A4", unit="mm")
        # the QR-bill's SVG text is drawn in the core font Helvetica
        self.pdf.core_fonts_encoding = "windows-1252"
        for style, path in FONT_FILES.items():
            self.pdf.add_font(FONT, style=style, fname=str(path))
        self.pdf.set_text_shaping(True)
        self.pdf.set_creator("OMS")
        self.pdf.set_auto_page_break(True, margin=MARGIN)
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.add_page()
        self.font()
        if logo:
            self.pdf.image(io.BytesIO(logo), x=PAGE_WIDTH - MARGIN - 40, y=MARGIN, w=40)
        self.table_started = False

    def font(self, size=9, style=""):
        self.pdf.set_font(FONT, style=style, size=size)

    def line(self, text, size=9, style="", height=4.2):
        self.font(size, style)
        self.pdf.multi_cell(0, height, str(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def cells(self, widths, values, style="", aligns=None, border=0):
        self.font(8.5, style)
        aligns = aligns or ["L"] * len(widths)
        for width, value, align in zip(widths, values, aligns, strict=True):
            self.pdf.cell(width, 5, str(value), border=border, align=align)
        self.pdf.ln(5)


def _lay_out(layout, rows):
    pdf = layout.pdf
    numbers = ("L", "L", "L", "R", "R", "R", "R")
    for kind, fields in rows:
        if kind == "FROM":
            layout.line(fields[0], size=8)
        elif kind == "TO":
            if pdf.get_y() < 50:
                pdf.set_y(50)
            layout.line(fields[0], size=10)
        elif kind == "TITLE":
            pdf.ln(8)
            layout.line(fields[0], size=15, style="B", height=8)
            pdf.ln(2)
        elif kind == "META":
            layout.cells((45, 135), fields[:2])
        elif kind == "HEAD":
            pdf.ln(4)
            layout.cells(COLUMNS, fields, style="B", aligns=numbers, border="B")
        elif kind == "ROW":
            layout.cells(COLUMNS, fields, aligns=numbers)
        elif kind == "GOODSHEAD":
            pdf.ln(4)
            layout.cells(GOODS_COLUMNS, fields, style="B", aligns=("L", "L", "L", "R"), border="B")
        elif kind == "GOODS":
            layout.cells(GOODS_COLUMNS, fields, aligns=("L", "L", "L", "R"))
        elif kind == "TAXHEAD":
            pdf.ln(4)
            layout.cells(TAX_COLUMNS, fields, style="B", aligns=("L", "R", "R", "R"), border="B")
        elif kind == "TAX":
            layout.cells(TAX_COLUMNS, fields, aligns=("L", "R", "R", "R"))
        elif kind == "TOTAL":
            pdf.ln(2)
            layout.cells((145, 35), fields[:2], style="B", aligns=("L", "R"), border="T")
        elif kind == "TEXT":
            layout.line(fields[0], size=8)


def _draw_symbol(pdf, modules, left, top, size):
    """A QR code as filled rectangles, one per run of dark modules in a row."""
    step = size / len(modules)
    pdf.set_fill_color(0, 0, 0)
    for y, row in enumerate(modules):
        x = 0
        while x < len(row):
            if row[x]:
                run = x
                while run < len(row) and row[run]:
                    run += 1
                # a hair wider and taller, so that neighbouring rectangles leave no seam
                pdf.rect(left + x * step, top + y * step, (run - x) * step + 0.01, step + 0.01, style="F")
                x = run
            else:
                x += 1
    _draw_swiss_cross(pdf, left + size / 2, top + size / 2)


def _draw_swiss_cross(pdf, centre_x, centre_y):
    """The Swiss cross over the symbol's centre (7 mm with its white border), as qrbill draws it."""

    def square(side, grey):
        pdf.set_fill_color(grey)
        pdf.rect(centre_x - side / 2, centre_y - side / 2, side, side, style="F")

    square(7.0, 255)
    square(6.2, 0)
    pdf.set_fill_color(255)
    arm_long, arm_wide = 11 / 19 * 7, 3.3 / 19 * 7
    pdf.rect(centre_x - arm_wide / 2, centre_y - arm_long / 2, arm_wide, arm_long, style="F")
    pdf.rect(centre_x - arm_long / 2, centre_y - arm_wide / 2, arm_long, arm_wide, style="F")
    pdf.set_fill_color(0)


def render(content, logo=None, qr_bill=None, template=DOCUMENT):
    """The PDF of one document: its content (see invoices.content) in ``template``, the shop's
    logo, and the QR-bill at the foot of the last page when there is one: ``(svg, modules, (left,
    top, size))`` — qrbill's payment part and receipt, and the QR code drawn into its place."""
    layout = _Layout(logo)
    _lay_out(layout, document_text(content, template))
    if qr_bill:
        svg, modules, (left, top, size) = qr_bill
        pdf = layout.pdf
        if pdf.get_y() > PAGE_HEIGHT - QR_BILL_HEIGHT - 5:
            pdf.add_page()
        bill_top = PAGE_HEIGHT - QR_BILL_HEIGHT
        pdf.image(io.BytesIO(svg.encode("utf-8")), x=0, y=bill_top, w=PAGE_WIDTH)
        _draw_symbol(pdf, modules, left, bill_top + top, size)
    return bytes(layout.pdf.output())


def render_blank():
    """The renderer's cost floor (the bench's baseline): one empty A4 page."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_page()
    return bytes(pdf.output())
