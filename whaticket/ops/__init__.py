"""Operating the app: structured logs, request ids, Sentry and a graceful stop (issue 22).

`logs` formats records (text or one JSON object a line) with the context `context` holds
(request id, job); `request_id` gives every request its id and access line; `sentry`
reports errors, scrubbed; `lifecycle` lets the web server and `flask worker` stop on SIGTERM
without cutting work in half.
"""
