"""Payment provider interface and providers."""
