"""Tests of the public API v1 (`{API_PREFIX}/v1`) and its token authentication."""
