"""JSON Schemas shipped as the `emulator.schemas` resource package (read via importlib.resources)."""
