"""`extract --engine ray`: Ray Data actors give the local engine's records, rejects and counts, and resume."""
import json
import os
import signal
import subprocess
import sys
import time
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


def kill_ray_run_mid_way(articles: Path, output: Path, model: Path, after_lines: int) -> int:
    """`kfact extract --engine ray` in a process group of its own, killed with SIGKILL once `after_lines` complete
    records are written; the Ray processes it started die with it. Returns the complete lines at the kill."""
    command = [sys.executable, "-m", "pipeline", "extract", str(articles), "-o", str(output), "--model", str(model),
               "--engine", "ray", "--ray-actors", "2", "--batch-size", "2"]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if output.exists() and output.read_bytes().count(b"\n") >= after_lines:
                break
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.read()[-2000:]
    return output.read_bytes().count(b"\n")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own context settings
def test_ray_engine_killed_then_resumed_matches_local(shipped_model, articles_with_bad_lines, tmp_path):
    """A Ray run killed with SIGKILL mid-run, then resumed with --resume on Ray: every id exactly once, and the
    output byte for byte the local engine's (records, rejects and counts)."""
    from pipeline.runtime.ray_engine import RayOptions, ray_engine, ray_session

    def options(name: str, resume: bool = False) -> BatchOptions:
        # batch_size 2: several batches, so both actors work and results can come back out of order
        return BatchOptions(output=tmp_path / name, model_path=str(shipped_model), batch_size=2, resume=resume)

    # 40 more records after the fixture's, so that the Ray run is still going when it is killed
    sample = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    extra = [json.dumps({"id": f"more{i}", "text": f"{sample[i % len(sample)]['text']}\n{i}번째 사본이다."},
                        ensure_ascii=False) for i in range(40)]
    with open(articles_with_bad_lines, "a", encoding="utf-8") as handle:
        handle.write("\n".join(extra) + "\n")
    local = run_batch([articles_with_bad_lines], options("local.jsonl"))
    done_at_kill = kill_ray_run_mid_way(articles_with_bad_lines, tmp_path / "ray.jsonl", shipped_model, after_lines=2)
    print(f"killed the Ray run at {done_at_kill} of {local.written} records")
    assert 2 <= done_at_kill < local.written, "the kill should land mid-run"
    ray_options = RayOptions(num_cpus=2, actors=2)
    with ray_session(ray_options):
        remote = run_batch([articles_with_bad_lines], options("ray.jsonl", resume=True), engine=ray_engine(ray_options))

    assert (local.read, local.written, local.rejected) == (50, 48, 2)
    # the records written before the kill are skipped; the rest go through Ray, none twice
    assert remote.read == 50 and remote.already_done >= 2
    assert remote.already_done + remote.written + remote.rejected == remote.read
    assert remote.balanced

    local_records = read_jsonl(tmp_path / "local.jsonl")
    ray_records = read_jsonl(tmp_path / "ray.jsonl")
    assert sum(len(r["entities"]) for r in local_records) > 0, "a comparison of empty records proves nothing"
    assert sum(len(r["claims"]) for r in local_records[1:]) > 0
    by_id = {r["id"]: r for r in ray_records}
    assert len(by_id) == len(ray_records) == 48
    for record in local_records:
        assert by_id[record["id"]]["entities"] == record["entities"], record["id"]
        assert by_id[record["id"]]["claims"] == record["claims"], record["id"]
        assert by_id[record["id"]] == record, record["id"]
    # Stronger than the per-id comparison: the ray engine writes in input order, byte for byte.
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

    local_rejects = read_jsonl(tmp_path / "local.jsonl.rejects.jsonl")
    assert read_jsonl(tmp_path / "ray.jsonl.rejects.jsonl") == local_rejects
    assert sorted(r["reason"].split(":")[0] for r in local_rejects) == ["duplicate id", "not JSON"]
