"""The admin's sessions shared by several gateways, on S3 storage (SeaweedFS): the tests of
tests/unit/test_admin_security.py that take a ``kind`` of storage, run with ``s3``.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_admin_security.py``,
``tests/e2e/test_admin_security.py``.
"""

from __future__ import annotations

import pytest

from tests.unit.test_admin_security import (  # noqa: F401  (run here on S3)
    test_logout_on_one_gateway_ends_the_session_on_the_other,
    test_totp_is_required_once_configured_and_each_code_works_once,
)


@pytest.fixture(params=["s3"])
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value
