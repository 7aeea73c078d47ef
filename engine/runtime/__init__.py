"""Runs one workflow: the engine, its scheduler and call steps behind small ports (clock, caller,
starter, event sinks, ids), mocks, recording, secrets and the events a run reports. It knows no
files and no environments."""
