"""tus uploads shared by two gateways through a real S3 (SeaweedFS): the tests of
``tests/unit/test_tus_objects.py`` with their ``tus_storage`` fixture on a fresh bucket."""

from __future__ import annotations

import pytest

from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support.servers import s3_server_fixture, s3_url_fixture  # noqa: F401  (fixtures)
from tests.unit.test_tus_objects import (  # noqa: F401  (run here on S3)
    pair,
    test_a_cut_upload_resumes_through_the_other_gateway,
    test_a_part_changed_in_storage_is_detected_when_assembling,
    test_a_submission_on_the_other_gateway_uses_the_upload_up,
    test_an_upload_made_on_one_gateway_is_read_and_assembled_on_the_other,
    test_expiry_removes_objects_and_stray_staging_files,
    test_termination_on_one_gateway_removes_every_object,
    test_two_gateways_writing_the_same_offset_at_once_give_one_right_file,
)


@pytest.fixture
def tus_storage(s3_url: str) -> Storage:
    storage = open_storage(s3_url)
    storage.check()  # creates the bucket
    return storage
