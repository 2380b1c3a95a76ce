"""Real crawls as input: HTML pages, WARC and ARC archives (gzip or not), and duplicates across articles."""
from __future__ import annotations

import datetime as dt
import gzip
import io
import json

import pytest

from pipeline.io.readers import iter_items

ARTICLE_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>AI 투자 | 예시일보</title>
<meta property="article:published_time" content="2025-04-08T16:55:00+09:00"></head>
<body><nav><ul><li><a href="/">홈</a></li><li><a href="/politics">정치</a></li><li><a href="/economy">경제</a></li></ul></nav>
<script>window.ad = "광고 스크립트 99억 달러";</script>
<article><h1>AI 3대 강국 외치는데 투자는 감소</h1>
<p>미국 스탠퍼드대 인간중심AI연구소가 7일 발표한 보고서에 따르면 한국의 AI 민간 부문 투자는 13억3000만 달러로 전년보다 줄었다.</p>
<p>미국의 지난해 투자액은 1099억 달러로 전년 대비 63%나 증가했으며 중국도 93억 달러를 투입했다.</p></article>
<footer>ⓒ 예시일보. 무단전재 및 재배포 금지</footer></body></html>"""
LONG = ("프랑스는 최근 AI에 향후 1천90억유로(한화 약 164조원)를 투자하겠다는 계획을 발표했다. 캐나다 투자기업이 "
        "프랑스 AI 프로젝트에 200억 유로를 투자하고, 아랍에미리트(UAE)가 1기가와트 데이터센터 구축에 최대 500억유로를 "
        "투자하는 등의 세부 계획까지 나왔다. 유럽연합(EU) 차원에서도 유럽 내 AI 인프라 구축을 위해 민·관 협력으로 총 "
        "2천억 유로(약 300조원)를 투자하겠다는 계획을 발표했다.")
SCRIPT_ONLY_HTML = "<html><head><script>var a = 1;</script></head><body><script>render();</script></body></html>"


def page(body: str) -> str:
    return f"<html><head><meta charset='utf-8'></head><body><article><p>{body}</p></article></body></html>"


def test_html_files_main_text_and_published(tmp_path):
    (tmp_path / "a.html").write_text(ARTICLE_HTML, encoding="utf-8")
    (tmp_path / "empty.htm").write_text(SCRIPT_ONLY_HTML, encoding="utf-8")
    items = list(iter_items([tmp_path]))
    assert [i.source for i in items] == [str(tmp_path / "a.html"), str(tmp_path / "empty.htm")]
    article = items[0].article
    assert article.id == "a" and article.published == dt.date(2025, 4, 8)
    assert "13억3000만 달러" in article.text and "1099억 달러" in article.text
    assert "광고 스크립트" not in article.text and "정치" not in article.text
    assert items[1].article is None and items[1].reject.reason == "no main text in html"
    assert items[1].reject.id == "empty"


def test_jsonl_record_with_html_instead_of_text(tmp_path):
    path = tmp_path / "crawl.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "h1", "html": ARTICLE_HTML, "published": "2025-05-01"},
        {"id": "h2", "html": ARTICLE_HTML.replace("2025-04-08", "2025-04-09")},
        {"id": "h3", "html": SCRIPT_ONLY_HTML},
    ]) + "\n", encoding="utf-8")
    first, second, third = list(iter_items([path]))
    assert first.article.published == dt.date(2025, 5, 1)  # the record's own date wins
    assert second.article.published == dt.date(2025, 4, 9) and "1099억 달러" in second.article.text
    assert third.reject.id == "h3" and "no main text" in third.reject.reason


def build_warc(gz: bool, truncate_last: bool = True) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gz)

    def response(url: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))

    response("https://news.example/1", page("한국의 AI 민간 투자는 13억 달러로 11위에 그쳤다고 보고서는 밝혔다.").encode())
    request = StatusAndHeaders("GET /1 HTTP/1.1", [("Host", "news.example")], is_http_request=True)
    writer.write_record(writer.create_warc_record("https://news.example/1", "request", payload=io.BytesIO(b""),
                                                  http_headers=request))
    response("https://news.example/2", page("미국의 지난해 투자액은 1099억 달러로 전년 대비 63% 늘었다.").encode())
    response("https://news.example/logo.png", b"\x89PNG....", content_type="image/png")
    start = buffer.tell()
    response("https://news.example/3", page("잘린 기사 " * 300).encode())
    data = buffer.getvalue()
    return data[: start + (len(data) - start) // 2] if truncate_last else data


@pytest.mark.parametrize("gz", [False, True])
def test_warc_records_articles_skips_and_truncation(tmp_path, gz):
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    path.write_bytes(build_warc(gz))
    items = list(iter_items([path]))
    articles = [i.article for i in items if i.article]
    rejects = [i.reject for i in items if i.reject]
    skipped = [i.skipped for i in items if i.skipped]
    assert [a.url for a in articles] == ["https://news.example/1", "https://news.example/2"]
    assert all(a.id.startswith("urn:uuid:") for a in articles) and "13억 달러" in articles[0].text
    assert skipped == ["warc request record", "not HTML (image/png)"]
    assert len(rejects) == 1 and ("truncated" in rejects[0].reason or "unreadable WARC tail" in rejects[0].reason)
    assert len({i.source for i in items}) == len(items)  # path@offset: unique, stable for --resume


def test_unreadable_warc_is_a_reject(tmp_path):
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(gzip.compress(b"this is not a WARC file\r\n\r\n"))
    garbage = tmp_path / "garbage.warc"
    garbage.write_bytes(b"\x00\x01 not warc")
    items = list(iter_items([bad, garbage]))
    assert len(items) == 2 and all(i.reject is not None and "WARC" in i.reject.reason for i in items)


def arc_record(url: str, block: bytes, content_type: str = "text/html", length: str | None = None,
               date: str = "20250408165500", ip: str = "192.0.2.1") -> bytes:
    """One ARC v1 record: `URL IP-address Archive-date Content-type Archive-length`, the block, a newline."""
    length = str(len(block)) if length is None else length
    return f"{url} {ip} {date} {content_type} {length}\n".encode() + block + b"\n"


def http_response(body: bytes, content_type: str = "text/html; charset=utf-8") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def build_arc(gz: bool, bad: str | None = None, truncate_last: bool = False) -> bytes:
    """An ARC v1 file as the Internet Archive wrote them: the filedesc:// version block, then records.

    Gzipped, every record is its own gzip member (as .arc.gz files are). `bad` puts a corrupt record
    second: "length" (Archive-length not a number) or "short" (Archive-length less than the record).
    """
    spec = b"1 0 kfact\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [arc_record("filedesc://crawl.arc", spec, content_type="text/plain", ip="0.0.0.0"),
               arc_record("http://news.example/1", http_response(ARTICLE_HTML.encode()))]
    broken = http_response(page("깨진 기사: 한국의 반도체 수출은 지난달 120억 달러로 늘었다고 정부가 밝혔다.").encode())
    if bad == "length":
        records.append(arc_record("http://news.example/bad", broken, length="12x"))
    elif bad == "short":
        records.append(arc_record("http://news.example/bad", broken, length=str(len(broken) // 2)))
    records += [arc_record("http://news.example/logo.png", http_response(b"\x89PNG....", "image/png"), "image/png"),
                arc_record("http://news.example/2", http_response(page("미국의 지난해 투자액은 1099억 달러로 전년 대비 63% 늘었다.").encode()))]
    data = b"".join(gzip.compress(r) for r in records) if gz else b"".join(records)
    return data[:-40] if truncate_last else data


@pytest.mark.parametrize("gz", [False, True])
def test_arc_records_become_articles_like_warc(tmp_path, gz):
    path = tmp_path / ("crawl.arc.gz" if gz else "crawl.arc")
    path.write_bytes(build_arc(gz))
    items = list(iter_items([path]))
    articles = [i.article for i in items if i.article]
    assert not [i.reject for i in items if i.reject]
    assert [i.skipped for i in items if i.skipped] == ["arc version block", "not HTML (image/png)"]
    assert [a.url for a in articles] == ["http://news.example/1", "http://news.example/2"]
    first = articles[0]
    assert "13억3000만 달러" in first.text and "1099억 달러" in first.text and first.published == dt.date(2025, 4, 8)
    assert "광고 스크립트" not in first.text and "정치" not in first.text
    assert "전년 대비 63%" in articles[1].text
    assert len({i.source for i in items}) == len(items) and all(i.source.startswith(f"{path}@") for i in items)
    # ARC has no record ids (warcio makes up random ones): ours are the same on every read, for --resume.
    assert all(a.id.startswith("urn:uuid:") for a in articles) and len({a.id for a in articles}) == 2
    assert [a.id for a in articles] == [i.article.id for i in iter_items([path]) if i.article]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("bad", ["length", "short"])
def test_corrupt_arc_record_is_a_reject(tmp_path, gz, bad):
    path = tmp_path / ("crawl.arc.gz" if gz else "crawl.arc")
    path.write_bytes(build_arc(gz, bad=bad))
    items = list(iter_items([path]))  # no exception
    assert all((i.article is None) + (i.reject is None) + (i.skipped is None) == 2 for i in items)
    assert [i.article.url for i in items if i.article] == ["http://news.example/1"]
    rejects = [i.reject for i in items if i.reject]
    assert len(rejects) == 1, [r.reason for r in rejects]
    reason = rejects[0].reason
    assert reason.startswith("corrupt ARC record") and "rest of the file" in reason
    assert ("'12x' is not a number" in reason) if bad == "length" else ("Archive-length" in reason)
    assert rejects[0].source == items[-1].source and items[-1].reject is not None  # nothing read after it
    assert "깨진 기사" not in " ".join(i.article.text for i in items if i.article)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_or_unreadable_arc_is_a_reject(tmp_path, gz):
    path = tmp_path / ("cut.arc.gz" if gz else "cut.arc")
    path.write_bytes(build_arc(gz, truncate_last=True))
    items = list(iter_items([path]))
    assert [i.article.url for i in items if i.article] == ["http://news.example/1"]
    assert [i.reject.reason.split(":")[0] for i in items if i.reject] == ["truncated ARC record"]
    garbage = tmp_path / ("garbage.arc.gz" if gz else "garbage.arc")
    garbage.write_bytes(gzip.compress(b"this is not an ARC file\n\n") if gz else b"\x00\x01 not arc")
    warc = tmp_path / "named.arc"  # a WARC file under an ARC name is not read as WARC
    warc.write_bytes(build_warc(False, truncate_last=False))
    items = list(iter_items([garbage, warc]))
    assert len(items) == 2 and all(i.reject is not None for i in items)
    # Five words parse as an ARC header line (with "file" as its length); anything else does not parse.
    assert all(i.reject.reason.startswith(("unreadable ARC", "corrupt ARC record")) for i in items)
    assert "WARC/1.0" in items[1].reject.reason


@pytest.mark.slow
def test_batch_counts_with_warc_and_cross_article_duplicates(tmp_path, shipped_model):
    from pipeline.runtime.batch import BatchOptions, run_batch

    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(build_warc(True))
    texts = ["한국의 AI 민간 투자는 13억 달러로 11위에 그쳤다.", "중국은 93억 달러를 투자했다.", LONG]
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "a", "text": texts[0]},
        {"id": "e", "text": texts[2]},
        {"id": "b", "text": "  " + texts[0].replace(" ", "\n ")},  # same text, other spacing
        {"id": "c", "text": texts[1]},
        {"id": "f", "text": texts[2] + "\n홍길동 기자"},  # the same story re-crawled with a byline
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    options = BatchOptions(output=out, model_path=str(shipped_model), batch_size=2, near_duplicates=0.9)
    summary = run_batch([warc, jsonl], options)
    assert (summary.read, summary.written, summary.rejected, summary.already_done) == (8, 5, 3, 0)
    assert summary.balanced and summary.skipped == {"warc request record": 1, "not HTML (image/png)": 1}
    reasons = {r["id"]: r["reason"] for r in map(json.loads, options.rejects_path().read_text("utf-8").splitlines())}
    assert reasons["b"] == "duplicate text: same as a" and reasons["f"].startswith("near-duplicate text: like e")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records][2:] == ["a", "e", "c"] and all(len(r["text_hash"]) == 40 for r in records)

    # Crash after "e": only its line survives (plus a partial one). Resume must still reject b and f (the
    # hash and the MinHash come back from the output file) and write c.
    lines = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(lines[:4]) + "\n" + lines[4][:20], encoding="utf-8")
    kept = [line for line in options.rejects_path().read_text("utf-8").splitlines() if json.loads(line)["id"] not in ("b", "f")]
    options.rejects_path().write_text("\n".join(kept) + "\n", encoding="utf-8")
    resumed = run_batch([warc, jsonl], BatchOptions(output=out, model_path=str(shipped_model), batch_size=2,
                                                    resume=True, near_duplicates=0.9))
    assert (resumed.read, resumed.written, resumed.rejected, resumed.already_done) == (8, 1, 2, 5)
    assert resumed.balanced
    reasons = {r["id"]: r["reason"] for r in map(json.loads, options.rejects_path().read_text("utf-8").splitlines())}
    assert reasons["b"] == "duplicate text: same as a" and reasons["f"].startswith("near-duplicate text: like e")
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()][2:] == ["a", "e", "c"]


def test_a_text_file_takes_published_from_its_dateline(tmp_path):
    from pipeline.io.readers import iter_items

    (tmp_path / "a.txt").write_text("제목\n\n입력 2025-04-08 16:55\n\n한국은 지난해 13억 달러를 투자했다.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("2025-04-08 회의에서 발표됐다.", encoding="utf-8")  # an event date, no dateline
    items = {i.article.id: i.article for i in iter_items([tmp_path])}
    assert str(items["a"].published) == "2025-04-08"
    assert items["b"].published is None


def test_a_record_published_field_wins_over_the_dateline():
    from pipeline.schema import Article

    article = Article(id="x", text="입력 2025-04-08 16:55 본문", published="2024-12-31")
    assert str(article.published) == "2024-12-31"
