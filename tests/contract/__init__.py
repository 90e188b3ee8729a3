"""Contract tests: the shapes the unchanged Whaticket SaaS frontend reads, one module per screen."""
