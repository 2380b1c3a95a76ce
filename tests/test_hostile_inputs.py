"""Hostile input, through the real CLI and the Python API: every record is written, or rejected with its id
(when it has one) and a one-line reason; the counts add up; nothing prints a traceback.

One matrix of cases is written once per module and run twice (`kfact extract` in a subprocess, and
`pipeline.runtime.batch.run_batch` in-process), both with the shipped model.
"""
from __future__ import annotations

import base64
import functools
import gzip
import io
import json
import os
import random
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.normalize import normalize, normalize_money, normalize_percent, normalize_quantity, parse_korean_number
from tests.conftest import ROOT, run_kfact

NFC_SENTENCE = "한국은 지난해 13억3000만 달러로 11위에 그쳤다."


@dataclass(frozen=True)
class Case:
    name: str
    line: bytes  # one JSONL line, without the newline
    id: str | None  # the id the output or reject must carry
    written: bool
    reason: str | None = None  # reject reason must start with (or, with "~", contain) this


def rec(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def edge(i: int, number: str) -> Case:
    return Case(f"number {number!r}", rec(id=f"edge-{i}", text=f"올해 지표 {i}번은 {number}로 집계됐다."), f"edge-{i}", True)


NUMBER_EDGES = ["0.0001%", "999조", "-0.36", "1,234,567원", "1.2.3", "억", "１２３억 원"]
BLOB = base64.b64encode(random.Random(6).randbytes(15_000)).decode()  # 20,000 chars, no spaces, no full stop
LONG_LINE = ("미국은1091억달러로1위다." * 20_000)[:200_000]  # Korean with its spaces stripped
FIVE_MB = ("한국은 13억 달러로 11위에 그쳤다. " * 110_000)[:2_400_000]  # 5.0 MB of UTF-8, over the default max_chars

CASES = [
    Case("empty text", rec(id="empty", text=""), "empty", True),
    Case("whitespace only", rec(id="whitespace", text=" \n\t\u3000\u00a0 \r\n"), "whitespace", True),
    Case("NUL characters", rec(id="nul", text="미국은\x00 1091억 달러로\x00\x00 1위다."), "nul", True),
    Case("mixed Hangul Hanja Latin", rec(id="mixed", text="韓國 정부는 OpenAI의 GPT-4o 도입에 13억 달러를 投資했다."),
         "mixed", True),
    Case("emoji", rec(id="emoji", text="🚀 미국은 👨‍👩‍👧 1091억 달러😀로 1위 🇰🇷👍🏽"), "emoji", True),
    Case("NFC Hangul", rec(id="nfc", text=NFC_SENTENCE), "nfc", True),
    Case("NFD Hangul (combining jamo)", rec(id="nfd", text=unicodedata.normalize("NFD", NFC_SENTENCE)), "nfd", True),
    Case("full-width digits", rec(id="fullwidth", text="삼성전자는 １２３억 원을 투자했다."), "fullwidth", True),
    Case("control and format chars", rec(id="control", text="미국\u200b은\u202e 1091억\ufeff 달러\x07로 1위\x1b[0m"),
         "control", True),
    Case("200k-char line without spaces", rec(id="long-line", text=LONG_LINE), "long-line", True),
    Case("20k-char base64 blob", rec(id="blob", text=BLOB), "blob", True),
    Case("5 MB article", rec(id="big", text=FIVE_MB), "big", False, "text too long: 2400000 chars > max_chars 1000000"),
    *[edge(i, number) for i, number in enumerate(NUMBER_EDGES)],
    Case("text is a number", rec(id="text-number", text=12345), "text-number", False, "text"),
    Case("text is null", rec(id="text-null", text=None), "text-null", False, "text"),
    Case("no id", rec(text="아이디가 없는 기사."), None, False, "id"),
    Case("no text", rec(id="no-text", title="본문 없음"), "no-text", False, "text"),
    Case("id is a boolean", rec(id=True, text="참과 거짓."), None, False, "id"),
    Case("id is an integer", rec(id=7, text="일곱 번째 기사다."), "7", True),
    Case("not JSON", b"{this is not json", None, False, "not JSON"),
    Case("JSON but not an object", b"[1, 2, 3]", None, False, "not a JSON object"),
    Case("invalid UTF-8", b'{"id": "latin1", "text": "caf\xe9 \xff"}', None, False, "not UTF-8"),
    Case("lone surrogate in text", b'{"id": "surrogate", "text": "\\ud800 \xeb\xaf\xb8\xea\xb5\xad"}', "surrogate",
         False, "~lone surrogate"),
    Case("lone surrogate in title",
         b'{"id": "surrogate-title", "text": "\xec\x98\x81\xea\xb5\xad 5.", "title": "\\udcff"}',
         "surrogate-title", True),
    Case("5000-digit number", b'{"id": ' + b"9" * 5000 + b', "text": "x"}', None, False, "not JSON"),
    Case("nesting 50k deep", b"[" * 50_000, None, False, "not JSON"),
    Case("duplicate id", rec(id="nul", text="같은 아이디, 다른 본문."), "nul", False, "duplicate id"),
    Case("published in Korean", rec(id="pub-ko", text="발행일 한국어 표기.", published="2025년 4월 8일"), "pub-ko", True),
    Case("published dd/mm/yyyy", rec(id="pub-dmy", text="발행일 일/월/년.", published="08/04/2025"), "pub-dmy", True),
    Case("published 'yesterday'", rec(id="pub-word", text="지난해 투자는 5억 달러였다(낱말).", published="yesterday"),
         "pub-word", True),
    Case("published as a number", rec(id="pub-int", text="지난해 투자는 7억 달러였다(숫자).", published=12345), "pub-int", True),
    Case("published 9999-99-99", rec(id="pub-bad", text="발행일 불가능.", published="9999-99-99"), "pub-bad", True),
    Case("published in the future", rec(id="pub-future", text="지난해 한국의 AI 민간 투자는 13억 달러였다.",
                                        published="2999-01-01"), "pub-future", True),
]
EXPECTED_PUBLISHED = {"pub-ko": "2025-04-08", "pub-dmy": None, "pub-word": None, "pub-int": None, "pub-bad": None,
                      "pub-future": "2999-01-01"}


def page(body: str) -> bytes:
    return f"<html><head><title>t</title></head><body><article><p>{body}</p></article></body></html>".encode()


def broken_warc() -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    for url, body in (("https://news.example/ok", "영국의 AI 투자는 지난해 45억 달러로 3위를 차지했다고 보고서는 밝혔다."),
                      ("https://news.example/broken", "잘린 기사 본문이다. " * 200)):
        data = page(body)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                           ("Content-Length", str(len(data)))], protocol="HTTP/1.1")
        start = buffer.tell()
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(data), http_headers=http))
    raw = buffer.getvalue()
    return raw[: start + (len(raw) - start) // 2]  # the second record ends mid-payload


@pytest.fixture(scope="module")
def hostile_inputs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    matrix = root / "matrix.jsonl"
    matrix.write_bytes(b"".join(case.line + b"\n" for case in CASES))
    files = root / "files"
    files.mkdir()
    (files / "utf16.txt").write_text("한국은 13억 달러로 11위에 그쳤다. (UTF-16 파일)", encoding="utf-16")
    u16 = [json.dumps({"id": f"u16-{i}", "text": f"중국은 {i}억 달러를 썼다."}, ensure_ascii=False) for i in range(2)]
    (files / "utf16.jsonl").write_text("\n".join(u16) + "\n", encoding="utf-16")
    (files / "cp949.txt").write_bytes("미국은 1091억 달러로 1위다.".encode("cp949"))
    (files / "nul-bytes.txt").write_bytes(b"\x00\x00" + "일본은 9억 달러로 9위다.".encode() + b"\x00")
    # A file name that is not UTF-8 (Python hands it over with surrogate escapes): the id keeps it visible.
    with open(os.path.join(os.fsencode(files), b"\xffname.txt"), "wb") as handle:
        handle.write("프랑스는 8위에 올랐다.".encode())
    (files / "scripts.html").write_bytes(b"<html><head><script>var x = 1;</script></head>"
                                         b"<body><script>document.write('<p>hi</p>')</script></body></html>")
    (files / "broken.warc").write_bytes(broken_warc())
    gz = "".join(json.dumps({"id": f"gz-{i}", "text": f"독일은 {i}억 유로를 투자했다는 {i}번째 기사다."}, ensure_ascii=False)
                 + "\n" for i in range(400))
    data = gzip.compress(gz.encode("utf-8"))
    (files / "truncated.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    return {"inputs": [matrix, files], "matrix": matrix, "files": files}


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module", params=["cli", "api"])
def run(request, hostile_inputs, shipped_model, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp(f"out-{request.param}") / "out.jsonl"
    inputs = [str(p) for p in hostile_inputs["inputs"]]
    if request.param == "cli":
        result = run_kfact("extract", *inputs, "-o", str(out), "--model", str(shipped_model))
        assert result.returncode == 0, result.stderr[-3000:]
        stderr, read = result.stderr, None
    else:
        from pipeline.runtime.batch import BatchOptions, run_batch

        summary = run_batch(inputs, BatchOptions(output=out, model_path=str(shipped_model)))
        assert summary.balanced
        stderr, read = "", summary.read
    written = _read(out)
    rejects = _read(out.with_name(out.name + ".rejects.jsonl"))
    return {"mode": request.param, "written": written, "rejects": rejects, "stderr": stderr, "read": read,
            "by_id": {r["id"]: r for r in written}, "inputs": hostile_inputs}


def _source_line(run: dict, case: Case) -> str:
    return f"{run['inputs']['matrix']}:{CASES.index(case) + 1}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_is_written_or_rejected_with_a_reason(run, case):
    source = _source_line(run, case)
    rejected = [r for r in run["rejects"] if r["source"] == source]
    if case.written:
        assert not rejected, rejected
        assert case.id in run["by_id"], f"{case.name}: neither written nor rejected"
        text = json.loads(case.line.decode("utf-8", "surrogatepass"))["text"]
        for ent in run["by_id"][case.id]["entities"]:
            assert text[ent["start"]:ent["end"]] == ent["text"], (case.name, ent)
    else:
        assert len(rejected) == 1, f"{case.name}: expected one reject from {source}, got {rejected}"
        reject = rejected[0]
        assert reject["id"] == case.id
        reason = reject["reason"]
        assert reason and "\n" not in reason and len(reason) < 400
        if case.reason.startswith("~"):
            assert case.reason[1:] in reason, reason
        else:
            assert reason.startswith(case.reason), reason


def test_every_record_is_accounted_for_once(run):
    """Matrix lines and files: outputs + rejects = inputs; a used-once id comes out exactly once."""
    files = run["inputs"]["files"]
    gz_written = [r for r in run["written"] if r["id"].startswith("gz-")]
    gz_rejects = [r for r in run["rejects"] if r["source"].startswith(str(files / "truncated.jsonl.gz"))]
    assert gz_written and len(gz_rejects) == 1 and gz_rejects[0]["reason"].startswith("unreadable after line")
    assert [r["id"] for r in gz_written] == [f"gz-{i}" for i in range(len(gz_written))]  # in order, none lost
    # utf16.txt, utf16.jsonl (2), cp949.txt, nul-bytes.txt, \xffname.txt, scripts.html, broken.warc (1 + 1 broken)
    expected = len(CASES) + 9 + len(gz_written) + len(gz_rejects)
    assert len(run["written"]) + len(run["rejects"]) == expected
    if run["read"] is not None:
        assert run["read"] == expected
    ids = [r["id"] for r in run["written"]]
    assert len(ids) == len(set(ids))
    assert "Traceback" not in run["stderr"]


def test_text_files_in_other_encodings(run):
    by_id = run["by_id"]
    assert {"utf16", "u16-0", "u16-1", "nul-bytes", "\\udcffname"} <= set(by_id)
    reasons = {Path(r["source"]).name: r for r in run["rejects"]}
    assert reasons["cp949.txt"]["id"] == "cp949" and reasons["cp949.txt"]["reason"].startswith("not UTF-8 or UTF-16")


def test_html_with_scripts_only_and_broken_warc(run):
    (html,) = [r for r in run["rejects"] if r["source"].endswith("scripts.html")]
    assert html["id"] == "scripts" and "no main text" in html["reason"]
    warc = [r for r in run["rejects"] if "broken.warc@" in r["source"]]
    assert len(warc) == 1 and ("truncated" in warc[0]["reason"] or "unreadable" in warc[0]["reason"])
    assert any(r.get("url") == "https://news.example/ok" for r in run["written"])


def test_published_odd_formats_and_the_future(run):
    """Unreadable dates become null (relative dates then stay unresolved); a future date is kept as given."""
    by_id = run["by_id"]
    for record_id, expected in EXPECTED_PUBLISHED.items():
        assert by_id[record_id]["published"] == expected, record_id
    for ent in by_id["pub-future"]["entities"]:
        if ent["label"] == "DATE" and ent["text"] == "지난해":
            assert ent["year"] == 2998
    for record_id in ("pub-word", "pub-int"):
        assert all(e.get("year") is None for e in by_id[record_id]["entities"] if e["text"] == "지난해")


def test_nfd_hangul_reads_like_nfc(run):
    """Decomposed Hangul gets the same entities as its NFC form; offsets index the original (NFD) text."""
    nfc, nfd = run["by_id"]["nfc"]["entities"], run["by_id"]["nfd"]["entities"]
    assert nfc, "the shipped model finds entities in the NFC sentence"
    assert [(e["label"], e["text"], e.get("value")) for e in nfc] == \
        [(e["label"], unicodedata.normalize("NFC", e["text"]), e.get("value")) for e in nfd]
    assert any(e["end"] - e["start"] > len(unicodedata.normalize("NFC", e["text"])) for e in nfd)  # jamo counted


def test_full_width_digits_and_number_edges_end_to_end(run):
    """Values on entities agree with the normalizers; １２３억 원 is 1.23e10 KRW."""
    fullwidth = run["by_id"]["fullwidth"]["entities"]
    money = [e for e in fullwidth if "１２３억" in e["text"]]
    assert money and money[0]["value"] == pytest.approx(1.23e10) and money[0]["unit"] == "KRW"
    for record in run["written"]:
        if not record["id"].startswith("edge-"):
            continue
        for ent in record["entities"]:
            expected = normalize(ent["label"], ent["text"])
            value = getattr(expected, "value", None)
            assert ent.get("value") == (pytest.approx(value) if value is not None else None), ent


# -- numbers at the edge, straight through the normalizers ------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("0.0001%", (normalize_percent, 0.0001, "percent")),
    ("999조", (parse_korean_number, 9.99e14, None)),
    ("999조 원", (normalize_money, 9.99e14, "KRW")),
    ("-0.36", (parse_korean_number, -0.36, None)),
    ("-0.36%", (normalize_percent, -0.36, "percent")),
    ("1,234,567원", (normalize_money, 1234567.0, "KRW")),
    ("１２３억", (parse_korean_number, 1.23e10, None)),
    ("１２３억 원", (normalize_money, 1.23e10, "KRW")),
    ("４５．６％", (normalize_percent, 45.6, "percent")),
])
def test_number_edges_have_values(text, expected):
    function, value, unit = expected
    result = function(text)
    number = result if isinstance(result, float) else result.value
    assert number == pytest.approx(value)
    if unit:
        assert result.unit == unit


@pytest.mark.parametrize("text", ["1.2.3", "억", "조 원", "1,2345", "12천", "만만", "%", "", "1e308달러"])
def test_number_edges_without_a_value(text):
    assert parse_korean_number(text) is None
    assert normalize_money(text) is None
    assert normalize_percent(text) is None
    assert normalize_quantity(text) is None


# -- a long article (2 M chars; its memory and time are measured by `kfact bench`) ------------------------

@functools.lru_cache(maxsize=1)
def run_in_child(script: str) -> dict:
    """Run `script` in a fresh Python; it leaves a dict in `result`, returned with the child's peak RSS in MB.
    VmHWM, not ru_maxrss: ru_maxrss survives exec and would count the forking pytest process too."""
    script += ("hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
               "print(json.dumps({**result, 'peak_mb': int(hwm.split()[1]) / 1024}))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def long_article() -> str:
    """2,000,000 chars: a different real news sentence at the head of every 4,000-char stretch, the rest a
    digit run. The digits keep the model's share cheap (a run is one Kiwi token, one [UNK]) while Kiwi
    segmenting, window planning and offsets are exercised over the full length. Sentences are not repeated:
    repeats are crawl noise, which the cleaner masks from the model.
    """
    from pipeline.evaluation.fuzz import load_sentences

    sentences = list(dict.fromkeys(s for s in load_sentences() if len(s) < 200))
    if len(sentences) < 500:
        pytest.skip("needs the shared corpora beside the repo for 500 distinct sentences")
    stretches = []
    for i in range(500):
        head = sentences[i] + " "
        stretches.append(head + str(i % 10) * (4000 - len(head)))
    return "".join(stretches)


def test_a_two_million_char_article_is_processed_whole(tmp_path, shipped_model):
    """With max_chars raised, the batch runner processes it whole: entities up to the last sentence, offsets
    exact. Entities only: the linker on a big article, its peak RSS and time are `kfact bench`'s big-article
    stage, not asserted here."""
    inp = tmp_path / "big.jsonl"
    inp.write_text(json.dumps({"id": "big", "text": long_article()}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    script = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from pipeline.runtime.batch import BatchOptions, run_batch\n"
        "t = time.perf_counter()\n"
        f"s = run_batch([{str(inp)!r}], BatchOptions(output=Path({str(out)!r}), model_path={str(shipped_model)!r}, "
        "max_chars=3_000_000, with_claims=False))\n"
        "result = {'written': s.written, 'seconds': time.perf_counter() - t}\n"
    )
    stats = run_in_child(script)
    print(f"2 M-char article: {stats['seconds']:.1f} s, peak RSS {stats['peak_mb']:.0f} MB")
    assert stats["written"] == 1
    (record,) = _read(out)
    text = long_article()
    assert all(text[e["start"]:e["end"]] == e["text"] for e in record["entities"])
    assert max(e["start"] for e in record["entities"]) > len(text) - 40_000  # the end was read too


# -- faults: a worker killed mid-batch --------------------------------------------------------------

def _worker_pids(pid: int) -> list[int]:
    """Spawned pool workers among a process's descendants (not multiprocessing's resource tracker)."""
    from pipeline.evaluation.fuzz import descendant_pids

    workers = []
    for child in descendant_pids(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            workers.append(child)
    return workers


def test_killed_worker_then_resume_loses_and_duplicates_nothing(tmp_path, shipped_model):
    import signal
    import time

    n = 600
    inp = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"w{i}", "text": f"{i}번 기사: 한국은 {i}억 달러로 {i % 50 + 1}위를 기록했다."}, ensure_ascii=False)
             for i in range(n)]
    lines[37] = "{broken json"  # a reject before the kill: resume must not write it twice either
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "out.jsonl.rejects.jsonl"
    args = [sys.executable, "-m", "pipeline", "extract", str(inp), "-o", str(out), "--model", str(shipped_model),
            "--workers", "2", "--batch-size", "4"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    workers: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        workers = _worker_pids(proc.pid)
        if len(workers) == 2 and out.exists() and out.read_bytes().count(b"\n") >= 40:
            break
        time.sleep(0.1)
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert proc.returncode in (0, 3), stderr[-3000:]
    if proc.returncode == 3:
        flat = " ".join(stderr.split())
        assert "a worker process died" in flat and "--resume" in flat
    before = out.read_bytes().count(b"\n")
    assert before < n - 1, "the kill should land mid-batch"
    resumed = subprocess.run(args + ["--resume"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr[-3000:]
    written = [r["id"] for r in _read(out)]
    rejected = _read(rejects)
    assert len(written) == len(set(written)) == n - 1
    assert set(written) == {f"w{i}" for i in range(n) if i != 37}
    assert [r["source"] for r in rejected] == [f"{inp}:38"]


def test_workers_die_with_a_killed_parent(tmp_path, shipped_model):
    """SIGKILL of `kfact extract --workers 2` leaves no worker behind (each would hold its models, idle, for ever)."""
    import signal
    import time

    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": f"p{i}", "text": f"{i}번: 한국은 {i}억 달러로 {i % 50 + 1}위였다."},
                                      ensure_ascii=False) + "\n" for i in range(3000)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = [sys.executable, "-m", "pipeline", "extract", str(inp), "-o", str(out), "--model", str(shipped_model),
            "--workers", "2", "--batch-size", "4"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    workers: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        workers = _worker_pids(proc.pid)
        if len(workers) == 2 and out.exists() and out.stat().st_size > 0:
            break
        time.sleep(0.1)
    assert len(workers) == 2, "the workers did not start"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()
             and Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    for w in alive:  # do not leave them to the rest of the test run
        os.kill(w, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their killed parent"


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("damage", ["corrupt config", "empty directory"])
def test_a_model_that_cannot_load_is_named_with_no_traceback(tmp_path, damage, workers):
    """In the main process or in spawned workers: exit 3, the model directory (or its missing file) named,
    no traceback, and no record rejected because of it."""
    broken = tmp_path / "model"
    broken.mkdir()
    if damage == "corrupt config":
        (broken / "config.json").write_text("{ not json", encoding="utf-8")
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "x", "text": "가"}) + "\n", encoding="utf-8")
    result = run_kfact("extract", str(inp), "-o", str(tmp_path / "o.jsonl"), "--model", str(broken),
                       "--workers", workers)
    flat = " ".join(result.stderr.split())
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert (str(broken) in result.stderr.replace("\n", "")) if damage == "corrupt config" else "config.json" in flat
    if workers == "2":
        assert "a worker could not load the pipeline" in flat
    assert not (tmp_path / "o.jsonl.rejects.jsonl").exists() or not _read(tmp_path / "o.jsonl.rejects.jsonl")


# -- faults: annotation files with bad spans --------------------------------------------------------

GOOD_ANNOTATION = {"id": "good", "text": "미국은 1091억 달러로 1위다.", "split": "train",
                   "entities": [{"start": 0, "end": 2, "label": "COUNTRY"}]}
BAD_ANNOTATIONS = {
    "overlap": ({"id": "bad-overlap", "text": "미국은 1091억 달러로 1위다.", "split": "train",
                 "entities": [{"start": 0, "end": 3, "label": "COUNTRY"}, {"start": 2, "end": 9, "label": "MONEY"}]},
                "overlaps"),
    "out of range": ({"id": "bad-range", "text": "짧다.", "split": "train",
                      "entities": [{"start": 1, "end": 40, "label": "ORG"}]}, "out of range"),
    "negative start": ({"id": "bad-negative", "text": "짧다.", "split": "train",
                        "entities": [{"start": -1, "end": 2, "label": "ORG"}]}, "out of range"),
}


@pytest.fixture(params=list(BAD_ANNOTATIONS))
def bad_annotation_file(request, tmp_path) -> tuple[Path, str, str]:
    record, message = BAD_ANNOTATIONS[request.param]
    path = tmp_path / "ann.jsonl"
    lines = [json.dumps(GOOD_ANNOTATION, ensure_ascii=False), json.dumps(record, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, record["id"], message


def _refused(result, path: Path, record_id: str, message: str) -> None:
    flat = result.stderr.replace("\n", "")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert f"{path}:2" in flat and repr(record_id) in flat and message in flat, flat


def test_validate_refuses_bad_spans_and_names_the_record(bad_annotation_file):
    path, record_id, message = bad_annotation_file
    _refused(run_kfact("validate", str(path)), path, record_id, message)


def test_train_refuses_bad_spans_and_names_the_record(bad_annotation_file, tmp_path):
    path, record_id, message = bad_annotation_file
    config = tmp_path / "train.toml"
    tiny = (ROOT / "configs" / "ner_tiny.toml").read_text(encoding="utf-8")
    config.write_text(re.sub(r'(?m)^kmou_dir = .*$', 'kmou_dir = ""', tiny), encoding="utf-8")  # annotations only
    result = run_kfact("train", "--config", str(config), "--output", str(tmp_path / "model"),
                       "--annotations", str(path))
    _refused(result, path, record_id, message)
    assert not (tmp_path / "model" / "config.json").exists()


@pytest.mark.parametrize("kind", ["not UTF-8", "missing"])
def test_validate_refuses_unreadable_annotation_files_by_name(tmp_path, kind):
    path = tmp_path / "ann.jsonl"
    if kind == "not UTF-8":
        path.write_bytes(json.dumps(GOOD_ANNOTATION).encode() + b"\n" + b'{"id": "x", "text": "caf\xe9"}\n')
    result = run_kfact("validate", str(path))
    flat = result.stderr.replace("\n", "")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert str(path) in flat and (f"{path}:2: not UTF-8" in flat if kind == "not UTF-8" else "cannot read" in flat)


# -- the tokenizer on decomposed Hangul --------------------------------------------------------------

HANGUL_AND_MARKS = st.lists(st.sampled_from(list("한국은 13억 달러 漢字 é\u0301\u0308\u302e\n\t가각")
                                            + ["\u1100", "\u1161", "\u11a8", "\u1112\u1161\u11ab"]),
                            max_size=40).map("".join)


@settings(max_examples=150, deadline=None)
@given(HANGUL_AND_MARKS)
def test_tokenizer_on_nfd_is_lossless_and_matches_nfc(nlp_blank, text):
    """Any mix of composed and decomposed Hangul and combining marks: the Doc is the text, and NFD text is cut
    where its NFC form is cut (token by token)."""
    nfd = unicodedata.normalize("NFD", text)
    doc = nlp_blank.make_doc(nfd)
    assert doc.text == nfd and "".join(t.text_with_ws for t in doc) == nfd
    nfc_doc = nlp_blank.make_doc(unicodedata.normalize("NFC", nfd))
    if not any(unicodedata.combining(c) and not "\u1160" <= c <= "\u11ff" for c in nfd):
        assert [unicodedata.normalize("NFC", t.text) for t in doc] == [t.text for t in nfc_doc]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30) | HANGUL_AND_MARKS)
def test_nfc_offsets_map_back_to_nonempty_runs(text):
    from pipeline.components.tokenizer import nfc_with_offsets

    nfd = unicodedata.normalize("NFD", text)
    nfc, starts, ends = nfc_with_offsets(nfd)
    assert nfc == unicodedata.normalize("NFC", nfd) and len(starts) == len(ends) == len(nfc)
    assert all(a < b for a, b in zip(starts, ends)) and starts == sorted(starts) and ends == sorted(ends)
    assert (not nfd) or (starts[0] == 0 and ends[-1] == len(nfd))


@pytest.mark.slow
def test_a_four_gigabyte_gzip_bomb_goes_through_extract_in_bounded_memory(tmp_path):
    """A 4 MB .jsonl.gz whose second line expands to 4 GiB without a newline, run through `kfact extract` with
    the shipped model: that line is rejected as too long, read in chunks, and the records around it come out
    with the counts adding up. The bomb is 64 gzip members of 64 MiB each (one stream to gzip readers)."""
    import gzip

    member = gzip.compress(b"a" * (64 << 20), compresslevel=6)
    path = tmp_path / "bomb.jsonl.gz"
    with open(path, "wb") as handle:
        handle.write(gzip.compress(json.dumps({"id": "first", "text": "한국은 11위다."}, ensure_ascii=False).encode()
                                   + b'\n{"id": "bomb", "text": "'))
        for _ in range(64):
            handle.write(member)
        handle.write(gzip.compress(b'"}\n' + json.dumps({"id": "last", "text": "미국은 1위다."}, ensure_ascii=False).encode()
                                   + b"\n"))
    assert path.stat().st_size < 5_000_000
    out = tmp_path / "out.jsonl"
    script = (
        "import json\n"
        "from pipeline.cli import app\n"
        "try:\n"
        f"    app(['extract', {str(path)!r}, '-o', {str(out)!r}, '--workers', '1'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        f"rejects = [json.loads(l) for l in open({str(out) + '.rejects.jsonl'!r})]\n"
        f"result = {{'articles': [json.loads(l)['id'] for l in open({str(out)!r})],"
        " 'rejects': [r['reason'] for r in rejects]}\n"
    )
    found = run_in_child(script)
    assert found["articles"] == ["first", "last"]
    assert len(found["rejects"]) == 1 and found["rejects"][0].startswith(f"line too long: {(4 << 30) + 27} bytes")
    print(f"4 GiB gzip bomb through extract: peak RSS {found['peak_mb']:.0f} MB")
    assert found["peak_mb"] < 1500, found  # the model and Kiwi; holding the line would take over 4096 MB


def test_whole_file_records_over_the_bound_are_rejected_unread(tmp_path):
    """Sparse 4 GiB .txt and .html files (no disk used; reading either would exhaust memory) are rejected by
    size without being opened for reading, and the small file beside them still comes out."""
    from pipeline.io.readers import iter_items

    for name in ("huge.txt", "huge.html"):
        with open(tmp_path / name, "wb") as handle:
            handle.truncate(4 << 30)
    (tmp_path / "small.txt").write_text("한국은 11위다.", encoding="utf-8")
    items = {i.source.rsplit("/", 1)[-1]: i for i in iter_items([tmp_path], 1 << 20)}
    assert items["small.txt"].article is not None and items["small.txt"].article.text == "한국은 11위다."
    for name in ("huge.txt", "huge.html"):
        assert items[name].article is None
        assert items[name].reject.reason == f"file too large: {4 << 30} bytes (bound {1 << 20} from --max-chars)"


def test_a_warc_payload_that_expands_past_the_bound_is_rejected_in_bounded_memory(tmp_path):
    """A WARC response whose Content-Encoding: gzip body expands to 512 MiB: rejected as too large with no more
    than the bound read, and the next record in the archive still comes out."""
    import zlib

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip framing
    body = packer.compress(b"<html><body><p>") + b"".join(packer.compress(b"a" * (1 << 20)) for _ in range(512))
    body += packer.flush()
    page = "<html><body><article><p>한국의 인공지능 민간 투자는 지난해 13억3000만 달러로 세계 11위였다. " * 5
    path = tmp_path / "bomb.warc.gz"
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for uri, payload, extra in (("http://a.example/bomb", body, [("Content-Encoding", "gzip")]),
                                    ("http://a.example/ok", (page + "</p></article></body></html>").encode(), [])):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *extra],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(payload),
                                                          http_headers=http))
    script = (
        "import json\n"
        "from pipeline.io.readers import iter_items\n"
        f"items = list(iter_items([{str(path)!r}], 1 << 20))\n"
        "result = {'articles': [i.article.url for i in items if i.article],"
        " 'rejects': [i.reject.reason for i in items if i.reject]}\n"
    )
    found = run_in_child(script)
    assert found["articles"] == ["http://a.example/ok"]
    assert found["rejects"] == [f"WARC payload too large: over {1 << 20} bytes (bound from --max-chars)"]
    assert found["peak_mb"] < 400, found  # holding the payload would take over 512 MB
