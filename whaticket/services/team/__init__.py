"""The people side: users and sessions, password reset, queues and their options, quick
messages, internal chat, announcements, helps, company settings.

Entry points: `auth.login`, `users`, `password_reset`, `queues`, `queue_options`,
`quick_messages`, `chats`, `announcements`, `helps`, `settings.get_value`.
"""
