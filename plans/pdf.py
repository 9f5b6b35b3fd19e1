"""A support plan as a PDF the person can keep and share, drawn from the same Document
as the print page (plans/document.py), so the two never disagree.

fpdf2 is pure Python. Neither it nor the project ships a Unicode TTF font, so the PDF
uses the core Helvetica font with the Windows-1252 encoding (WinAnsiEncoding in the
PDF): that covers £, €, curly quotes and apostrophes, dashes and accented Latin letters,
which is what people type. Anything beyond it is reduced to its nearest Latin letters
(é stays é; "ŵ" becomes "w") or a "?", rather than failing the download."""

from __future__ import annotations

import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from plans.document import Document

ENCODING = "windows-1252"
FONT = "Helvetica"
LINE = 5.5  # mm per line of body text


def pdf_text(text: str) -> str:
    """``text`` with every character the core font can draw; others simplified."""
    out = []
    for char in text:
        try:
            char.encode(ENCODING)
        except UnicodeEncodeError:
            simple = unicodedata.normalize("NFKD", char)
            simple = "".join(c for c in simple if not unicodedata.combining(c))
            try:
                simple.encode(ENCODING)
            except UnicodeEncodeError:
                simple = "?"
            out.append(simple or "?")
        else:
            out.append(char)
    return "".join(out)


class _PlanPDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.core_fonts_encoding = ENCODING

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.set_text_color(80, 80, 80)
        self.cell(
            0,
            10,
            pdf_text(f"{self.footer_text} - page {self.page_no()} of {{nb}}"),
            align="C",
        )


def document_pdf(document: Document) -> bytes:
    """The document as PDF bytes: title, subtitle, each section with its entries and
    their labelled lines."""
    pdf = _PlanPDF(footer_text=document.title)
    pdf.set_title(pdf_text(document.title))
    pdf.set_subject(pdf_text(document.subtitle))
    pdf.set_lang("en-GB")
    pdf.set_creator("Personal health budgets")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def write(text: str, *, size: float, style: str = "", height: float = LINE) -> None:
        pdf.set_font(FONT, style=style, size=size)
        pdf.multi_cell(0, height, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    write(document.title, size=20, style="B", height=9)
    pdf.set_text_color(70, 70, 70)
    write(document.subtitle, size=12, height=7)
    pdf.set_text_color(0, 0, 0)
    for section in document.sections:
        pdf.ln(4)
        # Keep a heading with at least a few lines of what follows it.
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.set_draw_color(0, 94, 184)
        pdf.set_line_width(0.6)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(2)
        write(section.title, size=15, style="B", height=8)
        if not section.entries:
            write("Nothing recorded yet.", size=10)
            continue
        for entry in section.entries:
            if len(section.entries) > 1 or entry.title != section.title:
                pdf.ln(1.5)
                if pdf.will_page_break(18):
                    pdf.add_page()
                write(entry.title, size=12, style="B", height=6.5)
            for label, value in entry.lines:
                if label:
                    pdf.set_text_color(70, 70, 70)
                    write(label, size=9, style="B", height=5)
                    pdf.set_text_color(0, 0, 0)
                write(value or "Not said", size=10.5)
                pdf.ln(1)
    return bytes(pdf.output())
