"""Tests of services/bots."""
