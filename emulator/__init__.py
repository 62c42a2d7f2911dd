# emulator
