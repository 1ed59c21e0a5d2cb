"""Wire the HTTP app to a container."""

from __future__ import annotations

from litestar import Litestar

from adapters.http.access import AccessControl
from adapters.http.app import ApiServices, create_app
from synaps import __version__
from synaps.bootstrap import Container

__all__ = ["api_app"]


def api_app(container: Container) -> Litestar:
    workers = container.workers

    def workers_alive() -> bool | None:
        if not workers:
            return None
        return all(w.alive for w in workers)

    return create_app(
        ApiServices(
            submit=container.submit,
            queue=container.queue,
            runs=container.run_views,
            queue_depth=container.queue_depth,
            ping_database=container.ping,
            metrics=container.metrics.exposition,
            workers_alive=workers_alive,
            control=container.control,
            control_reads=container.control_reads,
            ledger=container.ledger,
            artifacts=container.artifacts,
            approvals=container.approvals,
            ask=container.ask,
            pool=container.pool,
            wait_for=lambda names, position: container.change_feed.wait_for_position(
                names, position, 2.0
            ),
            access=AccessControl(
                authenticator=container.identity.authenticator,
                counter=container.identity.rate_counter,
                policy=container.identity.rate_limits,
                refusals=container.identity.refusals,
                trust_forwarded_for=container.settings.trust_forwarded_for,
            ),
            keys=container.identity.keys,
            users=container.identity.users,
            sessions=container.identity.sessions,
            jwks=container.identity.jwks,
            version=__version__,
            on_startup=[container.change_feed.start],
            on_shutdown=[container.change_feed.stop],
        )
    )
