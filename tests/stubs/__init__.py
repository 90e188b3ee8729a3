"""Local stub HTTP servers that answer as the providers' real APIs do, for tests."""
