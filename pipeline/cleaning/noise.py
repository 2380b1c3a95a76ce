"""Crawl noise: character ranges of an article that are not its body. Pure functions, no spaCy.

The text itself is never changed (entity offsets must keep indexing the original text); noise is
reported as sorted, non-overlapping `(start, end)` ranges, each with a reason. Kinds of noise:

- repeats inside one article: a long passage copied again (seed 000 carries its whole body twice,
  the second copy glued to the end of the first), and exact or near-duplicate paragraphs/sentences;
- appended blocks: stock/crypto ticker tables, company-disclosure widgets, related-article lists,
  reaction buttons, font-size menus (runs of very short lines);
- single lines: copyright/disclaimer lines and reporter byline/e-mail lines.

"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pipeline.schema import NoiseRange

COPYRIGHT = re.compile(r"ⓒ|©|\(c\)|copyright|무단\s*전재|재배포\s*금지|all rights reserved|저작권자", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
BYLINE = re.compile(r"(기자|특파원|객원기자|리포터|에디터)\s*([:=]|$)|^\s*[가-힣]{2,4}\s*(기자|특파원)\b")
# Ticker cells: a price, a change in percent, a time, a count; optionally signed.
NUMERIC_CELL = re.compile(r"^[+\-−▲▼△▽]?\s*[\d][\d,.]*\s*(%|원|달러|포인트|p)?$")
SENTENCE_END = re.compile(r"(다|요|음|함|됨|죠|까)[.!?]?[\"'”’)\]]*$|[.!?。][\"'”’)\]]*$")
BULLETS = re.compile(r"^[\s•·●○■□▶▷►◆◇\-*–—>|]+")
# Sentence ends inside a line: after . ! ? unless the dot sits between two digits (3.5, 2025.12.17).
SENTENCE_SPLIT = re.compile(r"(?<=[!?。])|(?<=\.)(?!\d)|(?<=(?<!\d)\.)(?=\d)")


@dataclass(frozen=True)
class NoiseConfig:
    """Thresholds; the spaCy component takes these from configs/pipeline.cfg."""

    min_repeat_chars: int = 80  # a copied passage at least this long is a repeat
    min_segment_chars: int = 15  # shorter sentences/paragraphs are never judged duplicates
    near_duplicate: float = 0.85  # Jaccard of character 4-gram sets for a near-duplicate segment
    max_line_chars: int = 120  # copyright/byline/ticker rules only look at lines up to this long
    min_run_lines: int = 5  # a run of this many short lines is a menu or a ticker table
    short_line_chars: int = 12  # "short" for menu runs
    min_numeric_share: float = 0.3  # share of numeric cells that makes a short-line run a ticker table
    max_scan_chars: int = 300_000  # longer texts get only the line and segment rules (memory)
    # A line that opens an appended block (related articles, market data, company widgets, reactions), matched
    # against the whole line with bullets, brackets and spaces removed; a trailing count (좋아요 12) is allowed.
    block_headings: tuple[str, ...] = (
        "주요뉴스", "관련기사", "관련뉴스", "많이본뉴스", "인기기사", "추천기사", "최신기사", "최신뉴스", "이시각주요뉴스",
        "핫뉴스", "함께보면좋은뉴스", "함께볼만한뉴스", "이기사와함께많이본뉴스", "오늘의상승종목", "오늘의하락종목",
        "실시간암호화폐시세", "암호화폐시세", "코인시세", "증시현황", "시장지표", "대표이사", "최근공시")
    counted_headings: tuple[str, ...] = ("좋아요", "댓글")  # these may carry a number
    exact_headings: tuple[str, ...] = ("기사공유", "공유하기")



@functools.lru_cache(maxsize=8)
def _heading_pattern(config: NoiseConfig) -> re.Pattern[str]:
    words = [re.escape(w) for w in (*config.block_headings, *config.exact_headings)]
    counted = [re.escape(w) + r"\d*" for w in config.counted_headings]
    return re.compile("^(" + "|".join(words + counted) + ")$")


# -- lines and segments ---------------------------------------------------------------------------

def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line without its newline."""
    spans, start = [], 0
    for match in re.finditer(r"\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def segments(text: str) -> list[tuple[int, int]]:
    """Sentences within lines, stripped of surrounding space; crawls glue sentences ("있다.12일")."""
    result = []
    for line_start, line_end in _lines(text):
        cut = line_start
        for match in SENTENCE_SPLIT.finditer(text, line_start, line_end):
            if match.start() > cut:
                result.append(_strip(text, cut, match.start()))
                cut = match.start()
        result.append(_strip(text, cut, line_end))
    return [(s, e) for s, e in result if e > s]


def _key(fragment: str) -> str:
    return re.sub(r"\s+", "", fragment).lower()


def _shingles(key: str, k: int = 4) -> set[str]:
    return {key[i:i + k] for i in range(max(1, len(key) - k + 1))}


# -- detectors ------------------------------------------------------------------------------------

WORD_START = re.compile(r"(?<!\S)\S")


def repeated_passages(text: str, min_chars: int, k: int = 24) -> list[NoiseRange]:
    """Later copies of passages of at least min_chars that already occurred verbatim earlier.

    Grams are taken at word starts only (a copy has the same word starts as its original, so they
    line up); a match is then extended backwards and forwards character by character.
    """
    if min_chars <= 0 or len(text) < 2 * min_chars:
        return []
    k = min(k, min_chars)
    index: dict[str, list[int]] = {}
    found: list[NoiseRange] = []
    last_end = 0  # matches never reach back into an earlier match
    for anchor in WORD_START.finditer(text):
        i = anchor.start()
        if i < last_end or i + k > len(text):
            continue
        gram = text[i:i + k]
        best = (0, -1, -1)  # (length, start in copy, start in original)
        for j in index.get(gram, ()):
            back = 0
            while i - back > last_end and j - back > 0 and text[j - back - 1] == text[i - back - 1]:
                back += 1
            length = k + back
            while i - back + length < len(text) and j - back + length < i - back \
                    and text[j - back + length] == text[i - back + length]:
                length += 1
            length = min(length, i - j)  # the copy starts after its original ends
            best = max(best, (length, i - back, j - back))
        length, start, source = best
        if length >= min_chars:
            found.append(NoiseRange(start, start + length, f"repeat of {source}-{source + length}"))
            last_end = start + length
            continue
        positions = index.setdefault(gram, [])
        if len(positions) < 8:  # enough candidates; keeps pathological texts ("ㅋㅋㅋㅋ…") linear
            positions.append(i)
    return found


def duplicate_segments(text: str, config: NoiseConfig) -> list[NoiseRange]:
    """Sentences/paragraphs that repeat an earlier one exactly or nearly (after whitespace folding)."""
    found: list[NoiseRange] = []
    exact: dict[str, int] = {}
    earlier: list[tuple[int, set[str]]] = []  # (start, shingles) of segments kept as text
    # Prefix filtering: with shingles in one global order (by hash), two sets with Jaccard >= t share a
    # shingle among the first floor((1 - t) * size) + 1 of each, so only those are indexed and looked up.
    prefixes: dict[str, list[int]] = {}
    threshold = config.near_duplicate
    for start, end in segments(text):
        key = _key(text[start:end])
        if len(key) < config.min_segment_chars:
            continue
        if key in exact:
            found.append(NoiseRange(start, end, f"duplicate of segment at {exact[key]}"))
            continue
        exact[key] = start
        if threshold >= 1.0:
            continue
        grams = _shingles(key)
        prefix = sorted(grams, key=hash)[:int((1 - threshold) * len(grams)) + 1]
        candidates = {i for gram in prefix for i in prefixes.get(gram, ())}
        match = next((earlier[i][0] for i in sorted(candidates)
                      if len(grams & earlier[i][1]) / len(grams | earlier[i][1]) >= threshold), None)
        if match is not None:
            found.append(NoiseRange(start, end, f"near-duplicate of segment at {match}"))
            continue
        for gram in prefix:
            prefixes.setdefault(gram, []).append(len(earlier))
        earlier.append((start, grams))
    return found


def glued_line_prefixes(text: str, config: NoiseConfig, head_lines: int = 20) -> list[NoiseRange]:
    """A line that starts with a whole earlier line (a headline glued onto the lede, as in seed 000)."""
    lines = [(s, e) for s, e in (_strip(text, s, e) for s, e in _lines(text)) if e > s]
    heads = [(s, e) for s, e in lines[:head_lines] if len(_key(text[s:e])) >= config.min_segment_chars]
    found = []
    for s, e in lines:
        for hs, he in heads:
            if hs < s and e - s > he - hs and text.startswith(text[hs:he], s):
                found.append(NoiseRange(s, s + (he - hs), f"repeat of line at {hs}"))
                break
    return found


def _core(line: str) -> str:
    return re.sub(r"[\s\[\]()<>【】「」]", "", BULLETS.sub("", line))


def line_noise(text: str, config: NoiseConfig) -> list[NoiseRange]:
    """Appended blocks, menus, ticker tables, copyright and byline lines."""
    headings = _heading_pattern(config)
    lines = [(s, e) for s, e in (_strip(text, s, e) for s, e in _lines(text)) if e > s]
    n = len(lines)
    # Per line once, so the scan stays linear however many short lines a page has.
    cores = [_core(text[s:e]) for s, e in lines]
    prose = [e - s > config.max_line_chars or (len(c) >= 25 and bool(SENTENCE_END.search(text[s:e])))
             for (s, e), c in zip(lines, cores)]
    runnable = [not p and len(c) <= max(config.short_line_chars, 30) for p, c in zip(prose, cores)]
    next_prose, run_stop = [n] * (n + 1), [n] * (n + 1)  # first prose / non-run line at or after k
    for k in range(n - 1, -1, -1):
        next_prose[k] = k if prose[k] else next_prose[k + 1]
        run_stop[k] = k if not runnable[k] else run_stop[k + 1]
    numeric_before, tiny_before = [0] * (n + 1), [0] * (n + 1)  # counts over lines [0, k)
    for k, c in enumerate(cores):
        numeric_before[k + 1] = numeric_before[k] + bool(NUMERIC_CELL.match(c))
        tiny_before[k + 1] = tiny_before[k] + (len(c) <= config.short_line_chars)
    found: list[NoiseRange] = []

    i = 0
    while i < n:
        s, e = lines[i]
        line = text[s:e]
        short = len(line) <= config.max_line_chars
        if short and headings.match(cores[i]):
            # An appended block runs until the article's prose resumes (usually: to the end).
            j = next_prose[i + 1]
            found.append(NoiseRange(s, lines[j - 1][1], f"appended block: {cores[i][:20]}"))
            i = j
            continue
        run_end = run_stop[i]
        size = run_end - i
        if size >= config.min_run_lines:
            numeric = (numeric_before[run_end] - numeric_before[i]) / size
            tiny = (tiny_before[run_end] - tiny_before[i]) / size
            if numeric >= config.min_numeric_share:
                found.append(NoiseRange(s, lines[run_end - 1][1], "ticker table"))
                i = run_end
                continue
            if tiny >= 0.8:
                found.append(NoiseRange(s, lines[run_end - 1][1], "menu"))
                i = run_end
                continue
        if short and COPYRIGHT.search(line):
            found.append(NoiseRange(s, e, "copyright line"))
        elif short and EMAIL.search(line) and len(line) <= 80:
            found.append(NoiseRange(s, e, "byline/e-mail line"))
        elif short and len(line) <= 40 and BYLINE.search(line) and not SENTENCE_END.search(line):
            found.append(NoiseRange(s, e, "byline"))
        i += 1
    return found


def merge(noise: list[NoiseRange]) -> list[NoiseRange]:
    """Sorted, non-overlapping ranges; touching or overlapping ranges join (first reason kept)."""
    merged: list[NoiseRange] = []
    for item in sorted(noise, key=lambda n: (n.start, -n.end)):
        if merged and item.start <= merged[-1].end:
            last = merged[-1]
            if item.end > last.end:
                merged[-1] = NoiseRange(last.start, item.end, last.reason)
            continue
        merged.append(item)
    return merged


def find_noise(text: str, config: NoiseConfig | None = None) -> list[NoiseRange]:
    """All noise ranges of one article, merged."""
    config = config or NoiseConfig()
    noise = line_noise(text, config) + duplicate_segments(text, config) + glued_line_prefixes(text, config)
    if len(text) <= config.max_scan_chars:
        noise += repeated_passages(text, config.min_repeat_chars)
    return merge(noise)
