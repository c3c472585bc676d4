"""Pages in worker processes: order kept, a pool reused across documents, errors carried back."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from briefkasten import PagePool, ingest
from briefkasten.config import REPO_PIPELINES, Settings
from briefkasten.errors import ToolError
from tests.support import factories


def pages(tmp_path: Path, count: int) -> list[Path]:
    files = []
    for number in range(count):
        path = tmp_path / f"seite-{number}.png"
        factories.text_page((f"Seite {number + 1} von {count}", "Übersicht")).save(path)
        files.append(path)
    return files


def test_a_reused_pool_keeps_page_order_across_documents(
    tmp_path: Path, settings: Settings
) -> None:
    files = pages(tmp_path, 3)
    with PagePool(2) as pool:
        first = ingest(files, tmp_path / "a.pdf", settings=settings, pool=pool, pipeline="ocr-only")
        second = ingest(
            files[::-1], tmp_path / "b.pdf", settings=settings, pool=pool, pipeline="ocr-only"
        )
    assert [p.source for p in first.pages] == [f.name for f in files]
    assert [p.source for p in second.pages] == [f.name for f in files[::-1]]
    assert "Seite 1 von 3" in first.pages[0].text
    assert "Seite 3 von 3" in second.pages[0].text


def test_a_failing_page_in_a_worker_names_its_file_and_writes_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    broken = tmp_path / "pipelines"
    broken.mkdir()
    shutil.copy(REPO_PIPELINES / "ocr-only.toml", broken / "broken.toml")
    text = (broken / "broken.toml").read_text().replace("psm = 3", "psm = 99")
    (broken / "broken.toml").write_text(text)
    settings = dataclasses.replace(
        settings,
        pipeline=dataclasses.replace(settings.pipeline, directory=broken, workers=2),
    )
    out = tmp_path / "out" / "doc.pdf"
    out.parent.mkdir()
    with pytest.raises(ToolError) as caught:
        ingest(pages(tmp_path, 2), out, settings=settings, pipeline="broken")
    assert caught.value.source in {"seite-0.png", "seite-1.png"}
    assert list(out.parent.iterdir()) == []
