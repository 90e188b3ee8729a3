"""Operations: health checks, Prometheus metrics, the super users' status page; structured
logs, request ids, Sentry and a graceful stop.

`metrics` is pure (prometheus-client and the standard library only): every layer may
import it to count at its choke point. `health`, `workers`, `collect` and `status` read
the database and Redis like a service does; the views (`api/health.py`, `api/metrics.py`,
`api/admin_status.py`) and `flask status` call them.

`logs` formats records (text or one JSON object a line) with the context `context` holds
(request id, job); `request_id` gives every request its id and access line; `sentry`
reports errors, scrubbed; `lifecycle` lets the web server and `flask worker` stop on SIGTERM
without cutting work in half.
"""
