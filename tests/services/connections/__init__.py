"""Tests of services/connections."""
