"""Tests of services/contacts."""
