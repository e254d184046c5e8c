"""Text out of an uploaded draft: .txt, .docx (python-docx) or .pdf (pypdf). Each failure is a
`DocumentError` with a reason the bot words in Danish; nothing here writes the file anywhere."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import PurePath

MAX_BYTES = 5 * 1024 * 1024  # an upload larger than this is refused before it is fetched
MAX_CHARS = 60_000  # about 25 pages; a longer text is checked on its beginning
MAX_PDF_PAGES = 40
EXTENSIONS = (".txt", ".docx", ".pdf")
REASONS = ("too_large", "unknown_type", "binary", "damaged", "encrypted", "no_text", "old_word")


class DocumentError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        assert reason in REASONS
        self.reason = reason


def kind_of(filename: str | None, mime: str | None = None) -> str:
    """'txt', 'docx' or 'pdf' from the file's name (or its MIME type); DocumentError otherwise."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".doc" or mime == "application/msword":
        raise DocumentError("old_word")
    by_mime = {"text/plain": ".txt", "application/pdf": ".pdf",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}
    suffix = suffix if suffix in EXTENSIONS else by_mime.get(mime or "", suffix)
    if suffix not in EXTENSIONS:
        raise DocumentError("unknown_type")
    return suffix[1:]


def extract_text(content: bytes, filename: str | None, mime: str | None = None) -> str:
    """The document's text with paragraphs on lines of their own."""
    if len(content) > MAX_BYTES:
        raise DocumentError("too_large")
    kind = kind_of(filename, mime)
    if kind == "txt":
        text = _text_file(content)
    elif kind == "docx":
        text = _docx(content)
    else:
        text = _pdf(content)
    text = tidy(text)
    if len(re.findall(r"[^\W\d_]{2,}", text)) < 5:
        raise DocumentError("no_text")
    return text[:MAX_CHARS]


def tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u00ad", "")
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _text_file(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise DocumentError("binary")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\n\r\t\f")
        if controls > 8:
            raise DocumentError("binary")
        return text
    raise DocumentError("binary")


def _docx(content: bytes) -> str:
    import docx

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise DocumentError("damaged")
    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as error:  # zipfile, lxml and python-docx raise many kinds on a broken file
        logging.getLogger(__name__).info("docx could not be read: %s", type(error).__name__)
        raise DocumentError("damaged") from None
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:  # many templates put the header fields in a table
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if cell.text not in cells:
                    cells.append(cell.text)
            lines.append(" ".join(cells))
    return "\n".join(lines)


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader

    pdf_logger = logging.getLogger("pypdf")
    level = pdf_logger.level
    pdf_logger.setLevel(logging.ERROR)  # pypdf warns about every small flaw of a file
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:
                raise DocumentError("encrypted") from None
            if not opened:
                raise DocumentError("encrypted")
        pages = []
        for page in reader.pages[:MAX_PDF_PAGES]:
            pages.append(page.extract_text() or "")
    except DocumentError:
        raise
    except Exception:  # PdfReadError, or anything else a malformed file provokes inside the parser
        raise DocumentError("damaged") from None
    finally:
        pdf_logger.setLevel(level)
    return "\n\n".join(pages)
