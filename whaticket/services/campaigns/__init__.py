"""Bulk sending: campaigns and their dispatcher, contact lists, file lists, schedules.

Entry points, by module (imports inside the package point one way: a module imports only
modules listed before it):
* `campaign_settings` - pacing, quiet hours, daily cap and variables (`config`);
* `shipping` - `variants`, `prepare` (a campaign's rows), `enqueue_dispatchers`;
* `pacing` - `clock`, `reserve_slot`, `quiet_until`, `cap_reached_until`;
* `claims` - `claim_batch`, `claim`, `release`, `has_work`, `finish_if_done`;
* `dispatch` - `send_claimed`, `mark_sent`, `stale_claims`, `ask_provider`, `settle_stale`
  (what jobs/campaigns.py runs);
* `report` - `report`, `with_detail`, `emit` and `emit_progress` (the live event);
* `replies` - `on_reply` (listens to `bus.inbound_message`, first);
* `contact_lists` (CRUD and events), `number_check` (`check_items`, `ask`), `list_import`
  (`upload`, `import_batch` for big files' jobs, `fill_from_tag`, `build_from_tag`),
  `contact_list_items`, `file_lists`;
* `campaigns` - CRUD and the status machine: `start_campaign`, `cancel_campaign`...;
* `schedules` - scheduled messages' CRUD and `arm`; `schedule_delivery` - `claim`,
  `deliver`, `mark_failed` (what jobs/schedules.py runs).
"""
