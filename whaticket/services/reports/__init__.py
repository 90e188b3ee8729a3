"""Reporting: events recorded as service happens, their daily rollup, reports, dashboard.

Entry points: `events` (listens to the lifecycle and message topics of `whaticket.bus`),
`reports` (summary, time series, heat map, live), `dashboard`, `rebuild.rebuild` (replay
history), `usage` (plan usage per company).
"""
