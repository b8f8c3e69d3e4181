"""ARM resource providers other than site recovery. Every module with a
`register(routes)` function is loaded by the app (`app.build_routes`)."""

# Nothing here is used from outside the emulator: the app finds the modules by name.
__all__: list[str] = []
