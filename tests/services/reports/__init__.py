"""Tests of services/reports."""
