"""The webhook sweep's share: due deliveries whose job was lost, or whose worker died."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.services.integrations.sending import GRACE_SECONDS, D, setting_seconds, unclaimed


def due_ids(limit: int = 500) -> list[int]:
    """Deliveries due for longer than the grace period and not in flight (their job was
    lost, or their worker died), oldest first; ordered ones only when it is their turn."""
    now = utcnow()
    earlier = aliased(D)
    blocked = (
        sa.select(earlier.id)
        .where(
            earlier.subscription_id == D.subscription_id,
            earlier.ordering_key == D.ordering_key,
            earlier.status == "pending",
            earlier.id < D.id,
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(D.id)
            .where(
                D.status == "pending",
                D.next_attempt_at
                <= now - setting_seconds("WEBHOOK_SWEEP_GRACE_SECONDS", GRACE_SECONDS),
                unclaimed(now),
                sa.or_(D.ordering_key.is_(None), ~blocked),
            )
            .order_by(D.next_attempt_at, D.id)
            .limit(limit)
        )
    )
