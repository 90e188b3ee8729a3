"""Bulk sending: campaigns and their dispatcher, contact lists, file lists, schedules.

Entry points: `campaigns.start_campaign`, `dispatch.dispatch` (the claim-send-mark loop the
campaign jobs run), `dispatch.on_reply` (listens to `bus.inbound_message`, first),
`contact_lists`, `contact_list_items`, `file_lists`, `campaign_settings`, `schedules`.
"""
