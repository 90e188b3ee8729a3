"""Tests of the WhatsApp gateway providers."""
