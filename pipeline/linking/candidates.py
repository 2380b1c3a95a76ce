"""Indicator candidates of a value: taxonomy aliases found in its sentence, and the topic carried from before."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from spacy.tokens import Span

from pipeline.linking.taxonomy import IndicatorDef


@dataclass
class IndicatorCandidate:
    """An indicator alias found in the value's sentence, or the indicator carried from before."""

    indicator: IndicatorDef
    text: str
    start: int  # character offsets of the alias; -1 for a carried one
    end: int
    features: dict[str, float] = field(default_factory=dict)


class AliasIndex:
    """Every alias of every indicator, longest first, so that 민간 부문 투자 takes the place of 투자."""

    def __init__(self, indicators: Sequence[IndicatorDef]):
        self.aliases = sorted(((alias, ind) for ind in indicators for alias in ind.aliases), key=lambda p: -len(p[0]))

    def candidates(self, sentence: Span, carried: tuple[IndicatorDef, str] | None) -> list[IndicatorCandidate]:
        text = sentence.text
        offset = sentence.start_char
        found: list[IndicatorCandidate] = []
        taken: list[tuple[int, int]] = []
        for alias, ind in self.aliases:
            for match in re.finditer(re.escape(alias), text):
                a, b = offset + match.start(), offset + match.end()
                if any(x < b and a < y for x, y in taken):
                    continue
                taken.append((a, b))
                found.append(IndicatorCandidate(ind, alias, a, b))
        if carried is not None and not any(c.indicator.id == carried[0].id for c in found):
            found.append(IndicatorCandidate(carried[0], carried[1], -1, -1))
        return found
