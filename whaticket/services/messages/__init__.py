"""Messages: what goes out, what came in, and a ticket's history.

Entry points, by module (import the module you need; this package imports none of them):
* `outbound` - `queue_text`, `queue_media`, `send_bot_text`, `send_bot_menu`,
  `send_bot_file`, `render_for`: our messages out (the lowest layer: no ticket lifecycle);
* `store` - `store_inbound`, `find_by_provider_id`: inbound messages stored once;
* `history` - `list_messages`, `count_messages`, `delete_message`: a ticket's history
  (`list_messages` answers JSON built from columns by `rows`);
* `replies` - `send_text`, `send_template`, `send_media`: an agent's replies.
"""
