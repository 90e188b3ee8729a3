"""Business logic, in packages by domain: functions that take company_id first, raise
AppError and never commit.

Packages (each `__init__` names its entry points): `inbound`, `tickets`, `messages`, `bots`,
`campaigns`, `contacts`, `connections`, `reports`, `billing`, `team`, `platform`.
`listeners.connect()` wires the domain event bus (`whaticket.bus`).
"""
