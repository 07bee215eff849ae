"""Entry point of ``ray submit``: run the curation pipeline on the cluster this script runs in.

    ray submit configs/cluster.yaml scripts/submit_entry.py -- \\
        --config configs/quickstart.yaml --input 's3://BUCKET/crawl/*.warc.gz' --output s3://BUCKET/runs/x

``ray submit`` copies this file to the head node and runs it there; the project is installed on
every node by the cluster YAML's setup commands. It runs exactly what ``curate run`` runs (same
config loading, overrides, errors and exit codes), joining the running cluster (``--address auto``)
instead of starting an embedded Ray. Re-submitting the same command resumes an interrupted run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="submit_entry.py",
        description="Run `curate run` on the Ray cluster this script runs in (the target of `ray submit`).",
    )
    parser.add_argument("--config", required=True,
                        help="pipeline config YAML; a relative path is looked up in the working directory, "
                             "then in the project synced to the node (~/curation)")
    parser.add_argument("--input", action="append", default=[], metavar="URI",
                        help="input path/URI/glob (repeatable); replaces input.paths")
    parser.add_argument("--output", help="run folder: a path every node sees, or s3://, gs:// ...")
    parser.add_argument("--address", default="auto",
                        help="Ray address (default: auto, the cluster of this node)")
    parser.add_argument("--workers", type=int, help="concurrent tasks (default: all CPUs of the cluster)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", dest="overrides",
                        help="override a config key (repeatable)")
    return parser.parse_args(argv)


def resolve_config(path: str) -> str:
    """The config as given, else relative to the installed project (``ray submit`` runs from ``~``)."""
    if Path(path).expanduser().exists():
        return str(Path(path).expanduser())
    import curation

    project = Path(curation.__file__).resolve().parents[1]
    candidate = project / path
    return str(candidate) if candidate.exists() else path


def curate_args(args: argparse.Namespace) -> list[str]:
    """The ``curate run`` command line equivalent to this script's arguments."""
    out = ["run", resolve_config(args.config), "--address", args.address]
    for uri in args.input:
        out += ["--input", uri]
    if args.output:
        out += ["--output", args.output]
    if args.workers:
        out += ["--workers", str(args.workers)]
    for assignment in args.overrides:
        out += ["--set", assignment]
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = curate_args(args)
    print("curate " + " ".join(json.dumps(a) if " " in a else a for a in command), flush=True)
    from curation.cli import app

    app(args=command, prog_name="curate")


if __name__ == "__main__":
    main(sys.argv[1:])
