"""Tests of services/billing."""
