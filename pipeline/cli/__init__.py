"""The `kfact` command line: one module per command group, each a thin shell over the functions that hold
the logic; everything printed goes through pipeline/cli/render.py."""
from __future__ import annotations

import sys

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Korean news fact extraction.")

# Import order is the order of `kfact --help`.
from pipeline.cli import extract, show, store, evaluate, annotate, train, encoder, bench  # noqa: E402,F401,I001


def main() -> None:  # pragma: no cover
    app(prog_name="kfact")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
