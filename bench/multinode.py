"""``make bench``, multi-node section (issue 13): 2 gateways and 2 workers as processes on one
RabbitMQ vhost, one SeaweedFS bucket and one Redis (the harness of ``tests/e2e/test_multinode.py``,
``tests/support/cluster.py``), without faults.

Figures (context lines, no target in the issue):

* ``multinode_receipts_per_s``: submissions answered 202 per second while 20 clients send 200
  submissions (one small text page each; every tenth as a tus upload begun on one gateway and
  resumed on the other) spread over both gateways;
* ``multinode_p95_receipt_latency_s``: the 95th percentile of the time from a client's first
  try to its 202;
* ``multinode_delivered_per_s``: submissions delivered per second (first request to the last
  message on the case system's queue), with the ``ocr-only`` pipeline and one page slot per
  worker: the workers' rate, from which docs/deployment.md sizes workers per 1,000 pages/hour.

Everything runs on this machine's cores (gateways, workers, RabbitMQ, SeaweedFS and the client
share them), so these are lower bounds for machines of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SUBMISSIONS = 200
CLIENTS = 20
DELIVERY_DEADLINE_S = 600.0


def _figure(name: str, value: float, unit: str) -> None:
    print(f"figure {name} {value:.2f}    # {unit}", flush=True)


def _note(text: str) -> None:
    print(f"# {text}", flush=True)


def bench_multinode(pages: list[Path], work: Path) -> None:
    from briefkasten.broker.subscriber import RabbitSubscriber
    from briefkasten.storage import open_storage
    from tests.integration.test_failures import collect, message_ids
    from tests.support import cluster
    from tests.support.rabbit import reachable, temporary_vhost
    from tests.support.redis_server import RedisServer, redis_binary
    from tests.support.servers import seaweedfs

    if not reachable():
        raise RuntimeError("no RabbitMQ on 127.0.0.1:5672 (make bench starts one)")
    root = work / "multinode"
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("no redis-server (make bench installs it)")
    redis = RedisServer(binary, root / "redis")
    redis.start()
    with (
        contextlib.ExitStack() as cleanup,
        seaweedfs(root / "s3") as s3,
        temporary_vhost("bk-bench") as amqp_url,
    ):
        cleanup.callback(redis.stop)
        storage_url = s3.bucket_url("bench-" + secrets.token_hex(4))
        open_storage(storage_url).check()
        group = cluster.Cluster(
            root,
            amqp_url=amqp_url,
            storage_url=storage_url,
            exchange="bench.documents",
            work_queue="bench.jobs",
            redis_url=redis.url(),
        )
        subscriber = RabbitSubscriber(
            amqp_url, group.exchange, "bench.case-system", bindings=(f"{cluster.TENANT}.#",)
        )
        with cluster.running(group, gateways=2, workers=2):
            subscriber.declare()
            subscriber.close()
            load = cluster.Load(
                group.gateways, cluster.small_page, total=SUBMISSIONS, clients=CLIENTS
            )
            started = time.monotonic()
            asyncio.run(load.run())
            if load.failures:
                raise RuntimeError(f"{len(load.failures)} submissions failed: {load.failures[:3]}")
            expected = message_ids([s.submission_id for s in load.sent])
            received = collect(subscriber, expected, DELIVERY_DEADLINE_S)
            delivered_s = time.monotonic() - started
        missing = expected - {m.message_id for m in received}
        if missing:
            raise RuntimeError(
                f"{len(missing)} submissions not delivered in {delivery_s_text(delivered_s)}"
            )
    _note(
        f"2 gateways + 2 workers (processes), RabbitMQ, SeaweedFS, Redis, one client: "
        f"{load.summary()}"
    )
    _note(f"all {SUBMISSIONS} delivered {delivered_s:.1f} s after the first request")
    _figure(
        "multinode_receipts_per_s",
        SUBMISSIONS / (load.finished - load.started),
        "submissions/s answered 202",
    )
    _figure("multinode_p95_receipt_latency_s", load.p95_latency_s(), "s, first try to 202")
    _figure(
        "multinode_delivered_per_s",
        SUBMISSIONS / delivered_s,
        "submissions (1 page each)/s delivered",
    )


def delivery_s_text(seconds: float) -> str:
    return f"{seconds:.0f} s"
