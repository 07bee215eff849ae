"""Cluster use: the `ray up` YAMLs are valid for Ray's launcher, and the `ray submit` entry script runs the pipeline."""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from helpers import ray_head_cluster

ROOT = Path(__file__).parents[1]
ENTRY = ROOT / "scripts" / "submit_entry.py"
CLUSTER_YAMLS = ["configs/cluster.yaml", "configs/cluster-local.yaml"]


@pytest.mark.parametrize("name", CLUSTER_YAMLS)
def test_cluster_yaml_is_what_ray_up_accepts(name):
    config = yaml.safe_load((ROOT / name).read_text())
    for key in ("cluster_name", "provider", "auth", "setup_commands", "head_start_ray_commands",
                "worker_start_ray_commands", "file_mounts"):
        assert key in config, key
    assert config["auth"]["ssh_user"]
    # The checks `ray up` runs before touching any machine: defaults merged, then Ray's JSON schema.
    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    assert prepared["head_node_type"] in prepared["available_node_types"]
    # Every node gets the project and installs it.
    assert config["file_mounts"] == {"~/curation": "."}
    assert any("pip install" in c and "~/curation" in c for c in config["setup_commands"])
    assert any("ray start --head" in c for c in config["head_start_ray_commands"])


def test_cloud_and_local_providers():
    cloud = yaml.safe_load((ROOT / CLUSTER_YAMLS[0]).read_text())
    local = yaml.safe_load((ROOT / CLUSTER_YAMLS[1]).read_text())
    assert cloud["provider"]["type"] == "aws" and cloud["provider"]["region"]
    assert local["provider"]["type"] == "local" and local["provider"]["head_ip"] and local["provider"]["worker_ips"]


def entry(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ENTRY), *args], capture_output=True, text=True, **kwargs)


def test_entry_script_help():
    result = entry("--help")
    assert result.returncode == 0
    for option in ("--config", "--input", "--output", "--address", "--set"):
        assert option in result.stdout


def test_entry_script_runs_curate_run_and_its_errors():
    result = entry("--config", "missing.yaml", "--output", "/tmp/unused")
    assert result.returncode == 2
    assert "config file not found: missing.yaml" in result.stderr
    assert entry().returncode == 2  # --config is required


@pytest.mark.slow
@pytest.mark.ray
def test_entry_script_on_a_real_cluster(tmp_path, monkeypatch):
    """What `ray submit` runs on the head node, against a real `ray start --head` cluster."""
    # The cluster's own auth token: ~/.ray/auth_token is shared with every other Ray on this machine.
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
    docs = tmp_path / "docs.jsonl"
    words = "the data model token train curate web page text quality shard value code".split()
    docs.write_text("".join(
        json.dumps({"id": f"d{i}", "text": " ".join(words[(i + k) % len(words)] for k in range(20 + 7 * i))}) + "\n"
        for i in range(30)
    ))
    out = tmp_path / "run"
    with ray_head_cluster() as cluster:
        result = entry(
            "--config", "configs/quickstart.yaml", "--address", cluster["address"], "--input", str(docs),
            "--output", str(out), "--set", "filters.enabled=false", "--set", "dedup.enabled=false",
            "--set", "mix.enabled=false", "--set", "pack.seq_len=256", "--set", "runtime.progress=false",
            cwd=tmp_path, timeout=600,  # the config is found in the installed project, as from ~ on a head node
        )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["phases"][0]["out"] == 30
    assert list((out / "shards").glob("train-*.parquet"))


def test_storage_options_reach_a_fresh_process_through_fsspec_config():
    """What a Ray worker gets: the FSSPEC_<PROTOCOL> variables the driver puts in the job's runtime_env."""
    import fsspec.config

    from curation.config import load_config
    from curation.io import fs

    cfg = load_config(None, ["storage.options.s3.endpoint_url=http://127.0.0.1:9", "storage.options.s3.use_ssl=false"])
    saved = {p: dict(kw) for p, kw in fsspec.config.conf.items()}
    try:
        env = fs.configure_storage(cfg.storage.options)
        assert fsspec.config.conf["s3"] == {"endpoint_url": "http://127.0.0.1:9", "use_ssl": False}
        code = "import fsspec.config, json; print(json.dumps(fsspec.config.conf.get('s3')))"
        child = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
        assert json.loads(child.stdout) == {"endpoint_url": "http://127.0.0.1:9", "use_ssl": False}
        fs.configure_storage({})  # the next run without options gets fsspec's own defaults back
        assert "s3" not in fsspec.config.conf or fsspec.config.conf["s3"] == saved.get("s3")
    finally:
        fsspec.config.conf.clear()
        fsspec.config.conf.update(saved)


@pytest.mark.parametrize("key", ["secret", "key", "client_kwargs.aws_secret_access_key", "token", "password"])
def test_secrets_in_storage_options_are_refused_without_echoing_them(key):
    from curation.config import ConfigError, load_config

    with pytest.raises(ConfigError) as err:
        load_config(None, [f"storage.options.s3.{key}=hunter2"])
    message = str(err.value)
    assert "\n" not in message and "looks like a secret" in message and "hunter2" not in message


def test_storage_settings_in_a_ray_session_started_elsewhere_are_flagged(ray_local, caplog):
    """Ray already running (started by the caller): its workers' environment is not ours to set, so say so."""
    from curation.config import load_config
    from curation.runtime.ray_session import ray_session

    runtime = load_config(None).runtime
    with caplog.at_level("WARNING", logger="curation.runtime.ray_session"):
        with ray_session(runtime):
            pass
        assert not caplog.records
        with ray_session(runtime, env={"FSSPEC_S3": '{"endpoint_url": "http://127.0.0.1:9"}'}):
            pass
    assert len(caplog.records) == 1 and "FSSPEC_S3" in caplog.records[0].getMessage()
