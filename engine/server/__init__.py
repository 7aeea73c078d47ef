"""`switchboard serve`: HTTP events in, runs through `engine.jobs`, notifications out."""
