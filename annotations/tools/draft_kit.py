"""Annotation drafts -> records in the project's format (annotations/GUIDELINE.md), with checks.

Annotators (people or helper sessions) write a *draft* per article instead of raw offsets:

    {"id": "govpress-123", "published": "2024-05-02",
     "entities": [
        {"text": "미국", "label": "COUNTRY", "all": true},          # every whole occurrence
        {"text": "13억 달러", "label": "MONEY", "anchor": "한국은 13억 달러로"},  # the one inside a unique anchor
        {"text": "11위", "label": "QUANTITY"}                          # text that occurs exactly once
     ],
     "claims": [
        {"value": {"text": "13억 달러", "anchor": "한국은 13억 달러로"},
         "subject": {"text": "한국", "type": "COUNTRY", "id": "KR"},
         "indicator": {"id": "ai_private_investment", "text": "민간 투자"},
         "year": 2024, "number": 1300000000, "unit": "USD",
         "approximate": false, "value_max": null}
     ]}

`all` occurrences are whole-word: not preceded or followed by a Hangul, Latin letter or digit that
would make it part of a longer word, except Korean particles after it (미국은, 미국의 are occurrences).
An `anchor` must occur exactly once in the text and contain `text`; add `"nth": k` to take the k-th
occurrence of `text` inside the anchor (default 1).

Usage:
    python annotations/tools/draft_kit.py numbers SOURCE.jsonl ID      # numeric spans, to miss none
    python annotations/tools/draft_kit.py show SOURCE.jsonl ID         # the text with offsets
    python annotations/tools/draft_kit.py build SOURCE.jsonl DRAFTS_DIR OUT.jsonl --split blind \
        --source-name "..." --license "..."
    python annotations/tools/draft_kit.py check OUT.jsonl              # project validation + review list
    python annotations/tools/draft_kit.py agree A.jsonl B.jsonl        # agreement of two annotators
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PARTICLE_TAIL = re.compile(r"^(은|는|이|가|을|를|의|에|에서|에게|과|와|도|만|로|으로|까지|부터|보다|처럼|이나|나|이며|며|이고|고|라는|이라는|측|산|발|내|간|과의|와의)")
NUMBER = re.compile(r"(?:약|최대|최소|총|연|월|일)?\s?[-+]?\d[\d,]*(?:\.\d+)?(?:\s?(?:조|억|만|천|백))*(?:\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:조|억|만|천|백))*)*"
                    r"(?:\s?[~∼〜\-–]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:조|억|만|천|백))*)?"
                    r"\s?(?:%p|%포인트|%|퍼센트|달러|원|유로|위안|엔|파운드|명|개|건|곳|가구|톤|t|kg|ha|㎡|㎢|km|배|위|개국|개사|대|척|회|차례|가지|종|건수|마리|그루|편|권|장|채|호|년|개월|월|일|시간|분|GW|MW|kW|kWh|TWh|원/kg)?")


def load_sources(path: Path) -> dict[str, dict]:
    records = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                records[record["id"]] = record
    return records


def whole_occurrences(text: str, sub: str) -> list[int]:
    found, start = [], 0
    while True:
        i = text.find(sub, start)
        if i < 0:
            return found
        before = text[i - 1] if i > 0 else " "
        after = text[i + len(sub):]
        left_ok = not (before.isalnum() and (before.isascii() or "\uac00" <= before <= "\ud7a3"))
        right_ok = (not after or not after[0].isalnum() or not after[0].isascii() and not ("\uac00" <= after[0] <= "\ud7a3")
                    or bool(PARTICLE_TAIL.match(after)))
        if sub[-1].isdigit() and after[:1].isdigit():
            right_ok = False
        if left_ok and right_ok:
            found.append(i)
        start = i + 1


def locate(text: str, spec: dict, where: str) -> list[tuple[int, int]]:
    sub = spec["text"]
    if not sub or sub != sub.strip():
        raise ValueError(f"{where}: entity text {sub!r} is empty or has outer spaces")
    if spec.get("anchor"):
        anchor = spec["anchor"]
        count = text.count(anchor)
        if count != 1:
            raise ValueError(f"{where}: anchor {anchor!r} occurs {count} times (must be once)")
        a = text.find(anchor)
        nth = int(spec.get("nth", 1))
        pos, inner = -1, 0
        for _ in range(nth):
            pos = anchor.find(sub, pos + 1)
            if pos < 0:
                raise ValueError(f"{where}: {sub!r} (occurrence {nth}) not inside anchor {anchor!r}")
        return [(a + pos, a + pos + len(sub))]
    if spec.get("all"):
        hits = whole_occurrences(text, sub)
        if not hits:
            raise ValueError(f"{where}: {sub!r} does not occur as a whole word")
        return [(i, i + len(sub)) for i in hits]
    hits = whole_occurrences(text, sub)
    if len(hits) != 1:
        raise ValueError(f"{where}: {sub!r} occurs {len(hits)} times as a whole word; give an anchor or all=true")
    return [(hits[0], hits[0] + len(sub))]


def build_record(source: dict, draft: dict, split: str, source_name: str, license_text: str) -> dict:
    text = source["text"]
    rid = source["id"]
    spans: dict[tuple[int, int], str] = {}
    for k, spec in enumerate(draft.get("entities", [])):
        for a, b in locate(text, spec, f"{rid} entity {k} {spec.get('text')!r}"):
            label = spec["label"]
            if (a, b) in spans and spans[(a, b)] != label:
                raise ValueError(f"{rid}: span {a}-{b} {text[a:b]!r} labelled both {spans[(a, b)]} and {label}")
            spans[(a, b)] = label
    ordered = sorted(spans.items())
    # 'all' may catch an occurrence inside a longer annotated span: the longer span wins.
    entities = []
    for (a, b), label in ordered:
        inside = any(x <= a and b <= y and (x, y) != (a, b) for (x, y) in spans)
        if not inside:
            entities.append({"start": a, "end": b, "label": label, "text": text[a:b]})
    for prev, cur in zip(entities, entities[1:]):
        if cur["start"] < prev["end"]:
            raise ValueError(f"{rid}: {prev['text']!r} ({prev['start']}-{prev['end']}) overlaps {cur['text']!r} "
                             f"({cur['start']}-{cur['end']})")
    claims = []
    for k, spec in enumerate(draft.get("claims", [])):
        where = f"{rid} claim {k}"
        (a, b), = locate(text, spec["value"], where) if not spec["value"].get("all") else [(None, None)]
        if not any(e["start"] == a and e["end"] == b and e["label"] in ("MONEY", "PERCENT", "QUANTITY")
                   for e in entities):
            raise ValueError(f"{where}: value {text[a:b]!r} at {a}-{b} is not a MONEY/PERCENT/QUANTITY entity")
        claim = {"subject": spec["subject"], "indicator": spec["indicator"], "year": spec.get("year"),
                 "value": spec.get("number"), "unit": spec.get("unit"), "value_span": {"start": a, "end": b},
                 "approximate": bool(spec.get("approximate", False)), "value_max": spec.get("value_max")}
        if spec.get("period"):
            claim["period"] = spec["period"]
        claims.append(claim)
    return {"id": rid, "text": text, "published": draft.get("published", source.get("published")),
            "source": f"{source_name} {source.get('origin', {}).get('path', '')}".strip(),
            "license": license_text, "article": rid, "split": split,
            "entities": entities, "claims": claims}


def cmd_numbers(args) -> None:
    source = load_sources(Path(args.source))[args.id]
    text = source["text"]
    for m in NUMBER.finditer(text):
        if not any(ch.isdigit() for ch in m.group()):
            continue
        a, b = m.start(), m.end()
        context = text[max(0, a - 25):b + 15].replace("\n", "⏎")
        print(f"{a:5d}-{b:<5d} {m.group().strip()!r:22} …{context}…")


def cmd_show(args) -> None:
    source = load_sources(Path(args.source))[args.id]
    text = source["text"]
    print(f"id {source['id']}  published {source.get('published')}  title {source.get('title')!r}")
    for start in range(0, len(text), 60):
        print(f"{start:5d} | {text[start:start + 60]!r}")


def cmd_build(args) -> None:
    sources = load_sources(Path(args.source))
    out, problems = [], []
    for draft_path in sorted(Path(args.drafts).glob("*.json")):
        draft = json.loads(draft_path.read_text(encoding="utf-8"))
        if draft["id"] not in sources:
            problems.append(f"{draft_path}: unknown id {draft['id']!r}")
            continue
        try:
            out.append(build_record(sources[draft["id"]], draft, args.split, args.source_name, args.license))
        except (ValueError, KeyError) as error:
            problems.append(f"{draft_path}: {error}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    with open(args.out, "w", encoding="utf-8") as handle:
        for record in out:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(out)} records, {sum(len(r['entities']) for r in out)} entities, "
          f"{sum(len(r['claims']) for r in out)} claims to {args.out}")


def cmd_check(args) -> None:
    from pipeline.io.annotations import load_annotations
    from pipeline.linking.taxonomy import load_indicators

    records = load_annotations([args.file], {i.id for i in load_indicators()})
    for record in records:
        text = record.text
        covered = [(e.start, e.end) for e in record.entities]
        missing = [m for m in NUMBER.finditer(text) if any(ch.isdigit() for ch in m.group())
                   and not any(a < m.end() and m.start() < b for a, b in covered)]
        used = {(c.value_span.start, c.value_span.end) for c in record.claims}
        unused = [e for e in record.entities if e.label in ("MONEY", "PERCENT", "QUANTITY") and (e.start, e.end) not in used]
        print(f"== {record.id}: {len(record.entities)} entities, {len(record.claims)} claims")
        for m in missing:
            print(f"   number not in any entity: {m.group().strip()!r} at {m.start()} …{text[max(0, m.start() - 20):m.end() + 10]!r}")
        for e in unused:
            print(f"   value entity with no claim (fine if it is not a fact): {e.text!r} at {e.start}")
        for c in record.claims:
            if c.year is None:
                print(f"   claim with year null: {text[c.value_span.start:c.value_span.end]!r} ({c.indicator.id})")


def cmd_agree(args) -> None:
    from pipeline.io.annotations import load_annotations
    from pipeline.evaluation.metrics import claim_metrics

    a = {r.id: r for r in load_annotations([args.a])}
    b = {r.id: r for r in load_annotations([args.b])}
    shared = sorted(set(a) & set(b))
    metrics = claim_metrics({i: list(a[i].claims) for i in shared}, {i: list(b[i].claims) for i in shared})
    ents_a = {(i, e.start, e.end, e.label) for i in shared for e in a[i].entities}
    ents_b = {(i, e.start, e.end, e.label) for i in shared for e in b[i].entities}
    both = len(ents_a & ents_b)
    p, r = both / max(1, len(ents_b)), both / max(1, len(ents_a))
    print(json.dumps({"records": len(shared), "claims_a": sum(len(a[i].claims) for i in shared),
                      "claims_b": sum(len(b[i].claims) for i in shared),
                      "claim_agreement_f1": metrics["micro"]["f1"], "claim_tp": metrics["micro"]["tp"],
                      "entity_agreement_f1": 2 * p * r / (p + r) if p + r else 0.0}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("numbers", "show"):
        p = sub.add_parser(name)
        p.add_argument("source")
        p.add_argument("id")
    p = sub.add_parser("build")
    p.add_argument("source")
    p.add_argument("drafts")
    p.add_argument("out")
    p.add_argument("--split", required=True)
    p.add_argument("--source-name", required=True)
    p.add_argument("--license", required=True)
    p = sub.add_parser("check")
    p.add_argument("file")
    p = sub.add_parser("agree")
    p.add_argument("a")
    p.add_argument("b")
    args = parser.parse_args()
    {"numbers": cmd_numbers, "show": cmd_show, "build": cmd_build, "check": cmd_check, "agree": cmd_agree}[args.command](args)


if __name__ == "__main__":
    main()
