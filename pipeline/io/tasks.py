"""Label Studio and doccano: pre-annotated tasks out (`kfact annotate`), corrected exports in (`kfact import`).

Entities are labelled character spans in both tools. A claim goes out as a relation **from the value span
(MONEY/PERCENT/QUANTITY) to the subject span**, labelled with the indicator id (Label Studio: relation
`labels: [indicator_id]`; doccano: relation `type`). The rest of a claim (subject id, year, unit, value)
is not drawn in the tool; on import it is

- copied from the model's claim when the relation is the one the model proposed (same value span, same
  subject span, same indicator: the task carries those claims in `data.kfact.claims` / `kfact.claims`);
- otherwise derived by the linker's rules (pipeline/linking/: subject id lexicons, period resolution,
  unit and sign) with the value re-normalized from the span text (pipeline/normalize).

Claims whose subject is not an entity span (a subject carried from an earlier sentence, 국내/우리나라)
cannot be drawn as a relation: `kfact annotate` counts them and leaves them out.

Import policy: every task is checked as a whole (offsets inside the text, the exported span text equal to
text[start:end], no overlaps, known labels and indicators, relations between a value and a subject).
Good tasks are written; every bad task is listed with all its problems, by task index and id, in the
terminal and in OUT.rejects.jsonl, and the command exits non-zero. Nothing is dropped silently.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.io.annotations import AnnotatedRecord, AnnotationError, validate_record
from pipeline.schema import ENTITY_LABELS, SPLITS, SUBJECT_LABELS, VALUE_LABELS, Claim, OutputRecord

FORMATS = ("label-studio", "doccano")
KFACT_KEY = "kfact"  # our fields carried through the tool: id, published, source, license, claims


# -- export (annotate) -----------------------------------------------------------------------------

def _subject_entity(entities: Sequence[tuple[int, int, str, str]], claim) -> int | None:
    """Index of the entity the claim's subject was read from: same text, nearest to the value span."""
    value_start = claim.value_span.start
    candidates = [i for i, (a, b, label, text) in enumerate(entities)
                  if text == claim.subject.text and label in SUBJECT_LABELS]
    if not candidates:
        return None
    before = [i for i in candidates if entities[i][1] <= value_start]
    return max(before, key=lambda i: entities[i][1]) if before else min(candidates, key=lambda i: entities[i][0])


@dataclass
class AnnotateStats:
    tasks: int = 0
    entities: int = 0
    relations: int = 0
    claims_without_subject_span: int = 0


def record_to_task(record: OutputRecord, text: str, fmt: str, model_version: str, stats: AnnotateStats) -> dict:
    """One output record (and its article's text) -> one Label Studio task or one doccano JSONL record:
    entities as predictions, claims as relations (value -> subject, labelled with the indicator id)."""
    from pipeline.io import doccano, label_studio

    entities = [(e.start, e.end, e.label, e.text) for e in record.entities]
    index = {(a, b): i for i, (a, b, _, _) in enumerate(entities)}
    relations, carried = [], []
    for claim in record.claims:
        value_i = index.get((claim.value_span.start, claim.value_span.end))
        subject_i = _subject_entity(entities, claim)
        if value_i is None or subject_i is None:
            stats.claims_without_subject_span += 1
            continue
        relation = (value_i, subject_i, claim.indicator.id)
        if relation not in relations:
            relations.append(relation)
        a, b = entities[subject_i][:2]
        carried.append(claim.model_dump(exclude={"evidence", "confidence"}) | {"subject_span": {"start": a, "end": b}})
    meta = {"id": record.id, "published": record.published.isoformat() if record.published else None,
            "title": record.title, "url": record.url, "claims": carried}
    stats.tasks += 1
    stats.entities += len(entities)
    stats.relations += len(relations)
    if fmt == "label-studio":
        return label_studio.make_task(text, meta, entities, relations, model_version)
    if fmt == "doccano":
        return doccano.make_task(text, meta, entities, relations)
    raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")


def write_tasks(tasks: list[dict], path: Path, fmt: str) -> list[Path]:
    """Label Studio: one JSON array (its import format) plus the labeling config; doccano: JSONL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "label-studio":
        path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
        from pipeline.io.label_studio import label_config_path, labeling_config

        config = label_config_path(path)
        config.write_text(labeling_config(), encoding="utf-8")
        return [path, config]
    with open(path, "w", encoding="utf-8") as handle:
        for task in tasks:
            handle.write(json.dumps(task, ensure_ascii=False) + "\n")
    return [path]


# -- import ------------------------------------------------------------------------------------------

@dataclass
class SpanIn:
    region: Any  # the tool's id for the span (Label Studio region id, doccano entity id)
    start: Any
    end: Any
    label: Any
    text: str | None = None


@dataclass
class RelationIn:
    from_id: Any
    to_id: Any
    labels: list


@dataclass
class TaskIn:
    """One task/record of an export, in the tool's terms, before any checking."""

    index: int  # 0-based position in the export
    text: Any
    meta: dict
    spans: list[SpanIn] = field(default_factory=list)
    relations: list[RelationIn] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def record_id(self) -> str | None:
        value = self.meta.get("id")
        return str(value) if value is not None else None


@dataclass
class ImportResult:
    records: list[AnnotatedRecord] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # {"id", "source", "reason", "problems"}
    read: int = 0


def read_export(path: Path) -> list[dict]:
    """A JSON array (Label Studio's JSON export), a single JSON object, JSON Lines (doccano), or a zip of
    those (doccano's download: one JSONL per annotator, or all.jsonl), its members in name order."""
    import zipfile

    if zipfile.is_zipfile(path):
        rows = []
        with zipfile.ZipFile(path) as archive:
            members = sorted(n for n in archive.namelist() if n.endswith((".jsonl", ".json")))
            if not members:
                raise AnnotationError(f"{path}: a zip without .jsonl or .json members")
            for name in members:
                rows.extend(_parse_export(archive.read(name).decode("utf-8-sig"), f"{path}:{name}"))
        return rows
    return _parse_export(path.read_text(encoding="utf-8-sig"), str(path))


def _parse_export(raw: str, path: str) -> list[dict]:
    stripped = raw.lstrip()
    if stripped.startswith("["):
        data = json.loads(raw)
        if not isinstance(data, list):
            raise AnnotationError(f"{path}: expected a JSON array of tasks")
        return data
    try:
        data = json.loads(raw)
        return [data] if isinstance(data, dict) else list(data)
    except json.JSONDecodeError:
        pass
    rows = []
    for line_no, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise AnnotationError(f"{path}:{line_no}: not JSON: {error.msg}") from error
    return rows


def check_task(task: TaskIn, indicator_ids: set[str]) -> tuple[list[tuple[int, int, str]], list, list[str]]:
    """All problems of one task (not just the first); returns (spans, relations, problems)."""
    problems = list(task.problems)
    text = task.text
    if not isinstance(text, str):
        return [], [], problems + ["no text (Label Studio: data.text; doccano: text)"]
    n = len(text)
    by_region: dict[Any, tuple[int, int, str]] = {}
    good: list[tuple[int, int, str]] = []
    for span in task.spans:
        where = f"span {span.start}-{span.end} ({span.label})"
        if not (isinstance(span.start, int) and isinstance(span.end, int)) or isinstance(span.start, bool):
            problems.append(f"{where}: offsets are not integers")
            continue
        if span.label not in ENTITY_LABELS:
            problems.append(f"{where}: unknown label {span.label!r} (known: {', '.join(ENTITY_LABELS)})")
            continue
        if not (0 <= span.start < span.end <= n):
            problems.append(f"{where}: out of range for text of {n} chars")
            continue
        if span.text is not None and text[span.start:span.end] != span.text:
            problems.append(f"{where}: the text there is {text[span.start:span.end]!r}, the export says {span.text!r}")
            continue
        good.append((span.start, span.end, span.label))
        by_region[span.region] = (span.start, span.end, span.label)
    good = sorted(set(good))
    for previous, current in zip(good, good[1:]):
        if current[0] < previous[1]:
            problems.append(f"span {current[0]}-{current[1]} ({current[2]}) overlaps span "
                            f"{previous[0]}-{previous[1]} ({previous[2]})")
    relations = []
    for rel in task.relations:
        where = f"relation {rel.from_id}->{rel.to_id}"
        ends = [by_region.get(rel.from_id), by_region.get(rel.to_id)]
        if None in ends:
            problems.append(f"{where}: points to a span that is missing or was rejected")
            continue
        if len(rel.labels) != 1:
            problems.append(f"{where}: has {len(rel.labels)} labels {rel.labels}; expected one indicator id")
            continue
        indicator = rel.labels[0]
        if indicator not in indicator_ids:
            problems.append(f"{where}: unknown indicator {indicator!r} (configs/indicators.toml)")
            continue
        values = [e for e in ends if e[2] in VALUE_LABELS]
        subjects = [e for e in ends if e[2] in SUBJECT_LABELS]
        if len(values) != 1 or len(subjects) != 1:
            problems.append(f"{where}: must join one value span ({'/'.join(VALUE_LABELS)}) and one subject span "
                            f"({'/'.join(SUBJECT_LABELS)}), got {ends[0][2]} and {ends[1][2]}")
            continue
        relations.append((values[0], subjects[0], indicator))  # drawn either way round: value -> subject
    return good, relations, problems


def import_export(path: Path, fmt: str, split: str = "train", use_predictions: bool = False,
                  existing_ids: dict[str, str] | None = None) -> ImportResult:
    """Parse, check and convert every task of an export. Bad tasks are collected with all their problems."""
    from pipeline.io import doccano, label_studio
    from pipeline.linking.relations import ClaimBuilder
    from pipeline.linking.taxonomy import load_indicators

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    indicator_ids = {i.id for i in load_indicators()}
    existing_ids = existing_ids or {}
    builder: ClaimBuilder | None = None
    result = ImportResult()
    seen: dict[str, int] = {}
    for index, raw in enumerate(read_export(path)):
        result.read += 1
        task = label_studio.parse_task(raw, index, use_predictions) if fmt == "label-studio" else doccano.parse_task(raw, index)
        record_id = task.record_id or f"{path.stem}-{index}"
        source = f"{path.name} task {index}"
        spans, relations, problems = check_task(task, indicator_ids)
        if record_id in seen:
            problems.append(f"duplicate id {record_id!r} (also task {seen[record_id]})")
        elif record_id in existing_ids:
            problems.append(f"id {record_id!r} is already annotated in {existing_ids[record_id]}")
        seen.setdefault(record_id, index)
        record = None
        if not problems:
            builder = builder or ClaimBuilder()
            meta = task.meta
            claims = builder.build(task.text, meta.get("published"), spans, relations, meta.get("claims") or [])
            try:
                record = AnnotatedRecord(
                    id=record_id, text=task.text, published=meta.get("published"),
                    source=meta.get("source") or meta.get("url") or f"{fmt} export {path.name} task {index}",
                    license=meta.get("license"), split=split,
                    entities=[{"start": a, "end": b, "label": label, "text": task.text[a:b]} for a, b, label in spans],
                    claims=[Claim.model_validate(c) for c in claims])
                validate_record(record, source, indicator_ids)
            except (AnnotationError, ValueError) as error:
                problems.append(str(error))
        if problems:
            result.rejected.append({"id": record_id, "source": source, "reason": "; ".join(problems),
                                    "problems": problems})
        else:
            result.records.append(record)
    return result


def existing_annotation_ids(patterns: Iterable[str], exclude: Path | None = None) -> dict[str, str]:
    """Record ids already in the project's annotation files (an import must not collide with them)."""
    import glob

    from pipeline.io.annotations import iter_jsonl

    ids: dict[str, str] = {}
    for pattern in patterns:
        for name in sorted(glob.glob(str(pattern))):
            if exclude is not None and Path(name).resolve() == exclude.resolve():
                continue
            for row in iter_jsonl(Path(name)):
                if isinstance(row, dict) and "id" in row:
                    ids.setdefault(str(row["id"]), name)
    return ids
