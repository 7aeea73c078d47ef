"""Pure data and rules: the models, names and ids, the step graph, edits, layout, expressions,
durations, validation and errors. No I/O, no asyncio, no HTTP, no YAML."""
