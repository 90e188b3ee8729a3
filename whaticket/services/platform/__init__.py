"""Shared infrastructure the domains use: media files, mail, rate limits, the version.

Entry points: `media.save`, `absolute_path` and `delete` (their signed URLs are built by
`whaticket.utils.media_urls`), `mailer.send`, `ratelimit.enforce`, `version.migration_head`.
"""
