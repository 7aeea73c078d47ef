"""Switchboard on Temporal: the engine's scheduler in one generic workflow, each attempt an
activity (needs the `temporal` extra: `pip install 'switchboard[temporal]'`)."""
