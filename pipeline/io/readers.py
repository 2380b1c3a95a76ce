"""Input readers: every input record becomes an Article or a Reject with a reason.

Formats: JSONL (optionally .gz), .txt files, .html/.htm files (main text by trafilatura),
WARC/WARC.gz and ARC/ARC.gz crawl archives (warcio; ARC records are read as WARC ones), and
directories of them. Nothing is lost silently: an unreadable line, a truncated gzip, WARC or ARC
record, a bad encoding or an HTML page without main text yields a Reject. Archive records that
are not articles at all (requests, metadata, non-HTML or non-2xx responses) are *skipped*: they
become an Item with `skipped` set, which the batch runner counts separately (not as read, not
as rejected).
"""
from __future__ import annotations

import gzip
import io
import json
import re
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pydantic import ValidationError

from pipeline.schema import Article, Reject

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json")
HTML_SUFFIXES = (".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz")
ARC_SUFFIXES = (".arc", ".arc.gz")
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Item:
    """One input record: an Article to process, a Reject to write, or (WARC/ARC only) a skipped non-article."""

    article: Article | None
    reject: Reject | None
    source: str
    skipped: str | None = None  # why a record is not an article (e.g. "warc request"); counted, not rejected


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"{where}: {first.get('msg', 'invalid')}"


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM optional) or BOM-marked UTF-16; anything else raises UnicodeDecodeError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


# One record (a JSONL line, a .txt or .html file, a WARC/ARC payload) may hold this many bytes; a longer one
# is rejected unread (see _lines, _too_large, _warc_item). The batch runner passes a bound derived from
# --max-chars; this default is for callers that give none.
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024


@dataclass
class LineTooLong:
    size: int  # bytes up to and including the newline (or the end of the file)


def line_bound(max_chars: int) -> int:
    """Bytes one record may take for an article of max_chars: 4 bytes per char in UTF-8 or 6 as a JSON
    escape, plus room for the other fields and for markup (an HTML page is longer than its text)."""
    return max(1024 * 1024, 8 * max_chars + 1024 * 1024)


def _bounded(readline, max_bytes: int) -> Iterator[bytes | LineTooLong]:
    """Lines of at most max_bytes; a longer line is skipped in chunks, never held, and reported by size."""
    while True:
        line = readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        del line
        while True:
            chunk = readline(_SKIP_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if chunk.endswith(b"\n"):
                break
        yield LineTooLong(size)


def _lines(handle, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[bytes | LineTooLong]:
    """Byte lines of a JSONL file; a UTF-16 file (BOM first) is re-encoded line by line as UTF-8."""
    if handle.peek(2)[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        yield from _bounded(handle.readline, max_bytes)
        return
    text = io.TextIOWrapper(handle, encoding="utf-16", newline="\n")
    for line in _bounded(lambda n: text.readline(n // 2).encode("utf-8"), max_bytes):
        yield line


def read_jsonl(path: Path, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Item]:
    opener = gzip.open if path.name.endswith(".gz") else open
    line_no = 0
    try:
        with opener(path, "rb") as handle:
            for line_no, raw in enumerate(_lines(handle, max_line_bytes), 1):
                source = f"{path}:{line_no}"
                if isinstance(raw, LineTooLong):
                    yield Item(None, Reject(id=None, source=source, reason=f"line too long: {raw.size} bytes "
                                                                           f"> {max_line_bytes}"), source)
                    continue
                if not raw.strip():
                    continue
                try:
                    data = json.loads(decode_text(raw))
                except UnicodeDecodeError as error:
                    yield Item(None, Reject(id=None, source=source, reason=f"not UTF-8: {error.reason} at byte {error.start}"), source)
                    continue
                except json.JSONDecodeError as error:
                    yield Item(None, Reject(id=None, source=source, reason=f"not JSON: {error.msg} at column {error.colno}"), source)
                    continue
                except (ValueError, RecursionError) as error:  # a 5000-digit number, [[[[… nested 100k deep
                    message = str(error).splitlines()[0][:120] if str(error) else ""
                    yield Item(None, Reject(id=None, source=source, reason=f"not JSON: {type(error).__name__}: {message}"), source)
                    continue
                if not isinstance(data, dict):
                    yield Item(None, Reject(id=None, source=source, reason=f"not a JSON object but {type(data).__name__}"), source)
                    continue
                record_id = data.get("id")
                record_id = str(record_id) if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) else None
                if "text" not in data and isinstance(data.get("html"), str):
                    # Crawl dumps often carry raw HTML; the record's own fields win over the page's metadata.
                    page = extract_html(data["html"], url=data.get("url") if isinstance(data.get("url"), str) else None)
                    if page is None:
                        yield Item(None, Reject(id=record_id, source=source, reason="no main text in html"), source)
                        continue
                    data = {**data, "text": page.text, "published": data.get("published") or page.published,
                            "title": data.get("title") or page.title}
                try:
                    yield Item(Article.model_validate(data), None, source)
                except ValidationError as error:
                    yield Item(None, Reject(id=record_id, source=source, reason=_first_error(error)), source)
    except (EOFError, OSError, UnicodeDecodeError, zlib.error) as error:
        source = f"{path}:{line_no + 1}"
        yield Item(None, Reject(id=None, source=source,
                                reason=f"unreadable after line {line_no}: {type(error).__name__}: {error}"), source)


def _too_large(path: Path, max_bytes: int) -> str | None:
    """Why a whole-file record is not read: larger than the bound (the file is never loaded)."""
    size = path.stat().st_size
    return f"file too large: {size} bytes (bound {max_bytes} from --max-chars)" if size > max_bytes else None


def read_text_file(path: Path, root: Path | None = None, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Item:
    record_id = str(path.relative_to(root).with_suffix("")) if root else path.stem
    source = str(path)
    try:
        if (reason := _too_large(path, max_bytes)) is not None:
            return Item(None, Reject(id=record_id, source=source, reason=reason), source)
        text = decode_text(path.read_bytes())
    except UnicodeDecodeError as error:
        return Item(None, Reject(id=record_id, source=source, reason=f"not UTF-8 or UTF-16: {error.reason} at byte {error.start}"), source)
    except OSError as error:
        return Item(None, Reject(id=record_id, source=source, reason=f"cannot read: {error.strerror or error}"), source)
    return Item(Article(id=record_id, text=text), None, source)


# -- HTML ----------------------------------------------------------------------------------------

@dataclass
class HtmlPage:
    text: str
    title: str | None
    published: str | None  # ISO date from the page's metadata (meta tags, JSON-LD, htmldate), if any


def extract_html(html: str | bytes, url: str | None = None) -> HtmlPage | None:
    """Main text and metadata of a page (navigation, scripts and footers dropped); None if no main text."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    except Exception:  # noqa: BLE001 - lxml/trafilatura on hostile markup; the caller rejects
        document = None
    if document is None:
        return None
    fields = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    text = (fields.get("text") or "").strip()
    if not text:
        return None
    return HtmlPage(text=text, title=fields.get("title") or None, published=fields.get("date") or None)


def read_html_file(path: Path, root: Path | None = None, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Item:
    record_id = str(path.relative_to(root).with_suffix("")) if root else path.stem
    source = str(path)
    try:
        if (reason := _too_large(path, max_bytes)) is not None:
            return Item(None, Reject(id=record_id, source=source, reason=reason), source)
        data = path.read_bytes()
    except OSError as error:
        return Item(None, Reject(id=record_id, source=source, reason=f"cannot read: {error.strerror or error}"), source)
    page = extract_html(data)  # bytes: trafilatura honours <meta charset> and sniffs the rest
    if page is None:
        return Item(None, Reject(id=record_id, source=source, reason="no main text in html"), source)
    return Item(Article(id=record_id, text=page.text, published=page.published, title=page.title), None, source)


# -- WARC and ARC ---------------------------------------------------------------------------------

def read_warc(path: Path, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Item]:
    """HTML response records -> Articles (id = WARC-Record-ID, url = WARC-Target-URI).

    Sources are `path@offset`, stable across runs, so --resume can skip finished records. A record
    whose payload ends early is rejected; so is any unreadable rest of the file (warcio stops
    quietly at a truncated gzip member, hence the size check at the end).
    """
    return _read_archive(path, "WARC", max_bytes)


def read_arc(path: Path, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Item]:
    """ARC v1 archives (the Internet Archive's format before WARC), plain or gzipped, read as WARC.

    warcio converts each ARC record to a WARC response record (the `filedesc://` version block to
    warcinfo, skipped). ARC has no record ids: an article's id is a UUID derived from the file
    name and the record's offset, so it is the same on every run. ARC records are delimited only
    by their declared length, so after a record whose length or header line is wrong the rest of
    the file cannot be found again: that record and the rest of the file are rejected.
    """
    return _read_archive(path, "ARC", max_bytes)


def _read_archive(path: Path, kind: str, max_bytes: int) -> Iterator[Item]:
    from warcio.archiveiterator import ArchiveIterator, ARCIterator
    from warcio.exceptions import ArchiveLoadFailed

    offset = 0
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            # An .arc file is parsed as ARC only (never as WARC), its records converted to WARC ones.
            records = ARCIterator(handle, arc2warc=True) if kind == "ARC" else ArchiveIterator(handle)
            try:
                for record in records:
                    errors_before = records.err_count
                    item = _warc_item(path, records, record, kind, max_bytes)
                    offset = records.offset
                    if kind == "ARC":
                        problem = _arc_header_problem(record)
                        if problem is None and records.err_count > errors_before:
                            problem = "not followed by a newline where its Archive-length says it ends"
                        if problem is not None:  # one reject for the record and the rest of the file
                            start = records.get_record_offset()
                            yield Item(None, Reject(id=None, source=item.source, reason=(
                                f"corrupt ARC record: {problem}; the rest of the file ({size - start} bytes from "
                                f"offset {start}) is not read")), item.source)
                            return
                    yield item
            except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as error:
                source = f"{path}@{offset}"
                yield Item(None, Reject(id=None, source=source,
                                        reason=f"unreadable {kind} after offset {offset}: {type(error).__name__}: {error}"), source)
                return
            end = getattr(records, "offset", size)
            if end < size:
                source = f"{path}@{end}"
                yield Item(None, Reject(id=None, source=source,
                                        reason=f"unreadable {kind} tail: {size - end} bytes after offset {end} (truncated record?)"),
                           source)
    except OSError as error:
        source = f"{path}@{offset}"
        yield Item(None, Reject(id=None, source=source, reason=f"cannot read {kind}: {error.strerror or error}"), source)


_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")
_IP_ADDRESS = re.compile(r"[0-9A-Fa-f.:]+|-")


def _arc_header_problem(record) -> str | None:
    """What is wrong with an ARC header line (`URL IP-address Archive-date Content-type Archive-length`).

    warcio accepts any line with five space-separated fields as one (a non-numeric length becomes
    an empty record), so a record that starts inside another record's content parses too.
    """
    headers = record.rec_headers
    length = headers.get_header("Content-Length") or ""
    if not length.isdigit():
        return f"Archive-length {length!r} is not a number"
    if record.rec_type == "warcinfo":  # the filedesc:// version block
        return None
    uri = headers.get_header("WARC-Target-URI") or ""
    if not _URI_SCHEME.match(uri):
        return f"URL {uri[:60]!r} has no scheme"
    address = headers.get_header("WARC-IP-Address") or ""
    if not _IP_ADDRESS.fullmatch(address):
        return f"IP-address {address[:40]!r} is not one"
    return None


def _warc_item(path: Path, records, record, kind: str = "WARC", max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Item:
    headers = record.rec_headers
    record_id = (headers.get_header("WARC-Record-ID") or "").strip("<>") or None
    url = headers.get_header("WARC-Target-URI")
    # Read the whole record before asking for its offset (warcio would read to the end for it), and
    # only keep payloads that can be articles: a crawl's videos and PDFs are drained in chunks.
    payload, error, oversized = b"", None, False
    try:
        if record.rec_type in ("response", "resource"):
            # bounded even when a Content-Encoding expands a small record into gigabytes
            payload = record.content_stream().read(max_bytes + 1)
            oversized = len(payload) > max_bytes
            if oversized:
                payload = b""
        while record.raw_stream.read(1 << 16):
            pass
    except (EOFError, OSError, ValueError, zlib.error) as caught:  # bad chunking or Content-Encoding
        error = caught
    remaining = getattr(record.raw_stream, "limit", 0) or 0
    offset = records.get_record_offset()
    source = f"{path}@{offset}"
    if kind == "ARC":  # warcio gives a converted ARC record a random WARC-Record-ID; ours is the same every run
        record_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'arc:{path.name}@{offset}')}"
    if error is not None:
        return Item(None, Reject(id=record_id or url, source=source,
                                 reason=f"unreadable {kind} record payload: {type(error).__name__}: {error}"), source)
    if getattr(record, "format", "warc") != "warc":  # warcio would read any text with a header line as ARC
        return Item(None, Reject(id=None, source=source, reason=f"not a WARC record (parsed as {record.format})"), source)
    if oversized:
        return Item(None, Reject(id=record_id or url, source=source, reason=(
            f"{kind} payload too large: over {max_bytes} bytes (bound from --max-chars)")), source)
    if remaining > 0:
        declared = headers.get_header("Content-Length")
        return Item(None, Reject(id=record_id or url, source=source,
                                 reason=f"truncated {kind} record: {remaining} of {declared} bytes missing"), source)
    if kind == "ARC" and record.rec_type == "warcinfo":
        return Item(None, None, source, skipped="arc version block")
    if record.rec_type not in ("response", "resource"):
        return Item(None, None, source, skipped=f"warc {record.rec_type} record")
    if record.rec_type == "response":
        http = record.http_headers
        status = http.get_statuscode() if http is not None else None
        if status and not str(status).startswith("2"):
            return Item(None, None, source, skipped=f"http status {str(status)[0]}xx")
        content_type = (http.get_header("Content-Type") if http is not None else None) or ""
    else:
        content_type = headers.get_header("Content-Type") or ""
    if not content_type.lower().startswith(HTML_TYPES):
        return Item(None, None, source, skipped=f"not HTML ({content_type.split(';')[0].strip() or 'no type'})")
    html: str | bytes = payload
    charset = re.search(r"charset=[\"']?([\w.-]+)", content_type, re.I)
    if charset:
        try:
            html = payload.decode(charset[1])
        except (LookupError, UnicodeDecodeError):
            html = payload  # wrong label: let trafilatura sniff
    page = extract_html(html, url=url)
    record_id = record_id or url
    if record_id is None:
        return Item(None, Reject(id=None, source=source, reason=f"{kind} record has neither WARC-Record-ID nor target URI"), source)
    if page is None:
        return Item(None, Reject(id=record_id, source=source, reason="no main text in html"), source)
    return Item(Article(id=record_id, text=page.text, published=page.published, title=page.title, url=url), None, source)


def iter_items(inputs: list[str | Path], max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Item]:
    """Walk the inputs in the given order; directories in sorted path order. A record longer than
    max_line_bytes (a JSONL line, a .txt or .html file, a WARC/ARC payload) is rejected without being
    read into memory."""
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from _read_path(child, root=path, max_line_bytes=max_line_bytes)
        elif path.exists():
            yield from _read_path(path, root=None, max_line_bytes=max_line_bytes)
        else:
            yield Item(None, Reject(id=None, source=str(path), reason="input path does not exist"), str(path))


def _read_path(path: Path, root: Path | None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Item]:  # noqa: C901
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        yield from read_jsonl(path, max_line_bytes)
    elif name.endswith(TEXT_SUFFIXES):
        yield read_text_file(path, root, max_line_bytes)
    elif name.endswith(HTML_SUFFIXES):
        yield read_html_file(path, root, max_line_bytes)
    elif name.endswith(WARC_SUFFIXES):
        yield from read_warc(path, max_line_bytes)
    elif name.endswith(ARC_SUFFIXES):
        yield from read_arc(path, max_line_bytes)
    else:
        # Even inside a directory an unknown file is reported, so the counts always add up.
        yield Item(None, Reject(id=None, source=str(path), reason=f"unsupported input format: {path.suffix or 'no suffix'}"), str(path))
