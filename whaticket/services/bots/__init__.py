"""Bots: the chatbot menu, Typebot, the AI prompts, and queue integrations.

Entry points: `chatbot.on_inbound` (listens to `bus.inbound_message`, last), `ai.schedule`
and `ai.answer`, `typebot.handle`, `integrations.run`, `webhooks.schedule` (signed n8n and
webhook deliveries); `queue_integrations` and `prompts` are their CRUD.
Calls go one way: `chatbot` -> `ai`, `menus`, `integrations` -> `routing` (sending as the
bot, office hours, `hand_off`), the lowest bot module.
"""
