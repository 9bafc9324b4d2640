"""`GET /metrics`: Prometheus metrics (builds by status, stages waiting and running, webhooks received)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response

from server.db.models import Build, Delivery, Stage
from server.services import Services


async def metrics(request: Request) -> Response:
    """Current counts from the database, in Prometheus' text format."""
    hangar: Services = request.app.state.services
    registry = CollectorRegistry()
    builds = Gauge("hangar_builds", "Builds by status", ["status"], registry=registry)
    stages = Gauge("hangar_stages", "Stages by status", ["status"], registry=registry)
    deliveries = Gauge("hangar_webhook_deliveries", "Webhook deliveries recorded", registry=registry)
    async with hangar.reading() as session:
        for status, count in await session.exec(
            select(Build.status, func.count()).group_by(col(Build.status))
        ):
            builds.labels(status).set(count)
        for status, count in await session.exec(
            select(Stage.status, func.count()).group_by(col(Stage.status))
        ):
            stages.labels(status).set(count)
        deliveries.set((await session.exec(select(func.count()).select_from(Delivery))).one())
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
