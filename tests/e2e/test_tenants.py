"""Several job centers in one deployment: per-tenant configuration and isolation.

Tenant ``jc-a`` has its own catalogue (with a type of its own), labels and pipeline; ``jc-b``
uses the global ones but publishes under its own routing-key prefix ``jcb``. Each has its API
keys in its ``[tenants.<id>]`` table (``jc-b``'s also from the environment). Everything runs on
loopback: the gateway in-process, RabbitMQ in a vhost of this run's own.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_tenants.py``, ``tests/integration/test_tenants.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from briefkasten.errors import ConfigError
from tests.conftest import CliResult
from tests.unit.test_tenants import (
    TOML,
)


def test_an_unknown_tenant_pipeline_stops_serve_and_worker(
    tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    path = tmp_path / "briefkasten.toml"
    path.write_text(TOML.replace('"precheck"', '"no-such-pipeline"'), encoding="utf-8")
    env = {"BRIEFKASTEN_CONFIG": str(path), "PATH": "/usr/bin:/bin"}
    for command in (["worker", "--idle-timeout", "1"], ["serve", "--port", "1"]):
        result = cli(*command, env=env)
        assert result.returncode == ConfigError.exit_code, result.stderr
        assert "no-such-pipeline" in result.stderr
