"""A pending delivery whose job chain was lost (its job failed for good on database
errors) is not left waiting for a ``trendwatch digest`` by hand: the digest queue's
periodic task defers its job again, once, and a worker then mails it, once. A delivery
whose job still waits is left to that job."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from pipeline.digest import job as digest_job
from pipeline.queue import digest
from pipeline.queue.app import make_app
from pipeline.queue.decide import delivery_lock, lost_deliveries
from pipeline.store import Store
from pipeline.subscriptions import with_readers
from tests.pipeline.digest.test_digest_job import seed
from tests.pipeline.queue.test_digest_queue_steps import CONFIG, NOW

AT = NOW + timedelta(minutes=31)  # the digest's moment has passed


def test_a_pending_delivery_without_a_job_is_lost() -> None:
    pending = [
        ("2026-W48/a", "Sanne@example.nl", None),
        ("2026-W48/a", "tom@example.nl", NOW + timedelta(minutes=5)),
        ("2026-W48/a", "ny@example.com", NOW - timedelta(minutes=5)),
    ]
    busy = {delivery_lock("2026-W48/a", "ny@example.com")}
    assert lost_deliveries(pending, busy, NOW) == [
        ("2026-W48/a", "Sanne@example.nl", 0.0),
        ("2026-W48/a", "tom@example.nl", 300.0),
    ]


def test_the_periodic_task_defers_a_lost_delivery_again_and_it_is_mailed_once(
    make_settings, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    monkeypatch.setattr(digest, "utcnow", lambda: AT + timedelta(minutes=1))
    settings = make_settings(CONFIG)  # no [smtp]: the outbox
    with Store(settings.database) as store:
        seed(settings, store, when=NOW - timedelta(hours=1))
        readers = with_readers(settings, store)
        due = digest_job.due_audiences(readers, store, AT)
        [built] = digest_job.build_editions_once(readers, store, AT, due)
        # both tried once and pending a retry now; Tom's next job waits, Sanne's was lost
        for email in ("sanne@example.nl", "tom@example.nl"):
            store.ensure_delivery(built.edition_id, email, AT)
    key = built.edition.key

    def jobs() -> list[tuple[str, str]]:
        with Store(settings.database) as store:
            return sorted(
                (j.args["email"], j.status) for j in store.queue_jobs(digest.DELIVER, ["todo"])
            )

    async def scenario() -> tuple[int, int, int]:
        app = make_app(postgres_url)
        app.periodic_registry.periodic_tasks.clear()  # only the jobs deferred here
        async with app.open_async():
            assert await digest.defer_delivery(app, key, "tom@example.nl")
            now = digest.utcnow()
            first = await digest.redefer_lost_deliveries(app, settings, now)
            again = await digest.redefer_lost_deliveries(app, settings, now)
            assert jobs() == [("sanne@example.nl", "todo"), ("tom@example.nl", "todo")]
            senders = digest.Senders(settings, 1)
            try:
                await app.run_worker_async(
                    queues=[digest.QUEUE],
                    wait=False,
                    install_signal_handlers=False,
                    delete_jobs="successful",
                    additional_context={"settings": settings, "senders": senders},
                )
            finally:
                senders.close()
            after = await digest.redefer_lost_deliveries(app, settings, now)
            return first, again, after

    assert asyncio.run(scenario()) == (1, 0, 0)
    assert jobs() == []
    with Store(settings.database) as store:
        sent = {d.subscriber: d.status for d in store.deliveries(built.edition_id)}
    assert sent == {"sanne@example.nl": "sent", "tom@example.nl": "sent"}
    mails = sorted(settings.outbox_dir.rglob("*.eml"))
    assert len(mails) == 2
