"""WhatsApp gateway interface and providers."""
