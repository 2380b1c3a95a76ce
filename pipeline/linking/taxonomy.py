"""Lexicons the linker needs: country names -> ISO ids, and the indicator taxonomy.

Loaded from configs/ when a pipeline is built; components receive them already parsed.
"""
from __future__ import annotations

import functools
import gettext
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.paths import CONFIG_DIR



@dataclass(frozen=True)
class IndicatorDef:
    id: str
    ko: str
    aliases: tuple[str, ...]
    unit: str


@dataclass(frozen=True)
class ReportEditions:
    """Publications named by a year: annual reports by edition ("AI 인덱스 2025"), whose figures describe an
    earlier year, and surveys by reference year (｢2024 개인정보보호 및 활용조사｣), which describe that year."""

    patterns: tuple[tuple[re.Pattern[str], int], ...]  # (pattern with a `year` group, years the data lags)
    # statements of the period a survey covers: groups `year`, or `previous` with an optional `survey` year
    scope_patterns: tuple[re.Pattern[str], ...] = ()

    def data_year(self, text: str) -> int | None:
        for pattern, lag_years in self.patterns:
            match = pattern.search(text)
            if match:
                return int(match["year"]) - lag_years
        return None

    def scope_year(self, text: str, published_year: int | None) -> int | None:
        """The year a sentence says the survey or evaluation covers (이번 평가는 2019년도 …), if it says so."""
        for pattern in self.scope_patterns:
            match = pattern.search(text)
            if match is None:
                continue
            if match["year"]:
                return int(match["year"])
            base = int(match["survey"]) if match["survey"] else published_year
            if base is not None:
                return base - 1
        return None


def _read_toml(path: Path) -> dict:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


@functools.lru_cache(maxsize=8)
def load_indicators(path: str | Path = CONFIG_DIR / "indicators.toml") -> tuple[IndicatorDef, ...]:
    table = _read_toml(Path(path))
    return tuple(
        IndicatorDef(entry["id"], entry["ko"], tuple(entry.get("aliases", [])), entry.get("unit", "any"))
        for entry in table["indicator"]
    )


@functools.lru_cache(maxsize=8)
def load_report_editions(path: str | Path = CONFIG_DIR / "indicators.toml") -> ReportEditions:
    config = _read_toml(Path(path))
    patterns = []
    for section in ("report_editions", "survey_editions"):
        table = config.get(section, {})
        patterns += [(re.compile(p), int(table.get("lag_years", 1))) for p in table.get("patterns", [])]
    scope = tuple(re.compile(p) for p in config.get("scope_statements", {}).get("patterns", []))
    return ReportEditions(tuple(patterns), scope)


@functools.lru_cache(maxsize=8)
def load_country_names(path: str | Path = CONFIG_DIR / "countries.toml") -> dict[str, str]:
    """Surface name -> ISO alpha-2, from pycountry's Korean locale plus news aliases."""
    import pycountry

    names: dict[str, str] = {}
    try:
        korean = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ko"])
    except OSError:
        korean = None
    for country in pycountry.countries:
        if korean is None:
            break
        for attr in ("name", "official_name", "common_name"):
            english = getattr(country, attr, None)
            if english:
                local = korean.gettext(english)
                if local != english and "," not in local:
                    names.setdefault(local, country.alpha_2)
    for code, aliases in _read_toml(Path(path))["aliases"].items():
        for alias in aliases:
            names[alias] = code
    return names


def taxonomy_fingerprint(indicators) -> str:
    """What a trained scorer depends on: every indicator's id, description, aliases and unit, in order."""
    import hashlib

    text = "\n".join(f"{i.id}\t{i.ko}\t{'|'.join(i.aliases)}\t{i.unit}" for i in indicators)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
