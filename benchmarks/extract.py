"""Extraction throughput: our extract phase on Ray vs trafilatura called in a plain loop.

Same pages, same trafilatura settings, same run. Ours includes reading the WARC, the Ray tasks,
markers and Parquet output; the anchor only extracts pre-decoded HTML, with trafilatura's own
parser set-up (ours gives lxml a C-level element lookup, ``curation/extract/html.py``). Goals: overhead < 10% at
1 worker, and 2 workers >= 1.8x one worker.

    python benchmarks/extract.py [--tasks K] [--split-mb M]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_DATA, save, timer  # noqa: E402

from curation.config import parse_config  # noqa: E402
from curation.extract.html import trafilatura_options  # noqa: E402
from curation.io.readers import plan_input_tasks, read_task  # noqa: E402
from curation.pipeline import extract_phase  # noqa: E402
from curation.runtime.context import RunContext  # noqa: E402
from curation.runtime.ray_session import ray_session  # noqa: E402


def crawl_path(tmp: Path, docs: int) -> Path:
    bench = SHARED_DATA / "crawl" / "bench-pages.warc.gz"
    if bench.exists():
        return bench
    from curation.testing import write_sample_crawl

    path = tmp / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=docs, seed=0)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=24, help="how many input tasks (WARC byte ranges) to use")
    parser.add_argument("--split-mb", type=float, default=0.5, help="task size in MB of compressed WARC")
    parser.add_argument("--docs", type=int, default=2000, help="sample-crawl size when ../shared/data is absent")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    path = crawl_path(tmp, args.docs)
    cfg = parse_config({"input": {"paths": [str(path)], "split_bytes": int(args.split_mb * 2**20)},
                        "runtime": {"progress": False}})
    tasks = plan_input_tasks(cfg.input)[: args.tasks]

    pages = []
    for task in tasks:
        raw, _, _ = read_task(task, cfg.input)
        pages += [(c, u) for c, u, k in zip(raw.column("content").to_pylist(), raw.column("url").to_pylist(),
                                            raw.column("content_kind").to_pylist(), strict=True) if k == "html"]
    import trafilatura  # the anchor: trafilatura as installed (lxml.html's element lookup), same settings

    options = trafilatura_options(cfg.extract)
    with timer() as anchor:
        for html, url in pages:
            trafilatura.extract(html, url=url, **options)
    results = {"pages": len(pages), "tasks": len(tasks), "anchor_pages_per_s": len(pages) / anchor["seconds"]}
    for workers in (1, 2):
        run_cfg = cfg.model_copy(update={"runtime": cfg.runtime.model_copy(update={"workers": workers})})
        ctx = RunContext(run_cfg, str(tmp / f"run-{workers}"))
        with ray_session(run_cfg.runtime):
            extract_phase(ctx, tasks)
        phase = ctx.phases[-1]
        results[f"ours_{workers}w_pages_per_s"] = phase.docs_in / phase.wall_seconds
    one, two = results["ours_1w_pages_per_s"], results["ours_2w_pages_per_s"]
    results["overhead_1w"] = results["anchor_pages_per_s"] / one - 1
    results["scaling_2w_over_1w"] = two / one
    print(f"pages: {len(pages)} in {len(tasks)} tasks from {path.name}")
    print(f"trafilatura plain loop : {results['anchor_pages_per_s']:8.1f} pages/s")
    print(f"ours, 1 worker         : {one:8.1f} pages/s  (overhead {results['overhead_1w']:+.1%}, goal < 10%)")
    print(f"ours, 2 workers        : {two:8.1f} pages/s  (scaling {results['scaling_2w_over_1w']:.2f}x, goal >= 1.8x)")
    print(f"results: {save('extract', results)}")


if __name__ == "__main__":
    main()
