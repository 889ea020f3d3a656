"""What a PDF made by WeasyPrint says about itself: its language, its title
and its outline (the page's headings), read with pypdf."""
import io
from dataclasses import dataclass

from pypdf import PdfReader


@dataclass
class PdfFacts:
    language: str
    titles: list[str]  # one per heading, in outline order, then the document's title


def _headings(outline) -> list[str]:
    headings = []
    for item in outline:
        headings.extend(_headings(item) if isinstance(item, list) else [item.title])
    return headings


def pdf_facts(pdf: bytes) -> PdfFacts:
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    reader = PdfReader(io.BytesIO(pdf))
    language = str(reader.trailer["/Root"].get("/Lang", ""))
    title = reader.metadata.title if reader.metadata is not None else None
    return PdfFacts(language=language, titles=_headings(reader.outline) + ([title] if title else []))
