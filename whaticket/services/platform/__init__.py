"""Shared infrastructure the domains use: media files, mail, rate limits, the version.

Entry points: `media.save`, `public_url` and `delete`, `mailer.send`, `ratelimit.enforce`,
`version.migration_head`.
"""
