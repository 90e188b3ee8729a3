"""Tests of services/campaigns."""
