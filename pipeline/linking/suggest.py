"""Candidates for new taxonomy entries: the phrases that `other` claims name most often (kfact taxonomy suggest)."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TRAILING_PARTICLES = re.compile(r"(은|는|이|가|을|를|의|도|만|에서|에|로|으로|과|와)$")


def phrase_key(text: str) -> str:
    """The phrase as a key: spaces collapsed, a trailing particle dropped (관람객 수는 -> 관람객 수)."""
    text = " ".join(text.split())
    return TRAILING_PARTICLES.sub("", text) if len(text) > 2 else text


@dataclass
class Suggestion:
    phrase: str
    claims: int = 0
    articles: set[str] = field(default_factory=set)
    units: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def suggest(output: Path, limit: int = 30, examples: int = 2) -> list[Suggestion]:
    """The `other` phrases of an extract output, most frequent first (by articles, then claims)."""
    found: dict[str, Suggestion] = defaultdict(lambda: Suggestion(""))
    with open(output, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a partial last line of a killed run
            for claim in record.get("claims", []):
                if claim["indicator"]["id"] != "other" or not claim["indicator"].get("text"):
                    continue
                key = phrase_key(claim["indicator"]["text"])
                item = found[key]
                item.phrase = key
                item.claims += 1
                item.articles.add(str(record["id"]))
                item.units[claim.get("unit")] += 1
                if len(item.examples) < examples:
                    item.examples.append(f"{claim['subject']['id']} {claim.get('year')} {claim['value_span']['text']}")
    ranked = sorted(found.values(), key=lambda s: (-len(s.articles), -s.claims, s.phrase))
    return ranked[:limit]
