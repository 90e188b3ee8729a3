"""Shared infrastructure the domains use: media files, mail, rate limits, the version,
import jobs and retention.

Entry points: `media.save`, `absolute_path` and `delete` (their signed URLs are built by
`whaticket.utils.media_urls`), `mailer.send`, `ratelimit.enforce`, `version.migration_head`,
`imports.start` (a big spreadsheet's job), `retention.ROW_PURGES` and
`media_refs.referenced_paths` (what `jobs/retention` purges and keeps).
"""
