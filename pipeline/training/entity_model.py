"""Train the entity model: `kfact train --config configs/ner_default.toml`.

Shaped after transformers' run_ner.py: dataclass arguments parsed from a config file, data
through `datasets`, labels aligned to subwords with word_ids(), best epoch chosen on dev with
seqeval, test touched once at the end. Everything needed to reproduce the model is written
next to it.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.ner.alignment import AlignmentStats
from pipeline.training.checkpoint import Checkpoint, save_model
from pipeline.training.data import IGNORE, collect_records, encode_examples, records_to_examples, train_wordpiece
from pipeline.training.distill import DistillArguments


@dataclass
class ModelArguments:
    base: str = ""
    output_dir: str = "models/kfact-ner-new"
    vocab_size: int = 12000


@dataclass
class ArchitectureArguments:
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 256
    hidden_dropout_prob: float = 0.1


@dataclass
class DataArguments:
    labels: list[str] = field(default_factory=list)
    kmou_dir: str = ""
    kmou_dev_percent: int = 10
    kmou_test_percent: int = 10
    kmou_max_sentences: int = 0
    annotations: list[str] = field(default_factory=list)
    annotation_upsample: int = 1
    kmou_map: dict[str, str] = field(default_factory=dict)


@dataclass
class TrainingArguments:
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_subwords: int = 128
    context_subwords: int = 16
    seed: int = 13
    num_threads: int = 2
    # Pretrained encoders: keep the (large) word-embedding table fixed; the head may learn faster.
    freeze_word_embeddings: bool = False
    head_learning_rate: float = 0.0  # 0 = learning_rate
    # Evaluate dev (window F1) every N optimizer steps (0 = once per epoch); keep the best weights,
    # write a resumable checkpoint at each evaluation, stop after `patience` evaluations without gain.
    eval_every_steps: int = 0
    patience: int = 0  # 0 = run all epochs
    log_every_steps: int = 50
    save_dtype: str = "float32"  # "float16" halves the shipped model


@dataclass
class TrainConfig:
    model: ModelArguments
    architecture: ArchitectureArguments
    data: DataArguments
    training: TrainingArguments
    source: str = ""
    distill: DistillArguments | None = None  # a student: the teacher's records join the train split

    @classmethod
    def from_toml(cls, path: str | Path) -> "TrainConfig":
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
        return cls(
            ModelArguments(**raw.get("model", {})),
            ArchitectureArguments(**raw.get("architecture", {})),
            DataArguments(**raw.get("data", {})),
            TrainingArguments(**raw.get("training", {})),
            source=str(path),
            distill=DistillArguments(**raw["distill"]) if "distill" in raw else None,
        )

    def bio_labels(self) -> list[str]:
        return ["O"] + [f"{p}-{label}" for label in self.data.labels for p in ("B", "I")]


def build_model(cfg: TrainConfig, tokenizer, labels: list[str]):
    from transformers import AutoModelForTokenClassification, AutoTokenizer, BertConfig, BertForTokenClassification

    id2label = dict(enumerate(labels))
    label2id = {label: i for i, label in id2label.items()}
    if cfg.model.base:
        tokenizer = AutoTokenizer.from_pretrained(cfg.model.base)
        model = AutoModelForTokenClassification.from_pretrained(
            cfg.model.base, num_labels=len(labels), id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True)
        return model, tokenizer
    arch = cfg.architecture
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=arch.hidden_size,
                        num_hidden_layers=arch.num_hidden_layers, num_attention_heads=arch.num_attention_heads,
                        intermediate_size=arch.intermediate_size, max_position_embeddings=arch.max_position_embeddings,
                        hidden_dropout_prob=arch.hidden_dropout_prob, num_labels=len(labels),
                        id2label=id2label, label2id=label2id)
    return BertForTokenClassification(config), tokenizer


# -- loop --------------------------------------------------------------------------------------

def _batches(rows, batch_size: int, pad_id: int, shuffle: bool, rng: random.Random):
    import torch

    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["input_ids"]))
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(chunks)
    for chunk in chunks:
        width = max(len(rows[i]["input_ids"]) for i in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        labels = torch.full((len(chunk), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            n = len(rows[i]["input_ids"])
            ids[row, :n] = torch.tensor(rows[i]["input_ids"])
            labels[row, :n] = torch.tensor(rows[i]["labels"])
            mask[row, :n] = 1
        yield ids, mask, labels


def window_f1(model, rows, labels: list[str], batch_size: int, pad_id: int) -> dict:
    """seqeval micro F1 over windows (labelled positions only): cheap model selection on dev."""
    import torch
    from seqeval.metrics import f1_score

    model.eval()
    gold_all, pred_all = [], []
    with torch.inference_mode():
        for ids, mask, gold in _batches(rows, batch_size, pad_id, False, random.Random(0)):
            pred = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
            for g_row, p_row in zip(gold.tolist(), pred.tolist()):
                keep = [(g, p) for g, p in zip(g_row, p_row) if g != IGNORE]
                gold_all.append([labels[g] for g, _ in keep])
                pred_all.append([labels[p] for _, p in keep])
    model.train()
    return {"f1": float(f1_score(gold_all, pred_all)) if gold_all else 0.0}


def fingerprint(records: list[dict]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(record["id"].encode())
        digest.update(record["text"].encode())
        digest.update(json.dumps(record.get("entities", []), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def _teacher_summary(records: list[dict]) -> dict:
    """Per corpus: how many teacher-labelled records and characters went into training."""
    summary: dict[str, dict] = {}
    for record in records:
        if record["id"].startswith("distill:"):
            entry = summary.setdefault(record.get("source", "?"), {"records": 0, "chars": 0, "entities": 0})
            entry["records"] += 1
            entry["chars"] += len(record["text"])
            entry["entities"] += len(record.get("entities", []))
    return summary


def train(cfg: TrainConfig, output_dir: Path | None = None, annotation_files: list[str] | None = None,
          overwrite: bool = False, log: Callable[[str], None] = print, evaluate: bool = True,
          resume: bool = False) -> dict:
    """Train, pick the best dev epoch, evaluate test once, write the model directory. Returns metrics."""
    import torch
    from datasets import Dataset
    from transformers import get_linear_schedule_with_warmup

    from pipeline.nlp import blank_pipeline

    output_dir = Path(output_dir or cfg.model.output_dir)
    if (output_dir / "config.json").exists() and not overwrite:
        raise FileExistsError(f"{output_dir} already holds a model; pass --output NEW_DIR or --overwrite")
    torch.manual_seed(cfg.training.seed)
    torch.set_num_threads(max(1, cfg.training.num_threads))
    started = time.time()

    nlp = blank_pipeline()
    splits = collect_records(cfg, annotation_files, log)
    stats = AlignmentStats()
    examples = {name: records_to_examples(nlp, records, stats) for name, records in splits.items()}
    log(f"examples: { {k: len(v) for k, v in examples.items()} }; spans {stats.spans}, "
        f"expanded to token bounds {stats.misaligned}, lost {stats.lost}")

    labels = cfg.bio_labels()
    label2id = {label: i for i, label in enumerate(labels)}
    staging = output_dir.with_name(output_dir.name + ".tmp")
    if staging.exists() and not (resume and (staging / "checkpoint").is_dir()):
        shutil.rmtree(staging)
    tokenizer = None
    if not cfg.model.base:
        tokenizer = train_wordpiece([e["words"] for e in examples["train"]], cfg.model.vocab_size, staging)
    model, tokenizer = build_model(cfg, tokenizer, labels)

    datasets = {name: encode_examples(Dataset.from_list(rows), tokenizer, label2id,
                                      cfg.training.max_subwords, cfg.training.context_subwords)
                for name, rows in examples.items() if rows}
    rows = {name: ds.to_list() for name, ds in datasets.items()}
    n_tokens = sum(len(r["input_ids"]) for r in rows["train"])
    log(f"windows: { {k: len(v) for k, v in rows.items()} }; train subwords/epoch {n_tokens}")

    steps_per_epoch = math.ceil(len(rows["train"]) / cfg.training.batch_size)
    steps = steps_per_epoch * cfg.training.epochs
    if cfg.training.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("classifier")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("classifier")]
    optimizer = torch.optim.AdamW(
        [{"params": body}, {"params": head, "lr": cfg.training.head_learning_rate or cfg.training.learning_rate}],
        lr=cfg.training.learning_rate, weight_decay=cfg.training.weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(steps * cfg.training.warmup_ratio), steps)
    pad_id = tokenizer.pad_token_id
    checkpoint = Checkpoint(staging / "checkpoint")
    state = checkpoint.resume(model, optimizer, scheduler, log) if resume else None
    best = state["best"] if state else {"f1": -1.0, "epoch": 0, "step": 0}
    history = state["history"] if state else []
    step, bad_evals = (state["step"], state["bad_evals"]) if state else (0, 0)
    eval_every = cfg.training.eval_every_steps or steps_per_epoch
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log(f"training {trainable:,} of {sum(p.numel() for p in model.parameters()):,} parameters; "
        f"{steps} steps, dev every {eval_every}")
    model.train()
    stop = False
    window_loss, window_batches, window_tokens, window_start = 0.0, 0, 0, time.time()
    earlier_seconds = state.get("train_seconds", 0.0) if state else 0.0
    for epoch in range(1, cfg.training.epochs + 1):
        # Shuffling is seeded per epoch, so a resumed run sees the batches the interrupted one would have.
        epoch_batches = list(_batches(rows["train"], cfg.training.batch_size, pad_id, True,
                                      random.Random(cfg.training.seed * 1000 + epoch)))
        for index, (ids, mask, gold) in enumerate(epoch_batches):
            if (epoch - 1) * steps_per_epoch + index < step:
                continue  # done before the resume
            loss = model(input_ids=ids, attention_mask=mask, labels=gold).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            window_loss += loss.item()
            window_batches += 1
            window_tokens += int(mask.sum())
            if step % cfg.training.log_every_steps == 0 or step == steps:
                seconds = time.time() - window_start
                history.append({"step": step, "epoch": epoch, "loss": round(window_loss / window_batches, 5),
                                "subwords_per_s": round(window_tokens / max(seconds, 1e-6))})
                log(f"step {step}/{steps} epoch {epoch} loss {window_loss / window_batches:.4f} "
                    f"({window_tokens / max(seconds, 1e-6):.0f} subwords/s)")
                window_loss, window_batches, window_tokens, window_start = 0.0, 0, 0, time.time()
            if step % eval_every == 0 or step == steps:
                dev = window_f1(model, rows.get("dev", []), labels, 64, pad_id)
                history.append({"step": step, "epoch": epoch, "dev_window_f1": round(dev["f1"], 5)})
                log(f"step {step} dev window F1 {dev['f1']:.4f} (best {max(best['f1'], 0):.4f})")
                if dev["f1"] > best["f1"]:
                    best, bad_evals = {"f1": dev["f1"], "epoch": epoch, "step": step}, 0
                    save_model(model, tokenizer, staging, cfg.training.save_dtype)
                else:
                    bad_evals += 1
                checkpoint.save(model, optimizer, scheduler, {
                    "best": best, "history": history, "step": step, "bad_evals": bad_evals,
                    "train_seconds": earlier_seconds + time.time() - started})
                if cfg.training.patience and bad_evals >= cfg.training.patience:
                    log(f"no dev gain in {bad_evals} evaluations: stopping at step {step}")
                    stop = True
                    break
        if stop:
            break
    checkpoint.remove()
    train_seconds = earlier_seconds + time.time() - started

    from transformers import AutoModelForTokenClassification
    best_model = AutoModelForTokenClassification.from_pretrained(staging)
    info = {
        "config": {k: asdict(v) for k, v in (("model", cfg.model), ("architecture", cfg.architecture),
                                             ("data", cfg.data), ("training", cfg.training),
                                             ("distill", cfg.distill)) if v is not None},
        "config_file": cfg.source,
        "labels": labels,
        "data": {name: {"records": len(recs), "fingerprint": fingerprint(recs)} for name, recs in splits.items()},
        "alignment": {"spans": stats.spans, "expanded": stats.misaligned, "lost": stats.lost},
        "teacher_records": _teacher_summary(splits["train"]),
        "history": history,
        "best_epoch": best["epoch"],
        "best_step": best["step"],
        "train_seconds": round(train_seconds, 1),
        "parameters": sum(p.numel() for p in best_model.parameters()),
    }
    (staging / "training.json").write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    if output_dir.exists():
        shutil.rmtree(output_dir)
    staging.rename(output_dir)
    log(f"wrote {output_dir} (best epoch {best['epoch']}, dev window F1 {best['f1']:.4f}, {train_seconds:.0f}s)")
    if evaluate:
        from pipeline.training.model_card import evaluate_entity_model, write_card

        info["evaluation"] = evaluate_entity_model(output_dir, splits)
        card = write_card(output_dir, info, info["evaluation"])
        log(f"evaluated dev and test once; wrote {card}")
    return info
