"""The real annotation applications, on 127.0.0.1: Label Studio 1.23.2 and doccano 1.8.4.

Each runs from its own virtualenv, which `make annotation-tools` builds in .venv-tools/ (they pin Django,
numpy and marshmallow versions that cannot share kfact's environment). Without it these tests skip, saying
so; with it they start the application, go from `kfact annotate` through the application's own HTTP API to
`kfact import`, and check what comes back.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_kfact

TOOLS = ROOT / ".venv-tools"
SAMPLE = ROOT / "pipeline" / "samples" / "wikinews_sample.jsonl"

pytestmark = pytest.mark.slow


def _tool(name: str, env_var: str) -> Path:
    path = Path(os.environ.get(env_var) or TOOLS / name / "bin" / name)
    if not path.is_file():
        pytest.skip(f"{name} is not installed at {path} (make annotation-tools, or set {env_var})")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    import requests

    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except requests.RequestException:  # not listening yet, or still starting (a slow first answer)
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer in {seconds:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=dict(os.environ, **env), stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def sample_tasks(tmp_path_factory):
    """`kfact annotate` on the bundled sample (12 articles, the shipped model), for both tools."""
    out = tmp_path_factory.mktemp("tasks")
    tasks = {}
    for tool in ("label-studio", "doccano"):
        path = out / f"{tool}.json{'l' if tool == 'doccano' else ''}"
        run = run_kfact("annotate", str(SAMPLE), "-o", str(path), "--format", tool)
        assert run.returncode == 0, run.stderr
        tasks[tool] = path
    return tasks


LS_TOKEN = "kfact0test0token0000000000000000000000"


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    executable = _tool("label-studio", "KFACT_LABEL_STUDIO")
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    # Offline, Label Studio's start-up version check hangs on the network: LATEST_VERSION_CHECK=false.
    # Legacy tokens ("Authorization: Token ...") are off for new organizations unless enabled at start.
    process = _start([str(executable), "start", "--no-browser", "--port", str(port), "--internal-host", "127.0.0.1",
                      "--data-dir", str(data), "--username", "kfact@example.com", "--password", "kfact-test-pass",
                      "--user-token", LS_TOKEN, "--enable-legacy-api-token"],
                     {"LATEST_VERSION_CHECK": "false", "LABEL_STUDIO_BASE_DATA_DIR": str(data)}, data / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/health", process, data / "server.log")
        yield base
    finally:
        _stop(process)


def test_label_studio_from_annotate_to_import(label_studio, sample_tasks, tmp_path):
    import requests

    headers = {"Authorization": f"Token {LS_TOKEN}"}
    tasks_path = sample_tasks["label-studio"]
    config = tasks_path.with_name(tasks_path.name.removesuffix(".json") + ".label_config.xml").read_text(encoding="utf-8")
    project = requests.post(f"{label_studio}/api/projects", headers=headers,
                            json={"title": "kfact", "label_config": config})
    assert project.status_code == 201, project.text  # Label Studio validated our labeling config
    project_id = project.json()["id"]
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    imported = requests.post(f"{label_studio}/api/projects/{project_id}/import", headers=headers, json=tasks)
    assert imported.status_code == 201, imported.text
    assert imported.json()["task_count"] == len(tasks) and imported.json()["prediction_count"] == len(tasks)

    listed = requests.get(f"{label_studio}/api/tasks", headers=headers, params={"project": project_id, "fields": "all"})
    stored = listed.json()["tasks"]
    # The annotator takes the task with the most relations, relabels its first span and submits.
    task = max(stored, key=lambda t: sum(r["type"] == "relation" for r in t["predictions"][0]["result"]))
    result = json.loads(json.dumps(task["predictions"][0]["result"]))
    spans = [r for r in result if r["type"] == "labels"]
    relations = [r for r in result if r["type"] == "relation"]
    assert spans and relations, "the sample's pre-annotations should carry entities and claims"
    relabelled = next(r for r in spans if r["value"]["labels"] != ["ORG"])
    relabelled["value"]["labels"] = ["ORG"]
    submitted = requests.post(f"{label_studio}/api/tasks/{task['id']}/annotations", headers=headers,
                              json={"result": result, "lead_time": 3.0})
    assert submitted.status_code == 201, submitted.text

    # The standard export: annotated tasks only, predictions listed by id.
    export = requests.get(f"{label_studio}/api/projects/{project_id}/export", headers=headers,
                          params={"exportType": "JSON"})
    assert export.status_code == 200
    exported = export.json()
    assert len(exported) == 1 and all(isinstance(p, int) for p in exported[0]["predictions"])
    export_path = tmp_path / "export.json"
    export_path.write_bytes(export.content)
    out = tmp_path / "mine.jsonl"
    run = run_kfact("import", str(export_path), "-o", str(out), "--format", "label-studio", "--split", "train",
                    "--use-predictions")
    assert run.returncode == 0, run.stderr
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(record["entities"]) == len(spans)
    start, end = relabelled["value"]["start"], relabelled["value"]["end"]
    assert {"start": start, "end": end, "label": "ORG"} in [
        {k: e[k] for k in ("start", "end", "label")} for e in record["entities"]]
    assert 0 < len(record["claims"]) <= len(relations)

    # A snapshot with complete predictions: every task comes back, unreviewed ones from their predictions.
    snapshot = requests.post(f"{label_studio}/api/projects/{project_id}/exports", headers=headers,
                             json={"title": "kfact", "serialization_options": {"predictions": {"only_id": False}}})
    assert snapshot.status_code == 201, snapshot.text
    export_id = snapshot.json()["id"]
    for _ in range(60):
        if requests.get(f"{label_studio}/api/projects/{project_id}/exports/{export_id}",
                        headers=headers).json().get("status") == "completed":
            break
        time.sleep(1)
    download = requests.get(f"{label_studio}/api/projects/{project_id}/exports/{export_id}/download",
                            headers=headers, params={"exportType": "JSON"})
    snapshot_path = tmp_path / "snapshot.json"
    snapshot_path.write_bytes(download.content)
    out_all = tmp_path / "all.jsonl"
    run = run_kfact("import", str(snapshot_path), "-o", str(out_all), "--format", "label-studio", "--split", "train",
                    "--use-predictions")
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in out_all.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(tasks)
    reviewed = next(r for r in records if r["id"] == record["id"])
    assert reviewed["entities"] == record["entities"]  # the annotation wins over the prediction


@pytest.fixture(scope="module")
def doccano(tmp_path_factory):
    executable = _tool("doccano", "KFACT_DOCCANO")
    home = tmp_path_factory.mktemp("doccano")
    env = {"DOCCANO_HOME": str(home)}
    for step in (["init"], ["createuser", "--username", "admin", "--password", "kfact-test-pass"]):
        done = subprocess.run([str(executable), *step], env=dict(os.environ, **env), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    # The web server answers the API; imports and exports run as celery tasks in `doccano task`.
    web = _start([str(executable), "webserver", "--port", str(port), "--workers", "1"], env, home / "web.log")
    queue = _start([str(executable), "task", "--concurrency", "1"], env, home / "task.log")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/v1/health/", web, home / "web.log")
        yield base
    finally:
        _stop(web)
        _stop(queue)


def _doccano_task(base: str, headers: dict, task_id: str) -> dict:
    import requests

    for _ in range(120):
        status = requests.get(f"{base}/v1/tasks/status/{task_id}", headers=headers).json()
        if status.get("ready"):
            return status
        time.sleep(1)
    pytest.fail(f"doccano task {task_id} did not finish")


def test_doccano_from_annotate_to_import(doccano, sample_tasks, tmp_path):
    import requests

    login = requests.post(f"{doccano}/v1/auth/login/", json={"username": "admin", "password": "kfact-test-pass"})
    headers = {"Authorization": f"Token {login.json()['key']}"}
    # Relations need use_relation; overlapping spans (a value inside a subject phrase) need allow_overlapping,
    # or doccano drops them on import.
    project = requests.post(f"{doccano}/v1/projects", headers=headers, json={
        "name": "kfact", "description": "kfact", "project_type": "SequenceLabeling",
        "resourcetype": "SequenceLabelingProject", "use_relation": True, "allow_overlapping": True,
        "guideline": "", "tags": []})
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    tasks_path = sample_tasks["doccano"]
    with open(tasks_path, "rb") as handle:
        upload = requests.post(f"{doccano}/v1/fp/process/", headers=headers,
                               files={"filepond": (tasks_path.name, handle, "application/json")})
    assert upload.status_code == 200, upload.text
    # The format is "JSONL" with task "RelationExtraction" (the web page shows it as "JSONL(Relation)").
    started = requests.post(f"{doccano}/v1/projects/{project_id}/upload", headers=headers,
                            json={"format": "JSONL", "uploadIds": [upload.text], "task": "RelationExtraction"})
    status = _doccano_task(doccano, headers, started.json()["task_id"])
    assert status["result"] == {"error": []}, status

    sent = [json.loads(line) for line in tasks_path.read_text(encoding="utf-8").splitlines()]
    examples = requests.get(f"{doccano}/v1/projects/{project_id}/examples", headers=headers,
                            params={"limit": 100}).json()["results"]
    assert len(examples) == len(sent)
    stored_spans = {e["id"]: requests.get(f"{doccano}/v1/projects/{project_id}/examples/{e['id']}/spans",
                                          headers=headers).json() for e in examples}
    assert sum(map(len, stored_spans.values())) == sum(len(t["entities"]) for t in sent)  # none dropped

    # The annotator relabels one span as ORG in the example with the most spans and confirms it.
    span_types = {t["text"]: t["id"] for t in requests.get(f"{doccano}/v1/projects/{project_id}/span-types",
                                                           headers=headers).json()}
    example_id = max(stored_spans, key=lambda k: len(stored_spans[k]))
    target = next(s for s in stored_spans[example_id] if s["label"] != span_types["ORG"])
    patched = requests.patch(f"{doccano}/v1/projects/{project_id}/examples/{example_id}/spans/{target['id']}",
                             headers=headers, json={"label": span_types["ORG"]})
    assert patched.status_code == 200, patched.text
    requests.post(f"{doccano}/v1/projects/{project_id}/examples/{example_id}/states", headers=headers, json={})

    started = requests.post(f"{doccano}/v1/projects/{project_id}/download", headers=headers,
                            json={"format": "JSONL", "exportApproved": False})
    _doccano_task(doccano, headers, started.json()["task_id"])
    download = requests.get(f"{doccano}/v1/projects/{project_id}/download", headers=headers,
                            params={"taskId": started.json()["task_id"]})
    export_path = tmp_path / "doccano.zip"
    export_path.write_bytes(download.content)  # a zip of one JSONL per annotator; kfact import reads it as is
    out = tmp_path / "mine.jsonl"
    run = run_kfact("import", str(export_path), "-o", str(out), "--format", "doccano", "--split", "train")
    assert run.returncode == 0, run.stderr
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    pre = {r["id"]: r for r in map(json.loads, tasks_path.with_name(tasks_path.name + ".records.jsonl")
                                    .read_text(encoding="utf-8").splitlines())}
    assert records.keys() == pre.keys()
    edited_text = next(e["text"] for e in examples if e["id"] == example_id)
    for record_id, record in records.items():
        got = {(e["start"], e["end"], e["label"]) for e in record["entities"]}
        want = {(e["start"], e["end"], e["label"]) for e in pre[record_id]["entities"]}
        if record["text"] == edited_text:
            assert got ^ want == {(target["start_offset"], target["end_offset"], "ORG"),
                                  (target["start_offset"], target["end_offset"],
                                   next(k for k, v in span_types.items() if v == target["label"]))}
        else:
            assert got == want  # everything else comes back unchanged
    assert sum(len(r["claims"]) for r in records.values()) == sum(len(t["relations"]) for t in sent)
