"""Tests of services/inbound."""
