"""Many gateways for real: 2 gateways and 2 workers as processes on one RabbitMQ vhost and one
SeaweedFS bucket and one Redis for the gateways' shared state, 200 submissions
from 20 concurrent clients spread over both gateways (every tenth a tus upload begun on one
gateway and resumed on the other), while one gateway and one worker are SIGKILLed and RabbitMQ
is restarted. Every submission is delivered, with the hashes the clients sent; a message seen
twice is a redelivery with the same message id, never a second submission."""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefkasten.broker.subscriber import RabbitSubscriber
from briefkasten.storage import layout, open_storage
from tests.integration.test_failures import assert_pdfs_match, collect, message_ids
from tests.support import cluster
from tests.support.rabbit import broker_stopped, unique

SUBMISSIONS = 200
CLIENTS = 20
DELIVERY_DEADLINE_S = 420.0


@pytest.fixture
def nodes(
    tmp_path: Path, rabbit_vhost: str, s3_url: str, redis_url: str
) -> Iterator[cluster.Cluster]:
    """Not ``rabbit_url``: its shared lock would block ``broker_stopped``. The gateways share
    one Redis (``gateway.rate_limit_storage``: shared limits and Idempotency-Key locks, a
    killed gateway's locks left to expire) besides the storage's create-if-absent claims (the
    gateways without Redis: ``tests/integration/test_shared_state.py``; once more here costs
    90 s of the suite's time)."""
    storage = open_storage(s3_url)
    storage.check()  # the bucket
    group = cluster.Cluster(
        tmp_path,
        amqp_url=rabbit_vhost,
        storage_url=s3_url,
        exchange=unique("documents"),
        work_queue=unique("jobs"),
        redis_url=redis_url,
    )
    with cluster.running(group, gateways=2, workers=2):
        yield group


async def faults(group: cluster.Cluster, load: cluster.Load) -> list[str]:
    """SIGKILL gateway 1 at 20 % accepted, worker 1 at 40 %, restart RabbitMQ at 60 %."""
    done: list[str] = []

    async def when(share: float) -> None:
        deadline = time.monotonic() + cluster.SUBMISSION_DEADLINE_S
        while load.accepted < share * SUBMISSIONS and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def restart_rabbitmq() -> None:
        with broker_stopped():
            time.sleep(2)

    await when(0.2)
    gateway = group.gateways[1]
    await asyncio.to_thread(gateway.kill)
    done.append("gateway killed")
    await asyncio.sleep(2)
    await asyncio.to_thread(group.restart, gateway)
    await when(0.4)
    worker = group.workers[1]
    await asyncio.to_thread(worker.kill)
    done.append("worker killed")
    await asyncio.sleep(1)
    await asyncio.to_thread(group.restart, worker)
    await when(0.6)
    await asyncio.to_thread(restart_rabbitmq)
    done.append("rabbitmq restarted")
    return done


async def test_two_gateways_two_workers_and_faults_deliver_every_submission(
    nodes: cluster.Cluster, s3_url: str
) -> None:
    subscriber = RabbitSubscriber(
        nodes.amqp_url, nodes.exchange, unique("case-system"), bindings=(f"{cluster.TENANT}.#",)
    )
    subscriber.declare()
    subscriber.close()
    load = cluster.Load(nodes.gateways, cluster.small_page, total=SUBMISSIONS, clients=CLIENTS)
    _, happened = await asyncio.gather(load.run(), faults(nodes, load))
    assert happened == ["gateway killed", "worker killed", "rabbitmq restarted"]
    assert load.failures == [], nodes.logs()
    assert load.accepted == SUBMISSIONS

    by_submission = {s.submission_id: s for s in load.sent}
    assert len(by_submission) == SUBMISSIONS  # a retry on the other gateway found the first
    storage = open_storage(s3_url)
    manifests = [
        k
        for k in storage.list(layout.submissions_prefix(cluster.TENANT))
        if k.endswith("manifest.json")
    ]
    assert len(manifests) == SUBMISSIONS, "a retried request became a second submission"

    expected = message_ids(list(by_submission))
    received = await asyncio.to_thread(collect, subscriber, expected, DELIVERY_DEADLINE_S)
    seen = {m.message_id for m in received}
    assert seen == expected, f"{len(expected - seen)} missing\n{nodes.logs()}"
    copies = collections.defaultdict(list)
    for message in received:
        body = json.loads(message.body)
        copies[body["submission_id"]].append(message.message_id)
        (document,) = body["documents"]
        (original,) = document["originals"]
        assert original["sha256"] == by_submission[body["submission_id"]].sha256
    # A submission seen more than once came again under its one message id (a redelivery).
    assert all(len(set(ids)) == 1 for ids in copies.values())
    redelivered = sum(len(ids) - 1 for ids in copies.values())
    print(f"{load.summary()}; {len(received)} messages, {redelivered} redelivered")
    assert_pdfs_match(storage, received)
    assert any(s.via_tus for s in load.sent)
    assert all(s.submission_id for s in load.sent if s.via_tus)
