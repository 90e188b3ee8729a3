"""Public API v1 (`{API_PREFIX}/v1`): tickets, messages, contacts and report summaries for
third parties, authenticated by scoped API tokens (`auth.token_scope`)."""
