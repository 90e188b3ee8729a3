"""The mustache tags of every bot and agent text ({{name}}, {{ms}}, {{protocol}}, ...)."""

from __future__ import annotations

import re
from datetime import datetime

from whaticket.utils.office_hours import zone_of

_TAG = re.compile(r"{{\s*(\w+)\s*}}")


def _greeting(hour: int) -> str:
    """Time-of-day greeting in the SaaS 6-hour bands."""
    if hour < 6:
        return "Boa madrugada"
    if hour < 12:
        return "Bom dia"
    if hour < 18:
        return "Boa tarde"
    return "Boa noite"


def render(text: str, *, contact_name: str, now: datetime, tz: str = "America/Sao_Paulo") -> str:
    """Replace the known tags; unknown tags are left as written."""
    local = now.astimezone(zone_of(tz))
    first = (contact_name or "").strip().split(" ")[0] if contact_name else ""
    values = {
        "name": contact_name or "",
        "firstName": first,
        "gretting": _greeting(local.hour),
        "greeting": _greeting(local.hour),
        "ms": _greeting(local.hour),
        "protocol": local.strftime("%Y%m%d") + f"{local.hour}{local.strftime('%M%S')}",
        "hora": f"{local.hour}:{local.strftime('%M:%S')}",
    }
    return _TAG.sub(lambda m: values.get(m.group(1), m.group(0)), text)
