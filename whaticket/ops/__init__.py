"""Operations: health checks, Prometheus metrics, the super users' status page.

`metrics` is pure (prometheus-client and the standard library only): every layer may
import it to count at its choke point. `health`, `workers`, `collect` and `status` read
the database and Redis like a service does; the views (`api/health.py`, `api/metrics.py`,
`api/admin_status.py`) and `flask status` call them.
"""
