"""Admin security: logout seen by every gateway, the TOTP second factor, per-account limits.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_admin_security.py``, ``tests/integration/test_admin_security.py``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pyotp

from briefkasten import config
from tests.conftest import CliResult


def test_totp_secret_command_prints_a_usable_secret(tmp_path: Path, cli: Any) -> None:
    png = tmp_path / "qr.png"
    done: CliResult = cli("operator", "totp-secret", "--name", "tina", "--qr-png", png)
    assert done.returncode == 0, done.stderr
    first, uri = done.stdout.strip().splitlines()
    secret = first.removeprefix("totp_secret = ")
    assert uri == pyotp.TOTP(secret).provisioning_uri(name="tina", issuer_name="Briefkasten")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    toml = tmp_path / "c.toml"
    toml.write_text(f'[admin]\nrequire_totp = true\n[operators.tina]\ntotp_secret = "{secret}"\n')
    assert config.load(toml, environ={}).operators[0].totp_secret == secret


def test_require_totp_refuses_to_start_without_a_secret(tmp_path: Path, cli: Any) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text("[admin]\nrequire_totp = true\n[operators.bob]\nrole = 'read'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    done: CliResult = cli("--config", toml, "serve", "--port", "1", env=env)
    assert done.returncode == 2
    assert "require_totp is on but [operators.bob] totp_secret is not set" in done.stderr
