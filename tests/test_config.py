"""Configuration, pipeline definitions and the error hierarchy."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from briefkasten import config
from briefkasten.config import REPO_PIPELINES
from briefkasten.errors import BriefkastenError, ConfigError, InputRejected, LimitExceeded
from briefkasten.pipeline import STEPS, load_pipeline, resolve


def test_defaults_without_file_or_environment() -> None:
    settings = config.load(environ={})
    assert settings.ocr.lang == "deu"
    assert settings.pipeline.name == "default"
    assert settings.worker_count >= 1


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "briefkasten.toml"
    path.write_text('[ocr]\nlang = "deu+eng"\n[limits]\nmax_pages = 7\n')
    settings = config.load(path, environ={"BRIEFKASTEN_LIMITS_MAX_PAGES": "9"})
    assert settings.ocr.lang == "deu+eng"
    assert settings.limits.max_pages == 9


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[pipeline]\nworkers = 3\n")
    assert config.load(environ={"BRIEFKASTEN_CONFIG": str(path)}).pipeline.workers == 3


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        ("[limits]\nmax_pagez = 3\n", {}),
        ("[nope]\n", {}),
        ("limits = 3\n", {}),
        ("", {"BRIEFKASTEN_LIMITS_MAX_PAGES": "many"}),
        ("", {"BRIEFKASTEN_LIMITS_MAX_PAGES": "-1"}),
        ("[ocr\n", {}),
    ],
)
def test_bad_config_is_a_config_error(tmp_path: Path, text: str, environ: dict[str, str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        config.load(path, environ=environ)


def test_example_config_matches_the_defaults() -> None:
    example = REPO_PIPELINES.parent / "config" / "briefkasten.example.toml"
    assert config.load(example, environ={}) == config.load(environ={})


@pytest.mark.parametrize("name", sorted(p.stem for p in REPO_PIPELINES.glob("*.toml")))
def test_every_shipped_pipeline_loads_and_resolves(name: str) -> None:
    pipeline = load_pipeline(name, REPO_PIPELINES)
    assert pipeline.steps
    for step in pipeline.steps:
        assert callable(resolve(step.name))


def test_every_registered_step_resolves() -> None:
    for name in STEPS:
        assert callable(resolve(name))


def test_unknown_step_or_pipeline(tmp_path: Path) -> None:
    (tmp_path / "odd.toml").write_text('[[steps]]\nuse = "magic"\n')
    with pytest.raises(ConfigError, match="unknown step"):
        load_pipeline("odd", tmp_path)
    with pytest.raises(ConfigError, match="unknown pipeline"):
        load_pipeline("missing", tmp_path)
    with pytest.raises(ConfigError):
        load_pipeline("../etc/passwd", tmp_path)


def test_errors_keep_their_source_across_processes() -> None:
    error = LimitExceeded("too many pages", source="scan.pdf")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, LimitExceeded)
    assert copy.source == "scan.pdf"
    assert str(copy) == "scan.pdf: too many pages"


def test_every_error_says_what_it_means_at_each_edge() -> None:
    def walk(cls: type[BriefkastenError]) -> list[type[BriefkastenError]]:
        return [cls, *(c for sub in cls.__subclasses__() for c in walk(sub))]

    for cls in walk(BriefkastenError):
        assert cls.message_de and cls.code
        assert cls.exit_code in (2, 3, 4, 5)
        assert 400 <= cls.http_status < 600
        if issubclass(cls, InputRejected):
            assert cls.exit_code == 3 and not cls.retry and cls.http_status < 500


def test_public_api_all_is_honest() -> None:
    import briefkasten

    for name in briefkasten.__all__:
        assert hasattr(briefkasten, name), name
    public = {n for n in vars(briefkasten) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(briefkasten, n)).__name__ == "module"}
    assert public - modules <= set(briefkasten.__all__)
