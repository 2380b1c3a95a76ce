"""Saving the entity model (optionally float16) and resumable training checkpoints."""
from __future__ import annotations

import json
import shutil
from pathlib import Path


def save_model(model, tokenizer, directory: Path, dtype: str = "float32") -> None:
    """The weights (optionally as float16, to ship half the size) and the tokenizer."""
    import torch

    if dtype == "float16":
        state = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
        model.save_pretrained(directory, state_dict=state)
    else:
        model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


class Checkpoint:
    """A resumable training state (weights, optimizer, scheduler, loop counters) in one directory."""

    def __init__(self, directory: Path):
        self.directory = directory

    def save(self, model, optimizer, scheduler, loop: dict) -> None:
        import torch

        tmp = self.directory.with_name(self.directory.name + ".partial")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state()}, tmp / "state.pt")
        (tmp / "loop.json").write_text(json.dumps(loop), encoding="utf-8")
        if self.directory.exists():
            shutil.rmtree(self.directory)
        tmp.rename(self.directory)  # a kill during save leaves the previous checkpoint intact

    def resume(self, model, optimizer, scheduler, log) -> dict | None:
        import torch

        if not (self.directory / "state.pt").is_file():
            return None
        state = torch.load(self.directory / "state.pt", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        loop = json.loads((self.directory / "loop.json").read_text(encoding="utf-8"))
        log(f"resumed from {self.directory} at step {loop['step']} (best dev {loop['best']['f1']:.4f})")
        return loop

    def remove(self) -> None:
        if self.directory.exists():
            shutil.rmtree(self.directory)
