"""What operators see of a running process: ``logs`` (logging setup: JSON lines or text),
``metrics`` (the Prometheus metrics of one process) and ``summary`` (the figures of
``briefkasten status`` and the dashboard, read back from ``/metrics``).

Import from the submodules. The one name below is transitional, kept for modules of other
slices of the redesign (``gateway/app.py``, ``gateway/keys.py``, ``service.py``,
``worker.py``) until they import ``briefkasten.monitoring.metrics`` themselves; it creates no
cycle (``metrics`` never imports this package).
"""

from briefkasten.monitoring.metrics import Metrics

__all__ = ["Metrics"]
