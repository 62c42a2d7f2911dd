"""JSON Schemas shipped as the `emulator.schemas` resource package.

Read through importlib.resources, never through paths relative to the repository.
"""
