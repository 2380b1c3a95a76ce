"""Label Studio: tasks with pre-annotations (`kfact annotate --format label-studio`), its labeling config,
and its JSON export read back (`kfact import --format label-studio`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from pipeline.io.tasks import KFACT_KEY, RelationIn, SpanIn, TaskIn
from pipeline.schema import ENTITY_LABELS

FROM_NAME, TO_NAME = "label", "text"  # the control and object names in our labeling config


def make_task(text: str, meta: dict, entities, relations, model_version: str) -> dict:
    """Entities as prediction regions, claims as relations (value -> subject, labelled with the indicator)."""
    result = [{"id": f"e{i}", "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
               "value": {"start": a, "end": b, "text": surface, "labels": [label]}}
              for i, (a, b, label, surface) in enumerate(entities)]
    result += [{"type": "relation", "from_id": f"e{v}", "to_id": f"e{s}", "direction": "right",
                "labels": [indicator]} for v, s, indicator in relations]
    return {"data": {"text": text, KFACT_KEY: meta}, "predictions": [{"model_version": model_version, "result": result}]}


def label_config_path(tasks_path: Path) -> Path:
    return tasks_path.with_name(tasks_path.name.split(".")[0] + ".label_config.xml")


def labeling_config(labels: Sequence[str] = ENTITY_LABELS, indicators: Sequence[str] | None = None) -> str:
    """The labeling config (Settings → Labeling Interface → Code): our labels, relations = indicator ids."""
    from pipeline.evaluation.report import LABEL_COLORS
    from pipeline.linking.taxonomy import load_indicators

    indicator_ids = list(indicators) if indicators is not None else [i.id for i in load_indicators()]
    lines = ["<View>",
             "  <!-- kfact: draw a relation from the value (MONEY/PERCENT/QUANTITY) to its subject; "
             "its label is the indicator id -->",
             "  <Relations>"]
    lines += [f'    <Relation value="{ind}"/>' for ind in indicator_ids]
    lines += ["  </Relations>", f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">']
    lines += [f'    <Label value="{label}" background="{LABEL_COLORS.get(label, "#dddddd")}"/>' for label in labels]
    lines += ["  </Labels>", f'  <Text name="{TO_NAME}" value="$text" granularity="symbol"/>', "</View>", ""]
    return "\n".join(lines)


def parse_task(task: Any, index: int, use_predictions: bool = False) -> TaskIn:
    if not isinstance(task, dict):
        return TaskIn(index, None, {}, problems=[f"not a JSON object but {type(task).__name__}"])
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    meta = dict(data.get(KFACT_KEY) or {})
    meta.setdefault("id", data.get("id", task.get("id")))
    meta.setdefault("published", data.get("published"))
    parsed = TaskIn(index, data.get("text"), meta)
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if annotations:
        # Several annotators: the most recently updated annotation is the corrected one.
        chosen = max(enumerate(annotations), key=lambda ia: (str(ia[1].get("updated_at") or ""), ia[0]))[1]
        results = chosen.get("result") or []
    elif use_predictions and task.get("predictions"):
        results = (task["predictions"][-1] or {}).get("result") or []
    else:
        has_predictions = bool(task.get("predictions"))
        parsed.problems.append("no annotations" + (
            " (only predictions: pass --use-predictions to import them as they are)" if has_predictions else ""))
        return parsed
    for item in results:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "labels":
            value = item.get("value") or {}
            labels = value.get("labels") or []
            if len(labels) != 1:
                parsed.problems.append(f"region {item.get('id')!r} has {len(labels)} labels {labels}, expected one")
                continue
            parsed.spans.append(SpanIn(item.get("id"), value.get("start"), value.get("end"), labels[0], value.get("text")))
        elif kind == "relation":
            parsed.relations.append(RelationIn(item.get("from_id"), item.get("to_id"), list(item.get("labels") or [])))
        else:
            parsed.problems.append(f"unsupported result type {kind!r} (expected 'labels' or 'relation')")
    return parsed
