"""`kfact fuzz`: generate hostile records, run the real `kfact extract` on them, check nothing crashes or vanishes.

The records mix real Korean news sentences (the bundled sample, plus the shared corpora when they are beside
the repo) with corruptions a crawl produces: control characters, NUL, decomposed Hangul, full-width digits,
emoji, lone surrogates, invalid UTF-8, broken JSON, wrong types, duplicate ids, over-long lines, number edge
cases. The run passes when `extract` exits 0 with no traceback, every output line is JSON, every reject has
a one-line reason, entity offsets slice the input text, and inputs = outputs + rejects.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.paths import PROJECT_ROOT

from pipeline.io.corpora.news_csv import csv_texts

SAMPLE = PROJECT_ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"
SHARED_CORPORA = (
    PROJECT_ROOT.parent / "shared" / "data" / "external" / "kowikinews-boddari" / "wikinews.csv",
    PROJECT_ROOT.parent / "shared" / "data" / "external" / "finance-phrasebank-ko" / "finance_data.csv",
)
NUMBER_EDGES = ("0.0001%", "999조", "999조 원", "-0.36", "-0.36%", "1,234,567원", "1.2.3", "억", "１２３억 원",
                "0원", "00000000000000000001억", "9" * 40 + "조", "1e308달러", "NaN%", "-0", "3~4조 원",
                "약 13억3000만 달러", "1,2345", "마이너스 5%", "십억", "만만", "경 원", "12천", "∞%")
PUBLISHED = ("2025-04-08", "2025년 4월 8일", "08/04/2025", "yesterday", 12345, "9999-99-99", "2999-01-01",
             None, "", "0000-00-00", "2025.04.08 16:55", [2025, 4, 8], {"y": 2025}, True, "2025-02-30")
ODD_CHARS = ("\x00", "\x07", "\x1b[31m", "\u200b", "\u200d", "\u202e", "\ufeff", "\u3000", "\r", "\x0b", "\x85",
             "\u2028", "😀", "👨‍👩‍👧", "🇰🇷", "漢字", "韓國", "ㄱㄴㄷ", "\u1112\u1161\u11ab", "ﾊﾝｶｸ", "①②", "㈜",
             "\U0010ffff", "\ue000", "\ufffd", "\u0301\u0301")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Window:
    """One stretch of a run: records done per second, and the RSS of extract's process tree (summed over the
    parent and its workers; pages they share count once per process) and of its largest process."""

    records: int
    records_per_second: float
    tree_rss_mb: float
    largest_process_rss_mb: float


@dataclass
class FuzzReport:
    records: int  # input records generated (JSONL lines that are not blank, plus .txt files)
    seed: int
    exit_code: int
    crashes: int  # 1 if extract exited non-zero or printed a traceback
    written: int
    rejected: int
    balanced: bool  # records == written + rejected, and every id-bearing record is accounted for
    seconds: float
    records_per_second: float
    offset_errors: int  # entities whose text is not text[start:end]
    bad_reject_lines: int  # rejects without a one-line reason
    missing_ids: list[str] = field(default_factory=list)  # ids used once in the input but not out exactly once
    reasons: dict[str, int] = field(default_factory=dict)
    stderr_tail: str = ""
    # sampled while extract runs: the first and the last tenth of the records done (a soak's drift)
    start: Window | None = None
    end: Window | None = None
    peak_rss_mb: float = 0.0  # the largest sum of RSS over extract's process tree, over the run

    @property
    def ok(self) -> bool:
        return (self.crashes == 0 and self.balanced and self.offset_errors == 0 and self.bad_reject_lines == 0
                and not self.missing_ids)

    def to_json(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def load_sentences(limit: int = 5000) -> list[str]:
    """Korean news sentences: the bundled sample always, the shared corpora when present."""
    texts: list[str] = []
    with open(SAMPLE, encoding="utf-8") as handle:
        texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    for path in SHARED_CORPORA:
        if not path.is_file():
            continue
        texts.extend(csv_texts(path, limit=2000))
    sentences = [s.strip() for text in texts for s in SENTENCE_END.split(text) if 8 <= len(s.strip()) <= 300]
    return sentences[:limit] if len(sentences) > limit else sentences


class Generator:
    """One hostile record per call: (raw JSONL line bytes, id, text) — id/text None when the line has none."""

    def __init__(self, seed: int, sentences: list[str], max_chars: int):
        self.rng = random.Random(seed)
        self.sentences = sentences
        self.max_chars = max_chars
        self.ids: list[str] = []

    def sentence(self, k: int | None = None) -> str:
        k = k or self.rng.randint(1, 3)
        return " ".join(self.rng.choice(self.sentences) for _ in range(k))

    def corrupt(self, text: str) -> str:
        rng = self.rng
        for _ in range(rng.randint(1, 4)):
            kind = rng.randrange(8)
            pos = rng.randint(0, len(text))
            if kind == 0:
                text = text[:pos] + rng.choice(ODD_CHARS) + text[pos:]
            elif kind == 1:
                text = unicodedata.normalize("NFD", text)
            elif kind == 2:  # full-width digits and percent
                text = text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F) if rng.random() < 0.5})
            elif kind == 3:
                text = text[:pos] + f" {rng.choice(NUMBER_EDGES)} " + text[pos:]
            elif kind == 4:  # random code points (no surrogates: those come as JSON escapes below)
                text = text[:pos] + "".join(chr(rng.choice([rng.randint(1, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]))
                                            for _ in range(rng.randint(1, 12))) + text[pos:]
            elif kind == 5:
                text = text[:pos]  # cut mid-sentence
            elif kind == 6:
                text = text.replace(" ", "")
            else:
                text = text[:pos] + "\n\n" + "\t" * rng.randint(1, 3) + text[pos:]
        return text

    def next_id(self, i: int) -> str:
        record_id = f"f{i}"
        self.ids.append(record_id)
        return record_id

    def record(self, i: int) -> tuple[bytes, str | None, str | None]:
        rng = self.rng
        roll = rng.random()
        published = rng.choice(PUBLISHED) if rng.random() < 0.3 else "2025-04-08"
        if roll < 0.40:  # clean
            record_id, text = self.next_id(i), self.sentence()
            return _line({"id": record_id, "text": text, "published": published}), record_id, text
        if roll < 0.70:  # corrupted text
            record_id, text = self.next_id(i), self.corrupt(self.sentence())
            return _line({"id": record_id, "text": text, "published": published, "title": self.corrupt("제목")}), \
                record_id, text
        if roll < 0.73:  # empty or whitespace
            record_id, text = self.next_id(i), rng.choice(["", " ", "\n\t\u3000 ", "\u200b"])
            return _line({"id": record_id, "text": text}), record_id, text
        if roll < 0.78:  # duplicate id of an earlier record
            record_id = rng.choice(self.ids) if self.ids else self.next_id(i)
            return _line({"id": record_id, "text": self.sentence()}), record_id, None
        if roll < 0.85:  # wrong types or missing fields
            variants = [{"text": self.sentence()}, {"id": f"f{i}"}, {"id": f"f{i}", "text": rng.randint(-9, 10**6)},
                        {"id": f"f{i}", "text": None}, {"id": f"f{i}", "text": ["a", "b"]}, {"id": True, "text": "참"},
                        {"id": 1.5, "text": "소수"}, {"id": None, "text": "널"}, {"id": ["x"], "text": "목록"},
                        {"id": f"f{i}", "text": "제목", "title": 7}, {"id": f"f{i}", "text": {"nested": "x"}}]
            return _line(rng.choice(variants)), None, None
        if roll < 0.93:  # not JSON, not an object, not UTF-8
            variants = [b"{not json", b'{"id": "x", "text": "unterminated', b"[1, 2, 3]", b'"just a string"', b"null",
                        b"42", b"\xff\xfe\x00garbage", b'{"id": "b", "text": "\xed\xa0\x80 surrogate bytes"}',
                        b'{"id": "c", "text": "caf\xe9"}', b"[" * 5000, b'{"id": ' + b"9" * 5000 + b', "text": "x"}',
                        b'{"id": "d", "text": "x"} trailing', b"\x00\x00\x00", b"{}", b'{"id": "e", "text": "a"}{}']
            return rng.choice(variants) + b"\n", None, None
        if roll < 0.96:  # JSON-escaped lone surrogates in text or id
            record_id = self.next_id(i)  # ensure_ascii writes the surrogate as the escape \ud800
            return (json.dumps({"id": record_id, "text": self.sentence(1) + "\ud800 끝"}) + "\n").encode("ascii"), \
                record_id, None
        if roll < 0.962:  # over-long: rejected by max_chars
            record_id = self.next_id(i)
            text = ("가나다라" * (self.max_chars // 4 + 10))[: self.max_chars + rng.randint(1, 5000)]
            return _line({"id": record_id, "text": text}), record_id, None
        if roll < 0.965:  # long but allowed, without spaces
            record_id = self.next_id(i)
            text = "".join(rng.choice("가나다라마바사0123456789abc.,") for _ in range(rng.randint(1000, 3000)))
            return _line({"id": record_id, "text": text}), record_id, text
        record_id = self.next_id(i)  # number edge cases in a news frame
        text = f"한국의 AI 투자는 지난해 {rng.choice(NUMBER_EDGES)}로 집계됐다. 점유율은 {rng.choice(NUMBER_EDGES)}였다."
        return _line({"id": record_id, "text": text, "published": published}), record_id, text


def _line(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")


def generate(directory: Path, records: int, seed: int, max_chars: int) -> tuple[list[Path], dict[str, str | None], int]:
    """Write fuzz.jsonl (+ a few .txt files) under directory.

    Returns (inputs, {id used exactly once: its text, or None when it has no readable text}, record count).
    """
    directory.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed, load_sentences(), max_chars)
    texts: dict[str, str] = {}
    id_counts: Counter = Counter()
    n_txt = max(1, records // 500)
    jsonl = directory / "fuzz.jsonl"
    count = 0
    with open(jsonl, "wb") as handle:
        for i in range(records - n_txt):
            line, record_id, text = gen.record(i)
            handle.write(line)
            count += 1 if line.strip() else 0
            if record_id is not None:
                id_counts[record_id] += 1
                if text is not None:
                    texts.setdefault(record_id, text)
    txt_dir = directory / "txt"
    txt_dir.mkdir(exist_ok=True)
    for path in txt_dir.glob("*"):
        path.unlink()
    for j in range(n_txt):
        path = txt_dir / f"t{j}.txt"
        kind = j % 4
        if kind == 0:
            text = gen.corrupt(gen.sentence())
            path.write_text(text, encoding="utf-8")
            texts[f"t{j}"] = text.removeprefix("\ufeff")  # a leading BOM is an encoding mark, not text
        elif kind == 1:
            text = gen.sentence()
            path.write_text(text, encoding="utf-16")  # BOM
            texts[f"t{j}"] = text
        elif kind == 2:
            path.write_bytes(gen.sentence().encode("cp949", errors="replace"))  # not UTF-8: rejected
        else:
            path.write_bytes(b"\x00" * gen.rng.randint(0, 8) + gen.sentence().encode("utf-8"))
        count += 1
    # Ids used once must come out exactly once; a reused id comes out once per use (written or rejected).
    unique = {record_id: texts.get(record_id) for record_id, n in id_counts.items() if n == 1}
    unique.update({f"t{j}": texts.get(f"t{j}") for j in range(n_txt)})
    return [jsonl, txt_dir], unique, count


def run_fuzz(directory: Path, records: int = 10_000, seed: int = 0, model: str | None = None, workers: int = 1,
             max_chars: int = 20_000, timeout: float = 6 * 3600.0, sample_seconds: float = 2.0,
             claims: bool = True) -> FuzzReport:
    """Generate, run `python -m pipeline extract` in a subprocess, and audit its output."""
    directory = Path(directory)
    inputs, texts, count = generate(directory, records, seed, max_chars)
    out = directory / "out.jsonl"
    rejects = directory / "out.jsonl.rejects.jsonl"
    args = [sys.executable, "-m", "pipeline", "extract", *map(str, inputs), "-o", str(out), "--rejects", str(rejects),
            "--max-chars", str(max_chars), "--workers", str(workers)]
    if model:
        args += ["--model", str(model)]
    if not claims:
        args.append("--no-claims")
    started = time.perf_counter()
    result, samples = _run_sampled(args, [out, rejects], timeout, sample_seconds)
    seconds = time.perf_counter() - started
    crashed = result.returncode != 0 or "Traceback" in result.stderr
    written, rejected, offset_errors, bad_rejects = 0, 0, 0, 0
    seen: Counter = Counter()
    reasons: Counter = Counter()
    for line in _read_lines(out):
        written += 1
        record = json.loads(line)
        seen[record["id"]] += 1
        text = texts.get(record["id"])
        if text is not None:
            offset_errors += sum(text[e["start"]:e["end"]] != e["text"] for e in record["entities"])
    for line in _read_lines(rejects):
        rejected += 1
        record = json.loads(line)
        reason = record.get("reason") or ""
        if not reason.strip() or "\n" in reason:
            bad_rejects += 1
        reasons[reason.split(":")[0][:60]] += 1
        if record.get("id") is not None:
            seen[str(record["id"])] += 1
    missing = sorted(i for i in texts if seen[i] != 1)  # lost, or written/rejected twice
    return FuzzReport(records=count, seed=seed, exit_code=result.returncode, crashes=int(crashed), written=written,
                      rejected=rejected, balanced=count == written + rejected and not missing,
                      seconds=round(seconds, 1),
                      records_per_second=round(count / seconds, 1) if seconds else 0.0, offset_errors=offset_errors,
                      bad_reject_lines=bad_rejects, missing_ids=missing[:20], reasons=dict(reasons.most_common()),
                      stderr_tail=result.stderr[-3000:] if crashed else "", start=_window(samples, 0.0, 0.1),
                      end=_window(samples, 0.9, 1.0),
                      peak_rss_mb=round(max((s.tree_rss_mb for s in samples), default=0.0), 1))


@dataclass
class _Sample:
    seconds: float
    done: int  # output + reject lines so far
    tree_rss_mb: float
    largest_process_rss_mb: float


def _run_sampled(args: list[str], outputs: list[Path], timeout: float, every: float):
    """Run extract, sampling its process tree's RSS and the lines it has written every `every` seconds."""
    import os
    import tempfile

    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stdout, \
            tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=stdout, stderr=stderr, text=True,
                                 env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"})
        counters = [_LineCounter(path) for path in outputs]
        samples: list[_Sample] = []
        while True:
            try:
                child.wait(timeout=every)
                break
            except subprocess.TimeoutExpired:
                if time.perf_counter() - started > timeout:
                    child.kill()
                    child.wait()
                    break
            rss = _tree_rss_mb(child.pid)
            samples.append(_Sample(time.perf_counter() - started, sum(c.count() for c in counters),
                                   sum(rss), max(rss, default=0.0)))
        samples.append(_Sample(time.perf_counter() - started, sum(c.count() for c in counters), 0.0, 0.0))
        stdout.seek(0)
        stderr.seek(0)
        result = subprocess.CompletedProcess(args, child.returncode, stdout.read(), stderr.read())
    return result, samples


class _LineCounter:
    """Newlines in a file that grows: reads only what was appended since the last call."""

    def __init__(self, path: Path):
        self.path, self.offset, self.lines = path, 0, 0

    def count(self) -> int:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                while chunk := handle.read(1 << 20):
                    self.lines += chunk.count(b"\n")
                    self.offset += len(chunk)
        except FileNotFoundError:
            pass
        return self.lines


def descendant_pids(root: int) -> list[int]:
    """Every process descended from `root` (Linux /proc: each thread's `children` list; empty elsewhere)."""
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            frontier += children
    return found


def _tree_rss_mb(root: int) -> list[float]:
    """VmRSS in MB of `root` and every process descended from it."""
    sizes = []
    for pid in [root, *descendant_pids(root)]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return sizes


def _window(samples: list[_Sample], low: float, high: float) -> Window | None:
    """The samples between `low` and `high` of the final record count: rate over the stretch, largest RSS."""
    if len(samples) < 2 or samples[-1].done == 0:
        return None
    total = samples[-1].done
    inside = [s for s in samples if s.done > 0 and low * total <= s.done <= high * total]  # after start-up
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    measured = [s for s in inside if s.tree_rss_mb]
    rate = (last.done - first.done) / (last.seconds - first.seconds) if last.seconds > first.seconds else 0.0
    return Window(records=last.done - first.done, records_per_second=round(rate, 1),
                  tree_rss_mb=round(max((s.tree_rss_mb for s in measured), default=0.0), 1),
                  largest_process_rss_mb=round(max((s.largest_process_rss_mb for s in measured), default=0.0), 1))


def _read_lines(path: Path):
    if not path.exists():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line
