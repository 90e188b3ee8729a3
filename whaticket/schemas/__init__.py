"""marshmallow schemas, one module per controller group."""
