"""ARM resource providers other than site recovery. Every module with a
`register(routes)` function is loaded by the app (`app.build_routes`)."""
