"""Where the project's files are: configs and models ship beside the package."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "pipeline.cfg"
MODELS_CONFIG = CONFIG_DIR / "models.toml"


def resolve_path(path: str | Path) -> Path:
    """Relative paths in configs name files of this project: try the working directory, then the project."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return PROJECT_ROOT / candidate


@lru_cache(maxsize=1)
def _models_config() -> dict:
    with open(MODELS_CONFIG, "rb") as handle:
        return tomllib.load(handle)


def linker_overrides(linker: str | None) -> dict[str, str]:
    """`--linker` names (configs/models.toml [linkers]): fast, accurate -> kfact_linker config overrides (its
    scorer and the encoder backend that scorer was trained on); None keeps configs/pipeline.cfg's."""
    if linker is None:
        return {}
    presets = _models_config().get("linkers", {})
    if linker not in presets:
        raise ValueError(f"--linker must be one of {', '.join(presets)}, not {linker!r}")
    return {f"components.kfact_linker.{key}": value for key, value in presets[linker].items()}


def model_aliases() -> dict[str, str]:
    """`--model` names (configs/models.toml): fast, accurate -> model directories."""
    return dict(_models_config()["aliases"])


def resolve_model(model: str | Path | None) -> Path:
    """An entity model directory from a name in configs/models.toml (fast, accurate), a path, or None for
    the default."""
    aliases = model_aliases()
    if model is None or str(model) == "":
        model = _models_config().get("default", "fast")
    if str(model) in aliases:
        return resolve_path(aliases[str(model)])
    return resolve_path(model)


DEFAULT_MODEL = resolve_model(None)
