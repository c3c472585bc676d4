"""The one home of untrusted bytes: every decode, render, text extraction and deep sniff runs here.

``Sandbox.run(fn, *args)`` runs ``fn(*args)`` in a fresh child process with hard limits and
returns its result (or raises the error it raised). Each call gets a process of its own, forked
from a fork server that has the pipeline's modules (OpenCV, PDFium, Pillow) imported already, so
a call costs a fork, not an import. Per child:

* ``RLIMIT_AS`` (``memory_mb``): an allocation beyond it fails inside the child, never in the
  caller; the child's memory is gone with it when it exits (nothing to give back).
* ``RLIMIT_CPU`` (``cpu_s``): the kernel stops a child that computes too long (``SIGXCPU``).
* a wall-clock timeout (``wall_s``): a child that is still running then is killed.
* no core dumps; at most ``slots`` children at work at once per sandbox (callers wait for a
  slot). A child frees its slot when its answer is in; its exit is awaited in the background
  (killed if it takes longer than ``_EXIT_GRACE``), which saves each call the ~10 ms a child
  with the pipeline's libraries mapped needs to exit. A child that answered but lingers is
  therefore beside the slots for at most ``_EXIT_GRACE``, still within its own limits.

What becomes of a child's end, whatever ``fn`` is:

* returned → the result; raised a ``BriefkastenError`` → that error, re-raised here;
* out of memory, CPU time or wall time, or killed by a signal of its own making (``SIGSEGV``,
  ``SIGABRT`` from a native decoder that failed to allocate) → ``TooComplex``: the file, not the
  service, is the problem;
* killed from outside (``SIGKILL``, e.g. the kernel's OOM killer or an operator) or gone without
  an answer → ``ChildDied``, a ``ProcessingError`` that is retried: the same file may well pass
  next time.

A ``CpuBudget`` bounds what a whole submission may cost: each child reports the CPU seconds it
used (OCR included: Tesseract runs inside the child), each new child's CPU limit is at most what
is left, and once the budget is spent the next call is refused as ``TooComplex`` before a child
starts.

Why not ``concurrent.futures.ProcessPoolExecutor``: one dead worker breaks the whole executor
(``BrokenProcessPool`` for every later call) and a worker that overruns cannot be killed alone.
A process per call has neither problem, and a dead child is recreated simply by the next call.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from briefkasten.config import SandboxSettings
from briefkasten.errors import BriefkastenError, ChildDied, ProcessingError, TooComplex
from briefkasten.pipeline.runner import STEP_MODULES

T = TypeVar("T")
#: Pages run side by side, one per slot: numerical libraries in a child get one thread each
#: (OpenBLAS's default of one thread per core made a small least-squares solve in ``dewarp``
#: several times slower while the other slot was busy). Set here, before the fork server
#: starts, because these libraries read them once when they load; an operator's own value wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
#: glibc gives each thread that allocates while another does an arena of its own, up to eight
#: per core, each reserving 64 MiB of address space: under a child's ``RLIMIT_AS`` the OpenCV
#: threads of one page on a many-core machine (``cores_per_slot``) would use up the limit
#: without using the memory (16 allocating threads in a child: +1,024 MiB of address space
#: with 64 arenas, +129 MiB with two). Read by glibc when a process starts: the fork server
#: and its children.
os.environ.setdefault("MALLOC_ARENA_MAX", "2")
MIB = 1024 * 1024
#: Modules the fork server imports once, so that each child starts warm: the pipeline with
#: Tesseract's models (``warm``), and the
#: edges' modules too, because multiprocessing prepares every child by running the parent's main
#: script again (``briefkasten serve``, a bench or a deployment's own script that imports the
#: gateway, aiohttp, pika, minio …). Imported here already, that re-run is a few dictionary
#: lookups instead of about half a second of imports per child.
PRELOAD = [
    "briefkasten.cli",
    "briefkasten.gateway.app",
    "briefkasten.worker",
    "briefkasten.pipeline.document",
    "briefkasten.pipeline.precheck",
    "briefkasten.pipeline.warm",  # Tesseract's models, loaded once: children inherit them
    *STEP_MODULES,  # the pipeline's steps, imported lazily by the runner otherwise
]
#: Seconds a finished child may take to exit after it answered, before it is killed.
_EXIT_GRACE = 5.0
_OWN_SIGNALS = {signal.SIGXCPU, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE}


@dataclass(frozen=True)
class Bounds:
    """Limits of one child: address space (MiB), CPU seconds, wall-clock seconds; and its
    share of the cores for OpenCV (``threads``, set by the sandbox)."""

    memory_mb: int = 2048
    cpu_s: float = 60.0
    wall_s: float = 120.0
    threads: int = 1


def cores_per_slot(slots: int) -> int:
    """The cores this process may use (its CPU affinity) divided among ``slots``, at least one:
    with a slot per core every child's OpenCV is single-threaded; one slot on two cores uses
    both for its image steps (Tesseract itself stays single-threaded). The CPU limit counts
    all threads, so a share never buys more CPU seconds."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux has it
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, slots))


class CpuBudget:
    """CPU seconds a series of children may use together (thread-safe)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent = 0.0
        self._lock = threading.Lock()

    def take(self, bounds: Bounds) -> Bounds:
        """``bounds`` with the CPU limit lowered to what is left; ``TooComplex`` if nothing is."""
        with self._lock:
            left = self.seconds - self.spent
        if left < 1:  # the kernel counts CPU limits in whole seconds: nothing left to give
            raise TooComplex(f"used up its CPU budget of {self.seconds:.1f} s")
        return replace(bounds, cpu_s=min(bounds.cpu_s, float(math.floor(left))))

    def spend(self, seconds: float) -> None:
        with self._lock:
            self.spent += seconds


class Sandbox:
    """Runs functions in limited child processes, at most ``slots`` at once."""

    def __init__(self, slots: int, bounds: Bounds | None = None) -> None:
        self.slots = max(1, slots)
        self.bounds = replace(bounds or Bounds(), threads=cores_per_slot(self.slots))
        self._free = threading.BoundedSemaphore(self.slots)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)

    def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        bounds: Bounds | None = None,
        budget: CpuBudget | None = None,
    ) -> T:
        """``fn(*args)`` in a child within ``bounds`` (default: the sandbox's) and what is left
        of ``budget``; blocks."""
        limits = bounds or self.bounds
        with self._free:
            if budget is not None:
                limits = budget.take(limits)
            return self._run_child(fn, args, limits, budget)

    def map(
        self,
        fn: Callable[..., T],
        items: Sequence[Any],
        *args: Any,
        on_done: Callable[[], None] = lambda: None,
        budget: CpuBudget | None = None,
    ) -> tuple[T, ...]:
        """``fn(item, *args)`` for every item, ``slots`` at a time; results in input order.

        The first error is raised once every started child has ended (none is left running).
        """
        if len(items) <= 1 or self.slots == 1:
            results = []
            for item in items:
                results.append(self.run(fn, item, *args, budget=budget))
                on_done()
            return tuple(results)

        def one(item: Any) -> T:
            result = self.run(fn, item, *args, budget=budget)
            on_done()
            return result

        with ThreadPoolExecutor(min(self.slots, len(items)), thread_name_prefix="sandbox") as ex:
            futures = [ex.submit(one, item) for item in items]
            try:
                return tuple(f.result() for f in futures)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def probe(self) -> tuple[bool, str]:
        """Whether a child can be started and answers (for ``/readyz``); takes no slot, so a
        busy sandbox still answers."""
        try:
            pid = self._run_child(os.getpid, (), replace(self.bounds, wall_s=10.0))
        except BriefkastenError as exc:
            return False, f"{exc.code}: {exc.message_en}"
        except OSError as exc:
            return False, f"cannot start a child process: {exc.strerror}"
        return pid != os.getpid(), f"{self.slots} slot(s), children start"

    def _run_child(
        self,
        fn: Callable[..., T],
        args: Iterable[Any],
        limits: Bounds,
        budget: CpuBudget | None = None,
    ) -> T:
        receiver, sender = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_child_main, args=(sender, limits, fn, tuple(args)), daemon=True
        )
        try:
            child.start()
        finally:
            sender.close()
        try:
            answer = _await_answer(receiver, child, limits)
        finally:
            receiver.close()
            # The answer is in: the child's work is done. Its exit (handing back a large
            # address space takes ~10 ms) is awaited in the background, so the slot is free now.
            threading.Thread(target=_reap, args=(child,), name="sandbox-reap", daemon=True).start()
        kind, payload, cpu = answer
        if budget is not None:
            budget.spend(cpu)
        if kind == "ok":
            return payload  # type: ignore[no-any-return]
        raise payload


def _reap(child: Any) -> None:
    """Wait for a child that answered (or failed) to exit; kill it after ``_EXIT_GRACE``."""
    child.join(_EXIT_GRACE)
    if child.is_alive():
        child.kill()
        child.join()
    child.close()


def _await_answer(receiver: Connection, child: Any, limits: Bounds) -> tuple[str, Any, float]:
    """The child's ``(kind, payload, CPU seconds)``; a child that overruns or dies becomes an
    error that counts as having used its whole CPU limit."""
    if not receiver.poll(limits.wall_s):
        child.kill()
        child.join()
        return "error", TooComplex(f"took longer than {limits.wall_s:g} s"), limits.cpu_s
    try:
        return receiver.recv()  # type: ignore[no-any-return]
    except (EOFError, OSError):
        child.join(_EXIT_GRACE)
    return "error", _death(child.exitcode, limits), limits.cpu_s


def _death(exitcode: int | None, limits: Bounds) -> BriefkastenError:
    """The error for a child that ended without an answer."""
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        if number == signal.SIGXCPU:
            return TooComplex(f"needed more than {limits.cpu_s:.1f} s of CPU time")
        if number in _OWN_SIGNALS:
            name = signal.Signals(number).name
            return TooComplex(f"decoding failed within {limits.memory_mb} MiB ({name})")
        return ChildDied(f"child process was killed ({signal.Signals(number).name})")
    return ChildDied(f"child process ended without an answer (exit code {exitcode})")


def _child_main(
    sender: Connection, limits: Bounds, fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    _apply(limits)
    try:
        answer: tuple[str, Any] = ("ok", fn(*args))
    except MemoryError:
        answer = ("error", TooComplex(f"needed more than {limits.memory_mb} MiB of memory"))
    except BriefkastenError as exc:
        answer = ("error", exc)
    except RecursionError:
        answer = ("error", TooComplex("structure is nested too deeply"))
    except Exception as exc:  # a bug or an unforeseen library error: its type only, no content
        answer = ("error", ProcessingError(f"{type(exc).__name__} in a sandboxed step"))
    try:
        sender.send((*answer, _cpu_used()))
    except MemoryError:
        sender.send(("error", TooComplex("result too large"), _cpu_used()))
    finally:
        sender.close()


def _cpu_used() -> float:
    """CPU seconds of this child (its in-process OCR included) and of any program it ran and
    waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    programs = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + programs.ru_utime + programs.ru_stime


def _apply(limits: Bounds) -> None:
    """Set this child's limits (called first thing in the child)."""
    memory = limits.memory_mb * MIB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, math.floor(limits.cpu_s))  # whole seconds, never more than granted
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        import cv2

        cv2.setNumThreads(limits.threads)
    except ImportError:  # pragma: no cover - OpenCV is a dependency
        pass


def check_bounds(settings: SandboxSettings) -> Bounds:
    """The limits of a gateway child (sniffing, instant checks)."""
    return Bounds(settings.memory_mb, settings.cpu_s, settings.wall_s)


def page_bounds(settings: SandboxSettings) -> Bounds:
    """The limits of a worker's page child (decode, pipeline, OCR, bundle)."""
    return Bounds(settings.page_memory_mb, settings.page_cpu_s, settings.page_wall_s)
