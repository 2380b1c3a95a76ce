"""doccano (sequence labeling with relations): JSONL records out (`kfact annotate --format doccano`) and its
JSONL export read back (`kfact import --format doccano`), including the older `label: [[start, end, LABEL]]`."""
from __future__ import annotations

from typing import Any

from pipeline.io.tasks import KFACT_KEY, RelationIn, SpanIn, TaskIn


def make_task(text: str, meta: dict, entities, relations) -> dict:
    return {"text": text,
            "entities": [{"id": i, "start_offset": a, "end_offset": b, "label": label}
                         for i, (a, b, label, _) in enumerate(entities)],
            "relations": [{"id": k, "from_id": v, "to_id": s, "type": indicator}
                          for k, (v, s, indicator) in enumerate(relations)],
            KFACT_KEY: meta}


def parse_task(record: Any, index: int) -> TaskIn:
    if not isinstance(record, dict):
        return TaskIn(index, None, {}, problems=[f"not a JSON object but {type(record).__name__}"])
    meta = dict(record.get(KFACT_KEY) or {})
    meta.setdefault("id", record.get("id"))
    meta.setdefault("published", record.get("published"))
    parsed = TaskIn(index, record.get("text"), meta)
    if "entities" in record:
        for i, ent in enumerate(record.get("entities") or []):
            if not isinstance(ent, dict):
                parsed.problems.append(f"entity #{i} is not an object")
                continue
            parsed.spans.append(SpanIn(ent.get("id", i), ent.get("start_offset"), ent.get("end_offset"), ent.get("label")))
    for i, item in enumerate(record.get("label") or []):  # doccano's older export: [[start, end, LABEL], ...]
        if not (isinstance(item, (list, tuple)) and len(item) == 3):
            parsed.problems.append(f"label #{i} is {item!r}, expected [start, end, LABEL]")
            continue
        parsed.spans.append(SpanIn(f"label{i}", *item))
    for rel in record.get("relations") or []:
        if not isinstance(rel, dict):
            parsed.problems.append(f"relation {rel!r} is not an object")
            continue
        parsed.relations.append(RelationIn(rel.get("from_id"), rel.get("to_id"),
                                           [rel["type"]] if rel.get("type") is not None else []))
    return parsed
