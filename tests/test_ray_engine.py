"""`extract --engine ray`: Ray Data actors give the local engine's records, rejects and counts, and resume."""
import json
from pathlib import Path

import pytest

from pipeline.runtime.batch import BatchOptions, run_batch
from tests.conftest import ROOT

SAMPLE = ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture()
def articles_with_bad_lines(tmp_path) -> Path:
    """8 sample articles, one line that is not JSON and one reused id (different text)."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:8]
    first = json.loads(lines[0])
    lines.insert(3, '{"id": "broken", "text": ')
    lines.append(json.dumps({"id": first["id"], "text": "같은 아이디, 다른 기사: 한국은 13억 달러로 11위."}, ensure_ascii=False))
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own context settings
def test_ray_engine_matches_local_and_resumes(shipped_model, articles_with_bad_lines, tmp_path):
    """One Ray run (a Ray run costs a cluster start and a model load per actor), resuming after a kill:
    the output holds the local engine's first record and half of its second, and no rejects yet."""
    from pipeline.runtime.ray_engine import RayOptions, ray_engine, ray_session

    def options(name: str, resume: bool = False) -> BatchOptions:
        # batch_size 2: several batches, so both actors work and results can come back out of order
        return BatchOptions(output=tmp_path / name, model_path=str(shipped_model), batch_size=2, resume=resume)

    local = run_batch([articles_with_bad_lines], options("local.jsonl"))
    local_lines = (tmp_path / "local.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "ray.jsonl").write_bytes(local_lines[0] + local_lines[1][: len(local_lines[1]) // 2])
    ray_options = RayOptions(num_cpus=2, actors=2)
    with ray_session(ray_options):
        remote = run_batch([articles_with_bad_lines], options("ray.jsonl", resume=True), engine=ray_engine(ray_options))

    assert (local.read, local.written, local.rejected) == (10, 8, 2)
    # the whole first record is skipped; the cut-off second one and the other 6 go through Ray
    assert (remote.read, remote.already_done, remote.written, remote.rejected) == (10, 1, 7, 2)
    assert remote.balanced

    local_records = read_jsonl(tmp_path / "local.jsonl")
    ray_records = read_jsonl(tmp_path / "ray.jsonl")
    assert sum(len(r["entities"]) for r in local_records) > 0, "a comparison of empty records proves nothing"
    assert sum(len(r["claims"]) for r in local_records[1:]) > 0
    by_id = {r["id"]: r for r in ray_records}
    assert len(by_id) == len(ray_records) == 8
    for record in local_records:
        assert by_id[record["id"]]["entities"] == record["entities"], record["id"]
        assert by_id[record["id"]]["claims"] == record["claims"], record["id"]
        assert by_id[record["id"]] == record, record["id"]
    # Stronger than the per-id comparison: the ray engine writes in input order, byte for byte.
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

    local_rejects = read_jsonl(tmp_path / "local.jsonl.rejects.jsonl")
    assert read_jsonl(tmp_path / "ray.jsonl.rejects.jsonl") == local_rejects
    assert sorted(r["reason"].split(":")[0] for r in local_rejects) == ["duplicate id", "not JSON"]
