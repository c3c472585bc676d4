"""Functions the sandbox tests run in children (importable by name, as the sandbox requires)."""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
from pathlib import Path

from briefkasten.errors import CorruptInput


def allocate(mib: int) -> int:
    block = bytearray(mib * 1024 * 1024)
    return len(block)


def spin() -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        pass


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def kill_myself(signum: int = signal.SIGKILL) -> None:
    os.kill(os.getpid(), signum)


def refuse() -> None:
    raise CorruptInput("refused in the child")


def crash_with_a_bug() -> None:
    raise KeyError("secret-file-name.pdf")


def limits() -> tuple[int, int, int]:
    """The child's own address-space, CPU and core limits (soft)."""
    return (
        resource.getrlimit(resource.RLIMIT_AS)[0],
        resource.getrlimit(resource.RLIMIT_CPU)[0],
        resource.getrlimit(resource.RLIMIT_CORE)[0],
    )


def pid() -> int:
    return os.getpid()


def killed_while_checking(*_: object) -> None:
    """Stands in for a sniff or precheck whose child the OOM killer takes."""
    os.kill(os.getpid(), signal.SIGKILL)


def library_bug(*_: object) -> None:
    """Stands in for a parser raising an exception type nobody expected."""
    raise IndexError("list index out of range")


def loaded_languages() -> frozenset[str]:
    """The Tesseract models this child holds without having loaded any itself."""
    from briefkasten.tools import tesseract

    return tesseract.loaded()


def read_page(image: object, lang: str = "deu") -> int:
    """OCR ``image`` (an 8-bit grey array) in the child; the number of words read."""
    from briefkasten.tools import tesseract

    for _ in range(20):  # a few full passes: more CPU than a tight limit allows
        out = tesseract.ocr(image, lang=lang, dpi=300, timeout=600)  # type: ignore[arg-type]
    return out.words


def timed_ocr(image: object) -> tuple[float, float, int]:
    """(wall s, CPU s, words) of one OCR run in this process (for measurements by hand)."""
    from briefkasten.tools import tesseract

    wall, cpu = time.perf_counter(), time.process_time()
    out = tesseract.ocr(image, lang="deu", dpi=300, timeout=600)  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu, out.words


def thread_settings() -> dict[str, str | None]:
    """The thread counts numerical libraries read in this process."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return {name: os.environ.get(name) for name in names}


def arena_setting() -> str | None:
    return os.environ.get("MALLOC_ARENA_MAX")


def address_space_of_threads(threads: int) -> int:
    """MiB of address space this child gains while ``threads`` threads allocate at once."""
    import threading

    def size() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) // 1024
        raise AssertionError("no VmSize")

    before = size()
    start = threading.Barrier(threads)
    peak = [before]

    def allocate() -> None:
        start.wait(timeout=30)
        for _ in range(2000):
            kept = [bytearray(200) for _ in range(50)]
            del kept
        peak.append(size())

    workers = [threading.Thread(target=allocate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return max(peak) - before


def opencv_threads() -> int:
    """The number of threads OpenCV uses in this child."""
    import cv2

    return int(cv2.getNumThreads())


def answer_then_linger(seconds: float) -> int:
    """Answer at once, then take ``seconds`` to exit (a finaliser that runs at the child's
    exit, as a library's slow teardown would); the pid, to find the child afterwards."""
    import multiprocessing.util
    import time

    multiprocessing.util.Finalize(None, time.sleep, args=(seconds,), exitpriority=100)
    return os.getpid()


def busy(directory: str, seconds: float) -> None:
    """Work for ``seconds``, with a file named by the pid in ``directory`` meanwhile (so a test
    can count the children at work, not those that answered and are exiting)."""
    import time
    from pathlib import Path

    marker = Path(directory) / str(os.getpid())
    marker.touch()
    try:
        time.sleep(seconds)
    finally:
        marker.unlink()


def imported(names: list[str]) -> list[str]:
    """Which of ``names`` are imported in this process already."""
    return [name for name in names if name in sys.modules]


def modules_a_page_imports(image: str, workdir: str) -> list[str]:
    """Build page 1 of the JPEG ``image`` with the default pipeline, as a page child does;
    the modules imported on the way (the fork server is meant to hold them all)."""
    from pathlib import Path

    from briefkasten.config import Settings
    from briefkasten.model import Original, PageRef
    from briefkasten.pipeline.document import build_page
    from briefkasten.pipeline.runner import Options, load_pipeline
    from briefkasten.storage.records import sha256_file

    path = Path(image)
    sha256, size = sha256_file(path)
    original = Original(path.name, path, sha256, size, "image/jpeg", 1)
    pipeline = load_pipeline("default", Settings().pipeline.directory)
    before = set(sys.modules)
    build_page(PageRef(original, 0, "raster"), pipeline, Path(workdir), Options(), 300)
    return sorted(set(sys.modules) - before)
