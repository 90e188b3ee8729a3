"""SLA policies: targets per queue, tag or connection, due times on episodes, the sweep.

Entry points: `policies` (CRUD and `match`), `clocks` (due times of an episode: `assign`,
`customer_wrote`, `agent_replied`, `resolved`, `recompute`), `sweep.sweep` (warnings and
breaches, marked once by conditional UPDATEs), `listener` (the bus subscriptions that
drive the clocks). The core never imports this package; reports read its events
(`services/reports/sla`).
"""
