"""The arm64: runtimes: LiteRT aarch64 build under qemu user mode (docs/phones.md)."""
