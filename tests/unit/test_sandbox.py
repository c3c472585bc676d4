"""The sandbox: children with hard limits; every way a child can end becomes a clear error.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_sandbox.py``.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from briefkasten.config import Settings
from briefkasten.errors import (
    ChildDied,
    CorruptInput,
    ProcessingError,
    TemporaryFailure,
    TooComplex,
)
from briefkasten.gateway import checks as gateway_checks
from briefkasten.gateway.checks import UploadChecks
from briefkasten.pipeline import sandbox as sandbox_module
from briefkasten.pipeline.runner import STEP_MODULES, STEPS
from briefkasten.pipeline.sandbox import Bounds, CpuBudget, Sandbox, cores_per_slot
from tests.support import sandbox_targets as targets
from tests.support.env import wait_for
from tests.support.processes import sandbox_children

TIGHT = Bounds(memory_mb=1024, cpu_s=2, wall_s=30)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(2, TIGHT)


def test_a_child_runs_in_its_own_process_with_its_limits(sandbox: Sandbox) -> None:
    assert sandbox.run(targets.pid) != os.getpid()
    memory, cpu, core = sandbox.run(targets.limits)
    assert memory == 1024 * 1024 * 1024
    assert cpu == 2
    assert core == 0


def test_numerical_libraries_in_a_child_use_one_thread(sandbox: Sandbox) -> None:
    """Pages run side by side; a BLAS thread per core in each would fight over the cores."""
    assert set(sandbox.run(targets.thread_settings).values()) == {"1"}


def test_threads_of_a_child_share_few_malloc_arenas(sandbox: Sandbox) -> None:
    """Without the arena cap, 16 allocating threads reserve ~60 MiB of address space each
    (measured in a child: +1,024 MiB, +129 MiB with the cap): a page child on a big machine
    would run into its RLIMIT_AS."""
    assert sandbox.run(targets.arena_setting) == "2"
    assert sandbox.run(targets.address_space_of_threads, 16) < 400


def test_a_child_starts_with_every_pipeline_step_imported(sandbox: Sandbox) -> None:
    """The fork server imports the steps once; a page child does not import them again."""
    assert set(STEP_MODULES) == {
        f"briefkasten.pipeline.{target.partition(':')[0]}" for target in STEPS.values()
    }
    assert sandbox.run(targets.imported, list(STEP_MODULES)) == list(STEP_MODULES)


def test_memory_beyond_the_limit_is_too_complex_and_the_next_call_works(
    sandbox: Sandbox,
) -> None:
    with pytest.raises(TooComplex, match="MiB of memory"):
        sandbox.run(targets.allocate, 2048)
    assert sandbox.run(targets.allocate, 8) == 8 * 1024 * 1024


def test_a_child_that_overruns_its_wall_time_is_killed(sandbox: Sandbox) -> None:
    before = sandbox_children()
    with pytest.raises(TooComplex, match="longer than"):
        sandbox.run(targets.sleep, 60, bounds=Bounds(memory_mb=1024, cpu_s=2, wall_s=1))
    assert sandbox_children() <= before  # nothing left running


def test_a_child_that_answered_frees_its_slot_before_it_has_exited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer is what counts: with one slot, the next call runs while the first child is
    still exiting (here: lingering on purpose)."""
    monkeypatch.setattr(sandbox_module, "_EXIT_GRACE", 60.0)
    one_slot = Sandbox(1, TIGHT)
    pid = one_slot.run(targets.answer_then_linger, 60)
    try:
        assert one_slot.run(len, "abc") == 3
        assert pid in sandbox_children()  # the first child has not exited yet
    finally:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid not in sandbox_children(), "the lingering child gone", 20, poll=0.05)


def test_a_child_that_answered_but_lingers_is_killed_in_the_background(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "_EXIT_GRACE", 0.5)
    pid = sandbox.run(targets.answer_then_linger, 60)
    assert pid != os.getpid()
    wait_for(lambda: pid not in sandbox_children(), "the lingering child killed", 20, poll=0.05)


def test_a_child_killed_from_outside_is_retryable_not_the_files_fault(sandbox: Sandbox) -> None:
    with pytest.raises(ChildDied) as caught:
        sandbox.run(targets.kill_myself)
    assert caught.value.retry
    assert isinstance(caught.value, ProcessingError)
    assert sandbox.run(targets.pid) > 0  # a new child for the next call


def test_a_native_crash_is_the_files_fault(sandbox: Sandbox) -> None:
    with pytest.raises(TooComplex, match="SIGSEGV"):
        sandbox.run(targets.kill_myself, signal.SIGSEGV)


def test_errors_cross_the_boundary_typed_and_bugs_by_type_only(sandbox: Sandbox) -> None:
    with pytest.raises(CorruptInput, match="refused in the child"):
        sandbox.run(targets.refuse)
    with pytest.raises(ProcessingError) as caught:
        sandbox.run(targets.crash_with_a_bug)
    assert "KeyError" in str(caught.value)
    assert "secret-file-name" not in str(caught.value)  # no message (it may hold a file name)


def test_at_most_slots_children_run_at_once(tmp_path: Path) -> None:
    """At work at once: at most ``slots`` (children that answered may still be exiting)."""
    sandbox = Sandbox(2, TIGHT)
    threads = [
        threading.Thread(target=sandbox.run, args=(targets.busy, str(tmp_path), 0.3))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    peak = 0
    for _ in range(2000):  # sample the children at work while six calls share two slots
        if not any(t.is_alive() for t in threads):
            break
        peak = max(peak, len(list(tmp_path.iterdir())))
        threading.Event().wait(0.005)
    for thread in threads:
        thread.join(30)
    assert 1 <= peak <= 2


def test_map_keeps_order_and_raises_the_first_error(sandbox: Sandbox) -> None:
    assert sandbox.map(targets.allocate, [1, 2, 3]) == tuple(n * 1024 * 1024 for n in (1, 2, 3))
    with pytest.raises(TooComplex):
        sandbox.map(targets.allocate, [1, 4096, 2])


def test_the_probe_says_children_start(sandbox: Sandbox) -> None:
    ok, detail = sandbox.probe()
    assert ok, detail


def test_children_report_what_they_used(sandbox: Sandbox) -> None:
    budget = CpuBudget(100)
    sandbox.map(targets.allocate, [64, 64], budget=budget)
    assert 0 < budget.spent < 100


def test_the_gateway_answers_a_killed_check_with_a_temporary_failure(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    checks = UploadChecks(settings)
    upload = tmp_path / "upload.png"
    upload.write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.setattr(gateway_checks, "sniff", targets.killed_while_checking)
    monkeypatch.setattr(gateway_checks, "check_upload", targets.killed_while_checking)
    with pytest.raises(TemporaryFailure) as caught:
        checks.sniff(upload)
    assert caught.value.http_status == 503  # try again: not the file's fault
    with pytest.raises(TemporaryFailure):
        checks.precheck(upload)
    assert checks.probe()[0]  # the next child starts as usual


def test_an_unexpected_parser_error_is_a_clean_refusal_at_the_gateway(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.pdf"
    upload.write_bytes(b"%PDF-1.7\n")
    monkeypatch.setattr(gateway_checks, "sniff", targets.library_bug)
    with pytest.raises(CorruptInput) as caught:
        UploadChecks(settings).sniff(upload)
    assert caught.value.http_status == 422


def test_each_child_gets_its_share_of_the_cores_for_opencv() -> None:
    cores = len(os.sched_getaffinity(0))
    assert Sandbox(cores).run(targets.opencv_threads) == 1
    assert Sandbox(1).run(targets.opencv_threads) == cores
    assert Sandbox(1).run(targets.opencv_threads, bounds=Bounds(threads=1)) == 1
    assert cores_per_slot(2 * cores) == 1
