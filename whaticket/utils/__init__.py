"""Small helpers named by concern."""
