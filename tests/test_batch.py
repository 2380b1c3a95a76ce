"""The batch runner: every record is written or rejected with a reason, in order, resumably."""
import json
import os
import signal
import time
from pathlib import Path
from unittest import mock

import pytest

from pipeline.runtime.batch import BatchError, BatchOptions, LineWriter, run_batch
from tests.conftest import ROOT


def read_jsonl(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture()
def messy_input(tmp_path):
    lines = [
        json.dumps({"id": "a1", "text": "미국은 1091억 달러로 1위다.", "published": "2025-04-08"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"text": "아이디가 없다"}, ensure_ascii=False),
        json.dumps({"id": "a2", "text": 12345}),
        json.dumps({"id": "a3", "text": "", "published": "not a date"}),
        json.dumps({"id": "a1", "text": "중복 아이디"}, ensure_ascii=False),
        json.dumps(["a", "list"]),
        json.dumps({"id": "a4", "text": "한국은 13억 달러로 11위에 그쳤다.", "published": "2999-01-01"}, ensure_ascii=False),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "a5", "text": "\xff\xfe bad"}\n')
    text_file = tmp_path / "one.txt"
    text_file.write_text("중국이 93억 달러로 뒤를 이었다.", encoding="utf-8")
    return [path, text_file, tmp_path / "missing.jsonl"]


def test_counts_add_up_and_order_is_kept(tiny_model, messy_input, tmp_path):
    out = tmp_path / "out.jsonl"
    summary = run_batch(messy_input, BatchOptions(output=out, model_path=str(tiny_model), batch_size=2))
    written = read_jsonl(out)
    rejected = read_jsonl(out.with_name("out.jsonl.rejects.jsonl"))
    assert summary.read == 11
    assert summary.read == len(written) + len(rejected) == summary.written + summary.rejected
    assert [r["id"] for r in written] == ["a1", "a3", "a4", "one"]
    reasons = {(r["id"], r["reason"].split(":")[0]) for r in rejected}
    assert ("a2", "text") in reasons
    assert ("a1", "duplicate id") in reasons
    assert (None, "not JSON") in reasons and (None, "not UTF-8") in reasons and (None, "not a JSON object but list") in reasons
    assert (None, "input path does not exist") in reasons
    assert all(r["reason"] and "\n" not in r["reason"] for r in rejected)
    texts = {"a1": "미국은 1091억 달러로 1위다.", "a4": "한국은 13억 달러로 11위에 그쳤다."}
    for record in written:
        for ent in record["entities"]:
            if record["id"] in texts:
                assert texts[record["id"]][ent["start"]:ent["end"]] == ent["text"]


def test_resume_cuts_a_partial_line_and_finishes(tiny_model, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": f"r{i}", "text": f"한국은 {i}억 달러로 {i}위다."}, ensure_ascii=False) + "\n"
                           for i in range(12)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run_batch([inp], BatchOptions(output=out, model_path=str(tiny_model), batch_size=4))
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:5]) + lines[5][:17], encoding="utf-8")  # a run killed mid-line
    summary = run_batch([inp], BatchOptions(output=out, model_path=str(tiny_model), batch_size=4, resume=True))
    ids = [r["id"] for r in read_jsonl(out)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(12)) and len(ids) == len(set(ids))
    assert summary.already_done == 5 and summary.written == 7 and summary.balanced


def test_kill_minus_nine_then_resume_loses_and_duplicates_nothing(tiny_model, tmp_path):
    import subprocess
    import sys

    inp = tmp_path / "in.jsonl"
    n = 400
    inp.write_text("".join(json.dumps({"id": f"k{i}", "text": f"미국은 {i}억 달러로 압도적인 선두를 지켰다. " * 3},
                                      ensure_ascii=False) + "\n" for i in range(n)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # --no-claims: what is tested is the journal and resume, not the linker (whose encoder would dominate the time)
    args = [sys.executable, "-m", "pipeline", "extract", str(inp), "-o", str(out), "--model", str(tiny_model),
            "--batch-size", "4", "--no-claims"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and (not out.exists() or out.read_bytes().count(b"\n") < 20):
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = out.read_bytes().count(b"\n")
    assert 0 < before < n, "the run should have been killed mid-batch"
    result = subprocess.run(args + ["--resume"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    ids = [r["id"] for r in read_jsonl(out)]
    assert len(ids) == n and set(ids) == {f"k{i}" for i in range(n)}


def test_full_disk_gives_a_clear_error_and_no_partial_line(tmp_path):
    path = tmp_path / "out.jsonl"
    writer = LineWriter(path)
    writer.write('{"id": "ok"}')
    real_write = writer.handle.write

    def failing_write(data):
        real_write(data[:5])
        raise OSError(28, "No space left on device")

    with mock.patch.object(writer.handle, "write", side_effect=failing_write):
        with pytest.raises(BatchError, match="No space left on device"):
            writer.write('{"id": "lost"}')
    writer.close()
    assert path.read_text() == '{"id": "ok"}\n'


# -- one writer per output ------------------------------------------------------------------------

def test_a_second_run_on_a_locked_output_is_refused_with_the_pid(tiny_model, tmp_path):
    import subprocess
    import sys

    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "text": "한국은 11위다."}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom pipeline.runtime.lock import exclusive_output\n"
         f"with exclusive_output(Path({str(out)!r})):\n    print('locked', flush=True)\n    time.sleep(60)\n"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BatchError, match=f"pid {holder.pid}"):
            run_batch([inp], BatchOptions(output=out, model_path=str(tiny_model)))
        with pytest.raises(BatchError, match="another kfact run"):
            run_batch([inp], BatchOptions(output=out, model_path=str(tiny_model), resume=True))
        assert not out.exists()  # the refused runs wrote nothing
    finally:
        holder.kill()
        holder.wait()
    # the holder died without cleaning up: its lock file is stale and the next run takes it over
    assert (tmp_path / "out.jsonl.lock").exists()
    summary = run_batch([inp], BatchOptions(output=out, model_path=str(tiny_model)))
    assert summary.written == 1 and not (tmp_path / "out.jsonl.lock").exists()


def test_the_vocabulary_does_not_grow_with_the_crawl(tiny_model):
    """Each batch's new words leave the StringStore with its Docs: over millions of articles the process
    would otherwise keep every word it ever saw."""
    import random

    from pipeline.runtime import batch
    from pipeline.schema import Article

    batch.init_worker(str(tiny_model), with_claims=True)
    rng = random.Random(7)

    def articles(n: int) -> list[Article]:
        # made-up words, each new to the vocabulary, in sentences with values for the linker
        words = ["".join(rng.choice("가나다라마바사아자차카타파하") for _ in range(6)) for _ in range(n)]
        return [Article(id=f"a{i}", text=f"{w}전자는 지난해 매출 {i + 3}조 원을 기록했다. {w}의 점유율은 {i % 90}%였다.",
                        published="2025-01-01") for i, w in enumerate(words)]

    batch.process_articles(articles(4))  # warm up: lazily added labels and lexicon strings
    before = len(batch._NLP.vocab.strings)
    records = batch.process_articles(articles(200))
    assert len(records) == 200 and not any(isinstance(r, batch.Reject) for r in records)
    assert len(batch._NLP.vocab.strings) - before < 20  # not the ~600 new words
