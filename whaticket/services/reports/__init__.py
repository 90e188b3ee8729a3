"""Reporting: events recorded as service happens, their daily rollup, reports, dashboard.

Entry points: `events` (listens to the lifecycle and message topics of `whaticket.bus`),
`summary.summary`, `series.timeseries` and `series.heatmap`, `live.live`, `export.to_csv`
(each report over a `period.period`), `dashboard`, `rebuild.rebuild` (replay history),
`usage` (plan usage per company).
"""
