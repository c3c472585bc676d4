"""Steps run ``alongside`` (``runner``): a read-only step in a thread started with the OCR,
reading the page as it was at its place, its findings and record joined in its place.

The unit tier: the steps are stand-ins (``runner.resolve`` patched), except where the real
``codes`` step reads a real QR code.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from briefkasten.errors import ConfigError, ProcessingError
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.runner import Options, Pipeline, StepSpec, load_pipeline, run_steps
from tests.support.qrpages import LINK_URL, letter, qr_pixels

REPO_PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def page_of(pixels: np.ndarray) -> Page:
    original = Original(
        name="p.png", path=Path("p.png"), sha256="0" * 64, size=1, media_type="image/png", pages=1
    )
    return Page(ref=PageRef(original, 0, "raster"), image=pixels, dpi=150.0)


def blank() -> Page:
    return page_of(np.full((60, 40, 3), 255, dtype=np.uint8))


def pipeline(*specs: StepSpec) -> Pipeline:
    return Pipeline("t", "1", "", specs)


class Steps:
    """Stand-in steps that log who ran, in which thread, after which steps, on which page."""

    def __init__(self, fail: str = "") -> None:
        self.log: list[tuple[str, str, tuple[str, ...], int]] = []
        self.fail = fail
        self.lock = threading.Lock()
        self.codes_started = threading.Event()
        self.ocr_saw_codes = False

    def resolve(self, name: str) -> Any:
        def step(page: Page, ctx: object) -> Page:
            with self.lock:
                done = tuple(entry[0] for entry in self.log)
                self.log.append((name, threading.current_thread().name, done, int(page.dpi)))
            if name == "codes":
                self.codes_started.set()
            if name == self.fail:
                raise ProcessingError(f"{name} failed")
            if name == "ocr":  # the codes run while the OCR does
                self.ocr_saw_codes = self.codes_started.wait(timeout=10)
            if name == "codes":
                return page.flagged("code_seen").evolve("1 QR code", codes=("payload",))
            return page.evolve(f"{name} done", dpi=page.dpi + 1)  # a new page for each step

        return step

    def entry(self, name: str) -> tuple[str, str, tuple[str, ...], int]:
        return next(e for e in self.log if e[0] == name)


def run(monkeypatch: pytest.MonkeyPatch, steps: Steps, *specs: StepSpec) -> Page:
    monkeypatch.setattr("briefkasten.pipeline.runner.resolve", steps.resolve)
    return run_steps(blank(), pipeline(*specs), Path(), Options())


def test_it_starts_with_the_ocr_on_the_page_at_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = Steps()
    done = run(
        monkeypatch,
        steps,
        StepSpec("exif_orientation", {}),
        StepSpec("codes", {}, alongside=True),
        StepSpec("perspective", {}),
        StepSpec("deskew", {}),
        StepSpec("ocr", {}),
        StepSpec("verify_orientation", {}),
    )
    _, thread, before, dpi = steps.entry("codes")
    assert thread.startswith("alongside")
    assert steps.ocr_saw_codes  # started with the OCR: not before it, not after it
    assert {"exif_orientation", "perspective", "deskew"} <= set(before)
    assert "verify_orientation" not in before
    assert dpi == 151  # the page after exif_orientation, not the one the OCR got (153)
    assert steps.entry("ocr")[1] == threading.current_thread().name
    # Its findings, flags and record join the final page, the record in its place.
    assert done.codes == ("payload",)
    assert done.flags == ("code_seen",)
    assert [r.step for r in done.history] == [
        "exif_orientation",
        "codes",
        "perspective",
        "deskew",
        "ocr",
        "verify_orientation",
    ]
    assert done.history[1].detail == "1 QR code"
    assert done.dpi == 155  # nothing else of the page it read comes back
    assert not [t for t in threading.enumerate() if t.name.startswith("alongside")]


def test_without_an_ocr_after_it_it_runs_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = Steps()
    done = run(
        monkeypatch,
        steps,
        StepSpec("codes", {}, alongside=True),
        StepSpec("deskew", {}),
        StepSpec("codes", {}, alongside=True),
        StepSpec("quality", {}),
    )
    assert [e[0] for e in steps.log] == ["deskew", "quality", "codes", "codes"]
    assert [e[3] for e in steps.log if e[0] == "codes"] == [150, 151]  # each its own page
    assert [r.step for r in done.history] == ["codes", "deskew", "codes", "quality"]
    assert done.codes == ("payload",)


def test_its_error_is_the_runs_error(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = Steps(fail="codes")
    with pytest.raises(ProcessingError, match="codes failed"):
        run(monkeypatch, steps, StepSpec("codes", {}, alongside=True), StepSpec("ocr", {}))
    assert not [t for t in threading.enumerate() if t.name.startswith("alongside")]


def test_a_failing_step_in_line_still_waits_for_the_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = Steps(fail="ocr")
    with pytest.raises(ProcessingError, match="ocr failed"):
        run(monkeypatch, steps, StepSpec("codes", {}, alongside=True), StepSpec("ocr", {}))
    assert not [t for t in threading.enumerate() if t.name.startswith("alongside")]


def test_the_real_codes_step_alongside_finds_what_it_finds_in_line() -> None:
    pixels = letter(qr_pixels(LINK_URL, module=6))
    results = []
    for alongside in (False, True):
        specs = (StepSpec("codes", {}, alongside=alongside), StepSpec("estimate_dpi", {}))
        page = run_steps(page_of(pixels), pipeline(*specs), Path(), Options())
        results.append((page.codes, [r.step for r in page.history], page.history[0].detail))
    assert results[0] == results[1]
    assert results[0] == ((LINK_URL,), ["codes", "estimate_dpi"], "1 QR code")


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "p.toml").write_text(f'name = "p"\n[[steps]]\n{body}\n', encoding="utf-8")
    return tmp_path


def test_only_a_step_that_reads_the_page_may_run_alongside(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot run alongside"):
        load_pipeline("p", write(tmp_path, 'use = "deskew"\nalongside = true'))
    with pytest.raises(ConfigError, match="alongside must be true or false"):
        load_pipeline("p", write(tmp_path, 'use = "codes"\nalongside = "yes"'))
    spec = load_pipeline("p", write(tmp_path, 'use = "codes"\nalongside = true')).steps[0]
    assert spec.alongside and "alongside" not in spec.params


def test_the_default_pipeline_reads_codes_alongside() -> None:
    steps = load_pipeline("default", REPO_PIPELINES).steps
    assert [s.name for s in steps if s.alongside] == ["codes"]
    assert [s.name for s in steps].index("codes") < [s.name for s in steps].index("perspective")
