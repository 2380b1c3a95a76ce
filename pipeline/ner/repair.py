"""Number-span repair after the entity model: split numbers joined, units and counters reattached, signs kept.

Spelling facts, not judgements: where the unit is a currency or a percent sign, the label follows it.
The word lists are data (configs/value_repair.toml); magnitudes and counters come from the normalizers.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from spacy.tokens import Doc

from pipeline.normalize.numbers import BIG_UNITS, SMALL_UNITS
from pipeline.normalize.quantity import COUNTERS
from pipeline.schema import VALUE_LABELS

NUMBER_HEAD = re.compile(r"^\d")
BARE_NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?([~∼〜\-–]\d[\d,]*(\.\d+)?)?$")  # "40", "3-4"


@dataclass(frozen=True)
class RepairLexicon:
    magnitudes: frozenset[str]
    currency_words: frozenset[str]
    percent_signs: frozenset[str]
    range_marks: frozenset[str]
    counter_words: frozenset[str]  # counters that make a bare number a QUANTITY ("40" + "개", "11" + "위")
    minus_signs: frozenset[str]
    lone_determiners: frozenset[str]
    numeral: re.Pattern[str]
    number_tail: re.Pattern[str]

    @property
    def unit_tokens(self) -> frozenset[str]:
        return self.magnitudes | self.currency_words | self.percent_signs

    @classmethod
    def from_toml(cls, path: str | Path) -> "RepairLexicon":
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
        return cls(
            magnitudes=frozenset({*SMALL_UNITS, *BIG_UNITS, *table["extra_magnitudes"]}),
            currency_words=frozenset(table["currency_words"]),
            percent_signs=frozenset(table["percent_signs"]),
            range_marks=frozenset(table["range_marks"]),
            counter_words=frozenset({*COUNTERS, *table["extra_counters"]}),
            minus_signs=frozenset(table["minus_signs"]),
            lone_determiners=frozenset(table["lone_determiners"]),
            numeral=re.compile(f"[{table['numerals']}]"),
            number_tail=re.compile(rf"(\d|[{''.join([*SMALL_UNITS, *BIG_UNITS])}])$"),
        )


def repair_value_spans(doc: Doc, spans: list[tuple[int, int, str]], lex: RepairLexicon) -> list[tuple[int, int, str]]:
    """Token spans (start, end, label) -> the same with split numbers joined and units reattached.

    The model sometimes cuts a compound number at its inner space or magnitude ("13억" + "3000만 달러"),
    across a range ("3" + "4조 원"), or leaves the unit outside ("1099" + "억 달러", "63" + "%").
    These are spelling facts, not judgements; where the unit is a currency or a percent sign, the
    label follows it.
    """
    repaired: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans):
        if repaired:
            p_start, p_end, p_label = repaired[-1]
            gap = [t for t in doc[p_end:start] if not t.is_space]
            joinable_gap = not gap or (len(gap) == 1 and gap[0].text in lex.range_marks)
            if (p_label in VALUE_LABELS and label in VALUE_LABELS and joinable_gap
                    and lex.number_tail.search(doc[p_start:p_end].text)
                    and (NUMBER_HEAD.match(doc[start].text) or doc[start].text in lex.unit_tokens)):
                repaired[-1] = (p_start, end, label if NUMBER_HEAD.match(doc[start].text) else p_label)
                continue
        repaired.append((start, end, label))
    taken = {i for start, end, _ in repaired for i in range(start, end)}
    result = []
    for start, end, label in repaired:
        if label in VALUE_LABELS:
            while end < len(doc) and end not in taken:
                token, previous = doc[end], doc[end - 1]
                glued = not previous.whitespace_
                if token.text in lex.magnitudes and glued and lex.number_tail.search(previous.text):
                    end += 1
                elif token.text in lex.currency_words | lex.percent_signs and (glued or previous.text in lex.magnitudes):
                    end += 1
                else:
                    break
            surface = doc[start:end].text
            if any(word in surface for word in lex.percent_signs):
                label = "PERCENT"
            elif any(token.text in lex.currency_words for token in doc[start:end]):
                label = "MONEY"
        result.append((start, end, label))
    return _attach_counters_and_signs(doc, result, lex)


def _attach_counters_and_signs(doc: Doc, spans: list[tuple[int, int, str]], lex: RepairLexicon) -> list[tuple[int, int, str]]:
    """A bare number takes its glued counter ("40"+"개" -> QUANTITY "40개", also when the number was
    tagged DATE: "9"+"위"), a glued leading minus joins the number ("-0.36"), and a value span with no
    number in it ("만", "개") is dropped: it cannot be normalized and only misleads the linker."""
    spans = sorted(spans)
    result: list[tuple[int, int, str]] = []
    skip_until = -1
    for i, (start, end, label) in enumerate(spans):
        if start < skip_until:
            if end <= skip_until:
                continue
            start = skip_until
        is_number = (label in VALUE_LABELS or label == "DATE") and BARE_NUMBER.match(doc[start:end].text)
        # "2" + "분기", "1" + "월": a bare number glued to the DATE span after it is part of that date.
        following = spans[i + 1] if i + 1 < len(spans) else None
        if is_number and following and following[2] == "DATE" and following[0] == end \
                and not doc[end - 1].whitespace_:
            spans[i + 1] = (start, following[1], "DATE")
            continue
        if is_number and end < len(doc) and not doc[end - 1].whitespace_:
            counter_end = end
            while counter_end < len(doc) and counter_end - end < 2 and \
                    "".join(t.text for t in doc[end:counter_end + 1]) in lex.counter_words:
                counter_end += 1
            # "2"+"번"+"째": take the longest counter that is a word of its own.
            while counter_end > end and "".join(t.text for t in doc[end:counter_end]) not in lex.counter_words:
                counter_end -= 1
            if counter_end > end:
                end, label, skip_until = counter_end, "QUANTITY", counter_end
        if label in VALUE_LABELS and start >= 1 and doc[start - 1].text in lex.minus_signs \
                and not doc[start - 1].whitespace_ and (start == 1 or (doc[start - 2].whitespace_
                                                                   and not lex.number_tail.search(doc[start - 2].text))) \
                and not (result and result[-1][1] > start - 1):
            start -= 1
        surface = "".join(t.text for t in doc[start:end] if not t.is_space)
        if label in VALUE_LABELS and not any(ch.isdigit() for ch in surface) and (
                surface in lex.unit_tokens | lex.counter_words | lex.lone_determiners or not lex.numeral.search(surface)):
            continue
        result.append((start, end, label))
    return result
