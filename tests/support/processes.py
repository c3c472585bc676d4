"""Looking at the sandbox's children from a test: the live children of this process's fork
server (every sandboxed child is forked by it)."""

from __future__ import annotations

from multiprocessing import forkserver
from pathlib import Path


def sandbox_children() -> set[int]:
    """Pids of the fork server's live children; empty before the first sandbox call."""
    server = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if server is None:
        return set()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == server and state != "Z":
            found.add(int(entry.name))
    return found
