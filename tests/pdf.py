"""What a PDF made by WeasyPrint says about itself — its language, its title
and its outline (the page's headings) — read without a PDF library."""
import re
import zlib
from dataclasses import dataclass


@dataclass
class PdfFacts:
    language: str
    titles: list[str]  # the document's title, then one per heading, in the order they are stored


def _inflated(pdf: bytes) -> bytes:
    """The file with its compressed streams (where the object streams keep the catalogue) opened up."""
    opened = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            opened.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue  # a stream that is not deflated (none is read here)
    return b"\n".join(opened)


def _text(token: bytes) -> str:
    if token.startswith(b"<"):  # hexadecimal, UTF-16 with its byte-order mark
        return bytes.fromhex(token[1:-1].decode()).decode("utf-16")
    return re.sub(rb"\\(.)", rb"\1", token[1:-1]).decode("latin-1")


def pdf_facts(pdf: bytes) -> PdfFacts:
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    body = _inflated(pdf)
    language = re.search(rb"/Lang \((\w+)\)", body)
    titles = [_text(token) for token in re.findall(rb"/Title (<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\))", body)]
    return PdfFacts(language=language.group(1).decode() if language else "", titles=titles)
