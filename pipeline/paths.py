"""Where the project's files are: configs and models ship beside the package."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "pipeline.cfg"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "kfact-ner-small"


def resolve_path(path: str | Path) -> Path:
    """Relative paths in configs name files of this project: try the working directory, then the project."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return PROJECT_ROOT / candidate
