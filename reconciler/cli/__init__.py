"""Command-line interface. One module per command: `cmd_<name>.py` with
`add_arguments(parser)` and `run(args) -> int`. Command modules import heavy
dependencies (Azure SDK, emulator) inside `run`, so `asr --help` stays fast."""

# The CLI's surface is the `asr` command (entry point reconciler.cli.main:main), not Python names.
__all__: list[str] = []
