"""The built-in model catalog and the JSON Schema of catalog files (package data)."""
