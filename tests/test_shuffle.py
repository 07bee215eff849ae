"""The runtime's shuffle, phase API, resume listing and memory hints, on real files and real Ray."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curation.config import parse_config
from curation.dedup.phases import run as dedup
from curation.io import fs
from curation.runtime import executor
from curation.runtime.context import RunContext, TaskOutput
from curation.runtime.executor import PHASE_MARKER, Task, run_tasks
from curation.runtime.shuffle import partition_of, read_partition, write_partitioned
from tests.test_dedup_data import write_parts
from tests.test_dedup_phases import near_duplicate_corpus


def test_one_file_per_map_task_and_each_partition_read_back_in_map_order(tmp_path):
    rng = np.random.default_rng(0)
    paths, tables, keys = [], [], []
    for m in range(3):
        n = [50, 0, 7][m]  # an empty map output too
        keys.append(rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False))
        tables.append(pa.table({"k": pa.array(keys[-1]), "row": pa.array(np.arange(n) + 1000 * m)}))
        paths.append(str(tmp_path / f"shuffle-{m}.arrow"))
        write_partitioned(tables[-1], keys[-1], 16, paths[-1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shuffle-0.arrow", "shuffle-1.arrow", "shuffle-2.arrow"]
    for p in range(16):
        got = read_partition(paths, p)
        want = [t.filter(pa.array(partition_of(k, 16) == p)) for t, k in zip(tables, keys)]
        assert got.schema.names == ["k", "row"]
        assert got.column("row").to_pylist() == pa.concat_tables(want).column("row").to_pylist()


def square_rows(path: str, index: int) -> TaskOutput:
    t = fs.read_parquet(path)
    v = t.column("v").to_numpy()
    return TaskOutput(shuffle=(pa.table({"v": v}), (v * np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)),
                      counters={"in": t.num_rows})


def sum_partition(rows: pa.Table, partition: int) -> TaskOutput:
    total = int(np.sum(rows.column("v").to_numpy())) if rows.num_rows else 0
    return TaskOutput(files={"sum": pa.table({"total": [total]})}, counters={"rows": rows.num_rows})


def test_map_and_reduce_phases_run_declared_functions_and_resume_from_one_marker(tmp_path):
    inputs = []
    for i in range(5):
        inputs.append(str(tmp_path / f"part-{i:02d}.parquet"))
        fs.write_parquet(pa.table({"v": pa.array(np.arange(i * 10, i * 10 + 10), pa.uint64())}), inputs[-1])
    ctx = RunContext(parse_config({}), str(tmp_path / "run"))
    mapped = ctx.map("square", inputs, square_rows, "s", partitions=3)
    summed = ctx.reduce("sum", mapped.shuffled, sum_partition, "s")
    totals = [fs.read_parquet(p).column("total")[0].as_py() for p in summed.files("sum")]
    assert sum(totals) == sum(range(50)) and summed.total("rows") == 50 and len(totals) == 3
    for phase in (mapped, summed):  # outputs, one shuffle or result file per task, one marker
        names = sorted(p.name for p in Path(phase.work_dir).rglob("*") if p.is_file())
        assert len(names) == len(phase.task_ids) + 1 and PHASE_MARKER in names
    again = RunContext(parse_config({}), str(tmp_path / "run"))
    again.map("square", inputs, square_rows, "s", partitions=3)
    assert [p.resumed for p in again.phases] == [5]


def count_or_fail(i: int, fail: bool = False) -> dict:
    if fail:
        raise ValueError("stop here")
    return {"in": i}


def test_resume_lists_the_marker_folder_once(tmp_path, monkeypatch):
    tasks = [Task(f"t{i}", count_or_fail, {"i": i}) for i in range(20)]
    markers = str(tmp_path / "_done")
    with pytest.raises(executor.TaskFailed):  # the phase stops after 12 tasks: their markers stay
        run_tasks("p", [*tasks[:12], Task("t12", count_or_fail, {"i": 12, "fail": True})], markers)
    assert len(list((tmp_path / "_done").iterdir())) == 12
    calls = {"listdir": 0, "exists": 0}
    for name in calls:
        real = getattr(fs, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(fs, name, counted)
    results = run_tasks("p", tasks, markers)
    assert [bool(r.get("resumed")) for r in results] == [True] * 12 + [False] * 8
    assert calls == {"exists": 0, "listdir": 2}  # one listing to resume, one to fold the markers
    assert sorted(p.name for p in (tmp_path / "_done").iterdir()) == [PHASE_MARKER]
    assert [r["in"] for r in run_tasks("p", tasks, markers)] == list(range(20))  # from the phase marker


def digests(run_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run_dir.rglob("part-*.parquet"))}


def test_dedup_outputs_do_not_depend_on_partitions_and_files_grow_with_tasks(tmp_path):
    docs = near_duplicate_corpus(seed=6, bases=10)
    docs["url"] = [f"http://site/{i % 25}" for i in range(len(docs["id"]))]
    parts = write_parts(tmp_path, docs, 6)
    out = {}
    for partitions in (1, 5):
        cfg = parse_config({"runtime": {"shuffle_partitions": partitions}, "dedup": {"lines": {"bucket_docs": 20}}})
        ctx = RunContext(cfg, str(tmp_path / f"p{partitions}"))
        kept = dedup(ctx, parts)
        out[partitions] = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in kept]
        for record in ctx.phases:
            files = [p for p in Path(record.work_dir).rglob("*") if p.is_file()]
            assert len(files) <= 2 * record.tasks + 1, (record.name, len(files))
    assert out[1] == out[5]


def report_memory() -> dict:
    import ray

    return {"memory": ray.get_runtime_context().get_assigned_resources().get("memory", 0)}


@pytest.mark.ray
def test_tasks_reserve_their_memory_hint_capped_at_the_largest_node(tmp_path, ray_local):
    import ray

    largest = max(n["Resources"]["memory"] for n in ray.nodes() if n["Alive"])
    small = run_tasks("m", [Task("a", report_memory)], str(tmp_path / "a"), memory=300 * 2**20)
    assert small[0]["memory"] == 300 * 2**20
    huge = run_tasks("m", [Task("b", report_memory)], str(tmp_path / "b"), memory=int(largest * 4))
    assert huge[0]["memory"] == pytest.approx(largest, rel=1e-6)
