import pytest

from curation.config import ConfigError, PipelineConfig, dump_config, load_config, parse_config


def test_defaults_validate_and_round_trip(tmp_path):
    cfg = parse_config({})
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


def test_set_overrides_keep_types():
    cfg = parse_config({}, ["runtime.workers=2", "extract.backend=resiliparse", "input.paths=[a, b]"])
    assert cfg.runtime.workers == 2
    assert cfg.extract.backend == "resiliparse"
    assert cfg.input.paths == ["a", "b"]


@pytest.mark.parametrize(
    ("data", "overrides", "message"),
    [
        ({"extract": {"bogus": 1}}, [], "unknown config key 'extract.bogus'"),
        ({"nope": {}}, [], "unknown config key 'nope'"),
        ({}, ["extract.timeout_s=abc"], "config key 'extract.timeout_s'"),
        ({}, ["extract.backend=lynx"], "config key 'extract.backend'"),
        ({}, ["runtime.workers"], "--set expects key.path=value"),
    ],
)
def test_bad_config_is_one_clear_error(data, overrides, message):
    with pytest.raises(ConfigError) as err:
        parse_config(data, overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_shipped_configs_validate():
    from pathlib import Path

    configs = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
    assert configs
    for path in configs:
        if path.name.startswith("cluster"):  # `ray up` files, not pipeline configs
            continue
        assert isinstance(load_config(path), PipelineConfig)
