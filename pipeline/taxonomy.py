"""Lexicons the linker needs: country names -> ISO ids, and the indicator taxonomy.

Loaded from configs/ when a pipeline is built; components receive them already parsed.
"""
from __future__ import annotations

import functools
import gettext
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


@dataclass(frozen=True)
class IndicatorDef:
    id: str
    ko: str
    aliases: tuple[str, ...]
    unit: str


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
