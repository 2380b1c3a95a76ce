"""Training data for the entity model: KMOU (mapped to our labels) and the annotation files, Kiwi-tokenized,
as word-level examples; windows with labels aligned to the first subword of each word."""
from __future__ import annotations

from pathlib import Path

from pipeline.io.annotations import load_annotations
from pipeline.ner.alignment import AlignmentStats, align_labels, bio_tags, doc_words
from pipeline.ner.windows import model_word, plan_windows, sentence_word_ranges, subword_counts
from pipeline.schema import TUNING_SPLITS

IGNORE = -100


def collect_records(cfg, annotation_files: list[str] | None = None, log=print) -> dict[str, list[dict]]:
    """KMOU (mapped) plus our annotation files, grouped by split; for a student, the teacher's records in train."""
    from pipeline.io.corpora.kmou import KmouStats, load_kmou
    from pipeline.linking.taxonomy import load_country_names, load_indicators

    # Our annotation files first: a bad span fails here, naming file and record, before the corpus is read.
    patterns = annotation_files if annotation_files is not None else cfg.data.annotations
    records = load_annotations(patterns, {ind.id for ind in load_indicators()}) if patterns else []
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    if cfg.data.kmou_dir:
        kmou_dir = Path(cfg.data.kmou_dir)
        if not kmou_dir.is_dir():
            raise FileNotFoundError(f"KMOU corpus not found at {kmou_dir} (data.kmou_dir in {cfg.source})")
        stats = KmouStats()
        countries = set(load_country_names())
        per_split_cap = cfg.data.kmou_max_sentences
        for record in load_kmou(kmou_dir, cfg.data.kmou_map, countries,
                                cfg.data.kmou_dev_percent, cfg.data.kmou_test_percent, stats):
            bucket = splits[record["split"]]
            if per_split_cap and len(bucket) >= per_split_cap:
                continue
            bucket.append(record)
        log(f"KMOU: {stats.sentences} sentences, {stats.markup_mismatch} markup/raw mismatches; "
            f"mapped {dict(stats.mapped_labels)}")
    if patterns:
        blind = [r for r in records if r.split not in TUNING_SPLITS]
        if blind:
            log(f"annotations: left out {len(blind)} records of the blind split (scored only, never trained on)")
        for record in records:
            if record.split not in TUNING_SPLITS:
                continue
            item = record.model_dump()
            repeat = cfg.data.annotation_upsample if record.split == "train" else 1
            for copy in range(max(1, repeat)):
                splits[record.split].append(dict(item, id=f"{item['id']}#{copy}" if copy else item["id"]))
        log(f"annotations: {len(records)} records from {patterns}")
    if cfg.distill is not None:
        from pipeline.training.distill import load_teacher_records

        teacher = load_teacher_records(cfg.distill)
        splits["train"].extend(teacher)
        log(f"distillation: {len(teacher)} teacher-labelled train records from {cfg.distill.output}, "
            f"{sum(len(r['text']) for r in teacher):,} chars")
    return splits


def records_to_examples(nlp, records: list[dict], stats: AlignmentStats) -> list[dict]:
    """Kiwi-tokenize each record; BIO over its non-space tokens plus sentence ranges."""
    examples = []
    docs = nlp.tokenizer.pipe(r["text"] for r in records)
    for record, doc in zip(records, docs):
        token_ids = doc_words(doc)
        if not token_ids:
            continue
        tags = bio_tags(doc, record.get("entities", []), record.get("ignore", []), stats)
        sentences = sentence_word_ranges(doc, token_ids)
        examples.append({
            "id": record["id"],
            "words": [model_word(doc[i].text) for i in token_ids],
            "tags": tags,
            "sentence_starts": [s for s, _ in sentences],
        })
    return examples


def encode_examples(dataset, tokenizer, label2id: dict[str, int], max_subwords: int, context: int):
    """datasets.Dataset of word-level examples -> one row per window, labels aligned to subwords."""

    def encode(batch):
        out = {"input_ids": [], "labels": []}
        for words, tags, starts in zip(batch["words"], batch["tags"], batch["sentence_starts"]):
            sentences = list(zip(starts, starts[1:] + [len(words)]))
            counts = subword_counts(tokenizer, words)
            word_labels = [IGNORE if t == "-" else label2id[t] for t in tags]
            for window in plan_windows(sentences, counts, max_subwords, context):
                piece = words[window.start:window.end]
                enc = tokenizer(piece, is_split_into_words=True, truncation=True, max_length=max_subwords + 2)
                core = range(window.core_start - window.start, window.core_end - window.start)
                labels = align_labels(enc.word_ids(), word_labels[window.start:window.end], core)
                if all(label == IGNORE for label in labels):
                    continue
                out["input_ids"].append(enc["input_ids"])
                out["labels"].append(labels)
        return out

    return dataset.map(encode, batched=True, remove_columns=dataset.column_names)


def train_wordpiece(word_lists: list[list[str]], vocab_size: int, out_dir: Path):
    """A cased WordPiece vocabulary over Kiwi tokens (no accent stripping: it would decompose Hangul)."""
    from tokenizers import BertWordPieceTokenizer
    from tokenizers.processors import BertProcessing
    from transformers import PreTrainedTokenizerFast

    wordpiece = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    wordpiece.train_from_iterator((" ".join(words) for words in word_lists), vocab_size=vocab_size,
                                  min_frequency=2, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    wordpiece._tokenizer.post_processor = BertProcessing(("[SEP]", wordpiece.token_to_id("[SEP]")),
                                                         ("[CLS]", wordpiece.token_to_id("[CLS]")))
    # Wrap the trained object itself: BertTokenizerFast(vocab_file=...) silently loses the vocabulary
    # in transformers 5 (every subword becomes [UNK]).
    return PreTrainedTokenizerFast(tokenizer_object=wordpiece._tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
