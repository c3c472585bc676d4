"""What operators see of a running process: ``logs`` (logging setup: JSON lines or text),
``metrics`` (the Prometheus metrics of one process) and ``summary`` (the figures of
``briefkasten status`` and the dashboard, read back from ``/metrics``)."""
