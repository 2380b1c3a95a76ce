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


# Label Studio's snapshot export lists predictions by id only (`"predictions": [1]`) unless asked for complete
# ones: Predictions → Complete predictions in the snapshot dialog, `serialization_options: {"predictions":
# {"only_id": false}}` in the export API (the SDK's export_snapshot_create: serialization_options_predictions=False).
ONLY_IDS_HINT = ("export the project again with complete predictions (snapshot export: Predictions → Complete "
                 "predictions; export API: serialization_options.predictions.only_id = false)")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _predictions(task: dict) -> tuple[list[dict], list, list[str]]:
    """A task's full predictions, the ones given by id only, and what else is wrong with the list."""
    raw = task.get("predictions")
    if raw is None:
        return [], [], []
    if not isinstance(raw, list):
        return [], [], [f"predictions is not a list but {type(raw).__name__}"]
    full = [p for p in raw if isinstance(p, dict)]
    ids = [p for p in raw if _is_id(p)]
    other = [f"prediction {i} is not an object or an id but {type(p).__name__}"
             for i, p in enumerate(raw) if p is not None and not isinstance(p, dict) and not _is_id(p)]
    return full, ids, other


def parse_task(task: Any, index: int, use_predictions: bool = False) -> TaskIn:
    if not isinstance(task, dict):
        return TaskIn(index, None, {}, problems=[f"not a JSON object but {type(task).__name__}"])
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    meta = dict(data.get(KFACT_KEY) or {})
    meta.setdefault("id", data.get("id", task.get("id")))
    meta.setdefault("published", data.get("published"))
    parsed = TaskIn(index, data.get("text"), meta)
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    # A prediction given only by id counts as no prediction: the export left its regions out.
    predictions, prediction_ids, prediction_problems = _predictions(task)
    if annotations:
        # Several annotators: the most recently updated annotation is the corrected one.
        chosen = max(enumerate(annotations), key=lambda ia: (str(ia[1].get("updated_at") or ""), ia[0]))[1]
        results = chosen.get("result") or []
    elif use_predictions and predictions:
        results = predictions[-1].get("result") or []
    else:
        if use_predictions and prediction_ids:
            reason = (f"no annotations, and its predictions are only ids {prediction_ids[:5]} without their "
                      f"regions; {ONLY_IDS_HINT}")
        elif prediction_ids and not predictions:
            reason = (f"no annotations; its predictions are only ids {prediction_ids[:5]}, which --use-predictions "
                      f"cannot import either; {ONLY_IDS_HINT}")
        elif predictions:
            reason = "no annotations (only predictions: pass --use-predictions to import them as they are)"
        else:
            reason = "no annotations"
        parsed.problems.extend([reason] + prediction_problems)
        return parsed
    if not isinstance(results, list):
        parsed.problems.append(f"result is not a list but {type(results).__name__}")
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
