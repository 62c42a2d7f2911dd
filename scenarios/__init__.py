"""Ready-made scenario files shipped as the `emulator.scenarios` resource package."""
