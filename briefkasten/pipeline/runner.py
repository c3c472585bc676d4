"""The pipeline runner: loads a definition from ``pipelines/*.toml`` and runs its steps on a page.

Every step has one signature, ``step(page: Page, ctx: StepContext) -> Page``: synchronous,
pure (no globals, intermediate files only under ``ctx.workdir``) and picklable, so a process
pool can run whole pages. Born-digital PDF pages (``kind == "vector"``) pass every step
untouched. The runner times each step and records what it did on the page.

A step that only *reads* the page (``ANNOTATIONS``: ``codes``) may be declared with
``alongside = true``: it reads the page as it is at its place in the definition, but in a
thread started with the next ``ONE_CORE_STEPS`` step (the OCR: Tesseract reads on one core,
while OpenCV's steps before it already use every core the page child has); its findings (the
fields ``ANNOTATIONS`` names), flags and history record, in its place, join the page after the
last step. zxing-cpp releases the GIL, so the codes of a 12-MP photo (~40 ms) cost no wall time
where the page child has a second core.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefkasten.errors import ConfigError
from briefkasten.model import Page, StepRecord

Step = Callable[[Page, "StepContext"], Page]

#: Step name in a pipeline definition → ``module:function`` below ``briefkasten.pipeline``.
STEPS: Mapping[str, str] = {
    "exif_orientation": "images:apply_exif_orientation",
    "codes": "codes:codes",
    "perspective": "geometry:correct_perspective",
    "deskew": "geometry:deskew",
    "orientation": "orientation:orient",
    "dewarp": "dewarp:dewarp",
    "estimate_dpi": "images:estimate_dpi",
    "quality": "quality:assess",
    "ocr": "ocr:ocr",
    "verify_orientation": "orientation:verify",
}
#: Steps that only read the page, and the fields of ``Page`` their result contributes (its
#: flags too): the ones a definition may run ``alongside`` the steps after them.
ANNOTATIONS: Mapping[str, tuple[str, ...]] = {"codes": ("codes",)}
#: Steps that keep one core busy and leave the others idle: ``alongside`` steps start with them.
ONE_CORE_STEPS = frozenset({"ocr"})
#: The modules the steps live in: preloaded by the sandbox's fork server (``sandbox.PRELOAD``),
#: so a page child does not import them on its first step (~30 ms per page).
STEP_MODULES: tuple[str, ...] = tuple(
    sorted({f"briefkasten.pipeline.{target.partition(':')[0]}" for target in STEPS.values()})
)
#: Every step name a page's history can carry (the ``step`` label of
#: ``briefkasten_stage_seconds``): the definable ``STEPS`` and those the builder records itself
#: (``images.decode``; ``document``: sanitize, bundle; the runner: born_digital).
RECORDED_STEPS: tuple[str, ...] = ("decode", "sanitize", "born_digital", *STEPS, "bundle")


@dataclass(frozen=True)
class Options:
    """What steps need from the settings, made explicit (see ``options_from``)."""

    lang: str = "deu"
    #: The languages the OCR may choose beyond ``lang`` (``ocr.languages``, Tesseract codes);
    #: empty: ``lang`` only, no language detection.
    languages: tuple[str, ...] = ()
    ocr_timeout: float = 300.0
    jpeg_quality: int = 90
    #: Pixels a rendered PDF page may have (``limits.max_render_pixels``).
    max_render_pixels: int = 36_000_000
    #: Born-digital pages over these limits are rasterised (``limits.*`` in the settings).
    max_pixels: int = 80_000_000
    max_stream_bytes: int = 32 * 1024 * 1024
    max_page_stream_bytes: int = 128 * 1024 * 1024


@dataclass(frozen=True)
class StepContext:
    """A step's view of the world: its parameters, the options and a private work directory."""

    workdir: Path
    options: Options
    params: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str, default: Any) -> Any:
        return self.params.get(name, default)


@dataclass(frozen=True)
class StepSpec:
    name: str
    params: Mapping[str, Any]
    #: Run in a thread beside the steps after it (``ANNOTATIONS`` steps only).
    alongside: bool = False


@dataclass(frozen=True)
class Pipeline:
    """A parsed pipeline definition: an ordered list of steps with parameters."""

    name: str
    version: str
    description: str
    steps: tuple[StepSpec, ...]


def load_pipeline(name: str, directory: Path) -> Pipeline:
    """Read ``directory/name.toml`` and check that every step it names exists."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"invalid pipeline name {name!r}")
    path = directory / f"{name}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        known = ", ".join(sorted(p.stem for p in directory.glob("*.toml"))) or "none"
        raise ConfigError(f"unknown pipeline {name!r} (known: {known})") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read pipeline {path}: {exc}") from exc
    steps = []
    for entry in data.get("steps", []):
        step_name = entry.get("use")
        if step_name not in STEPS:
            raise ConfigError(f"pipeline {name!r}: unknown step {step_name!r}")
        params = {k: v for k, v in entry.items() if k not in ("use", "alongside")}
        alongside = entry.get("alongside", False)
        if not isinstance(alongside, bool):
            raise ConfigError(f"pipeline {name!r}: {step_name!r}: alongside must be true or false")
        if alongside and step_name not in ANNOTATIONS:
            only = ", ".join(ANNOTATIONS)
            raise ConfigError(
                f"pipeline {name!r}: step {step_name!r} cannot run alongside (only {only} can)"
            )
        steps.append(StepSpec(step_name, params, alongside))
    return Pipeline(
        name=data.get("name", name),
        version=str(data.get("version", "1")),
        description=data.get("description", ""),
        steps=tuple(steps),
    )


def check_pipelines(names: Iterable[str], directory: Path) -> None:
    """Load each named definition once: ``ConfigError`` at startup, not on the first job, if a
    (tenant's) pipeline is unknown or invalid."""
    for name in sorted(set(names)):
        load_pipeline(name, directory)


def resolve(step_name: str) -> Step:
    module_name, _, attr = STEPS[step_name].partition(":")
    module = importlib.import_module(f"briefkasten.pipeline.{module_name}")
    step: Step = getattr(module, attr)
    return step


def run_steps(
    page: Page,
    pipeline: Pipeline,
    workdir: Path,
    options: Options,
    before_step: Callable[[str, Page], None] | None = None,
) -> Page:
    """Run every step of ``pipeline`` on ``page`` in order, recording detail and time;
    ``before_step(name, page)`` is told of each step before it runs (an ``alongside`` step:
    at its place in the definition)."""
    if page.kind == "vector":
        return page.evolve(
            history=(*page.history, StepRecord("born_digital", "page kept unchanged", 0.0))
        )
    with _Alongside() as alongside:
        for spec in pipeline.steps:
            if before_step is not None:
                before_step(spec.name, page)
            ctx = StepContext(workdir=workdir, options=options, params=spec.params)
            if spec.alongside:
                alongside.add(spec.name, page, ctx)
                continue
            if spec.name in ONE_CORE_STEPS:
                alongside.start()
            page = _run_step(spec.name, page, ctx)
        return alongside.join(page)


def _run_step(name: str, page: Page, ctx: StepContext) -> Page:
    """``page`` after step ``name``, with its record appended to the history."""
    started = time.perf_counter()
    result = resolve(name)(page, ctx)
    elapsed = (time.perf_counter() - started) * 1000
    record = StepRecord(name, result.detail or "unchanged", elapsed)
    return result.evolve(history=(*result.history, record))


class _Alongside:
    """The ``alongside`` steps of one run: started in a thread, joined into the final page."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._waiting: list[tuple[str, Page, StepContext]] = []
        self._started: list[tuple[str, Page, Future[Page]]] = []

    def __enter__(self) -> _Alongside:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:  # after a failed step too: no thread outlives the run
            self._executor.shutdown(wait=True, cancel_futures=True)

    def add(self, name: str, page: Page, ctx: StepContext) -> None:
        """Step ``name`` on ``page`` as it is now, to be started with ``start``."""
        self._waiting.append((name, page, ctx))

    def start(self) -> None:
        """Start the steps added so far in the thread."""
        if not self._waiting:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="alongside")
        for name, page, ctx in self._waiting:
            self._started.append((name, page, self._executor.submit(_run_step, name, page, ctx)))
        self._waiting.clear()

    def join(self, page: Page) -> Page:
        """``page`` with each step's findings, flags and record (in its place); a step not
        started yet runs now."""
        self.start()
        for joined, (name, before, future) in enumerate(self._started):
            found = future.result()  # a step's error is the run's, as if it ran in line
            fields = {f: getattr(found, f) for f in ANNOTATIONS[name]}
            flags = tuple(f for f in found.flags if f not in before.flags)
            at = len(before.history) + joined  # the records of the ones joined before it
            history = (*page.history[:at], found.history[-1], *page.history[at:])
            page = dataclasses.replace(page.flagged(*flags), history=history, **fields)
        self._started.clear()
        return page
