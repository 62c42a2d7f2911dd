"""python -m emulator → the chat-emulator command."""

from emulator.cli import main

raise SystemExit(main())
