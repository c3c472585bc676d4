"""Configuration, pipeline definitions and the error hierarchy."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from briefkasten import config
from briefkasten.config import REPO_PIPELINES
from briefkasten.errors import BriefkastenError, ConfigError, InputRejected, LimitExceeded
from briefkasten.pipeline.runner import STEPS, load_pipeline, resolve


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


def test_confirmation_keys_accept_their_old_names(tmp_path: Path) -> None:
    """``broker.receipts_*`` (before "receipt" meant the applicant's receipt only) still work."""
    defaults = config.load(environ={}).broker
    assert defaults.confirmations_exchange == defaults.confirmations_queue == "briefkasten.receipts"
    path = tmp_path / "old.toml"
    path.write_text('[broker]\nreceipts_exchange = "old-x"\nreceipts_queue = "old-q"\n')
    broker = config.load(path, environ={}).broker
    assert (broker.confirmations_exchange, broker.confirmations_queue) == ("old-x", "old-q")
    assert (broker.receipts_exchange, broker.receipts_queue) == ("old-x", "old-q")
    old_env = {"BRIEFKASTEN_BROKER_RECEIPTS_QUEUE": "env-q"}
    assert config.load(path, environ=old_env).broker.confirmations_queue == "env-q"
    path.write_text('[broker]\nreceipts_queue = "old-q"\nconfirmations_queue = "new-q"\n')
    assert config.load(path, environ={}).broker.confirmations_queue == "new-q"
    new_env = {**old_env, "BRIEFKASTEN_BROKER_CONFIRMATIONS_QUEUE": "new-env-q"}
    assert config.load(path, environ=new_env).broker.confirmations_queue == "new-env-q"


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


# --- validated at start (config_checks) -------------------------------------------------------

GOOD_KEY = "0123456789abcdef"


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({"BRIEFKASTEN_API_KEYS": f"tenant:pa:{GOOD_KEY}"}, "too many ':'"),
        ({"BRIEFKASTEN_API_KEYS": "jc-a:k1"}, "at least 16 characters"),
        ({"BRIEFKASTEN_API_KEYS": "k1"}, "at least 16 characters"),
        ({"BRIEFKASTEN_API_KEYS": f"Jc_A:{GOOD_KEY}"}, "not a tenant id"),
        ({"BRIEFKASTEN_API_KEYS": f"jc-a:{GOOD_KEY} x"}, "whitespace"),
        ({"BRIEFKASTEN_LINKS_SECRET": "s" * 31}, "links.secret must have at least 32"),
        ({"BRIEFKASTEN_ADMIN_SECRET": "short"}, "admin.secret must have at least 32"),
        ({"BRIEFKASTEN_PIPELINE_RASTER_DPI": "5000"}, "pipeline.raster_dpi = 5000"),
        ({"BRIEFKASTEN_PIPELINE_RASTER_DPI": "20"}, "at least 50 and at most 1200"),
        ({"BRIEFKASTEN_PIPELINE_JPEG_QUALITY": "0"}, "pipeline.jpeg_quality"),
        ({"BRIEFKASTEN_PIPELINE_SPLIT": "sometimes"}, "pipeline.split must be one of auto"),
        ({"BRIEFKASTEN_PIPELINE_SPLIT_MIN_CONFIDENCE": "1.5"}, "split_min_confidence = 1.5"),
        ({"BRIEFKASTEN_GATEWAY_PORT": "70000"}, "gateway.port"),
        ({"BRIEFKASTEN_BROKER_MAX_ATTEMPTS": "0"}, "broker.max_attempts"),
        ({"BRIEFKASTEN_OCR_TIMEOUT_S": "0"}, "ocr.timeout_s = 0.0: must be greater than 0"),
        ({"BRIEFKASTEN_LIMITS_MAX_FILES": "0"}, "limits.max_files"),
        ({"BRIEFKASTEN_ADMIN_SESSION_TTL_S": "5"}, "admin.session_ttl_s"),
        ({"BRIEFKASTEN_GATEWAY_RATE_LIMIT_PER_IP": "lots"}, "gateway.rate_limit_per_ip"),
        ({"BRIEFKASTEN_ADMIN_LOGIN_RATE_LIMIT_PER_ACCOUNT": "x/y"}, "per_account"),
        ({"BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": "memcached://h:1"}, "redis:// or rediss://"),
        ({"BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": "redis://:SECRET@/0"}, "names no host"),
        ({"BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": "redis://h:SECRETport/0"}, "not a URL"),
        ({"BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": "redis://h:6379/zero"}, "database number"),
        ({"BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": "redis://h/0?ssl=1"}, "no query"),
        ({"BRIEFKASTEN_OCR_LANG": "deu; rm"}, "ocr.lang"),
        ({"BRIEFKASTEN_GATEWAY_ALLOWED_HOSTS": "ok.example, evil/x"}, "allowed_hosts"),
        ({"BRIEFKASTEN_LINKS_DEFAULT_EXPIRY_DAYS": "100"}, "default_expiry_days"),
    ],
)
def test_config_mistakes_are_refused_at_load(environ: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(complaint)) as caught:
        config.load(environ=environ)
    for value in environ.values():
        if "KEY" in value.upper() or "SECRET" in value.upper() or GOOD_KEY in value:
            assert value not in str(caught.value)  # a key or secret is never echoed


def test_a_tenants_own_keys_are_plain_and_long(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[tenants.jc-a]\napi_keys = "jc-b:{GOOD_KEY}"\n')
    with pytest.raises(ConfigError, match=r"\[tenants.jc-a\] api_keys: entry 1 has too many"):
        config.load(path, environ={})
    path.write_text('[tenants.jc-a]\napi_keys = "short"\n')
    with pytest.raises(ConfigError, match="16"):
        config.load(path, environ={})


def test_good_keys_and_secrets_load() -> None:
    settings = config.load(
        environ={
            "BRIEFKASTEN_API_KEYS": f"jc-a:{GOOD_KEY},{GOOD_KEY}x",
            "BRIEFKASTEN_LINKS_SECRET": "s" * 32,
            "BRIEFKASTEN_GATEWAY_ALLOWED_HOSTS": "post.example.de, [::1]:8080,10.0.0.5:443",
            "BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": "rediss://:pw@redis.internal:6380/2",
            "BRIEFKASTEN_PIPELINE_RASTER_DPI": "1200",
        }
    )
    assert settings.api_key_tenants() == {GOOD_KEY: "jc-a", f"{GOOD_KEY}x": "default"}
    assert settings.gateway.allowed_hosts == "post.example.de, [::1]:8080,10.0.0.5:443"


def test_totp_secrets_are_checked_and_required_when_configured(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    good = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

    def load(admin: str, operator: str) -> config.Settings:
        path.write_text(f"[admin]\n{admin}\n[operators.bob]\n{operator}\n")
        return config.load(path, environ={})

    assert load("require_totp = true", f'totp_secret = "{good}"').operators[0].totp_secret == good
    with pytest.raises(ConfigError, match=r"require_totp is on but \[operators.bob\]"):
        load("require_totp = true", 'role = "read"')
    with pytest.raises(ConfigError, match="not base32"):
        load("", 'totp_secret = "not-base-32!"')
    with pytest.raises(ConfigError, match="too short"):
        load("", 'totp_secret = "JBSWY3DP"')
    env = {"BRIEFKASTEN_OPERATORS_BOB_TOTP_SECRET": good}
    path.write_text("[admin]\nrequire_totp = true\n[operators.bob]\n")
    assert config.load(path, environ=env).operators[0].totp_secret == good
