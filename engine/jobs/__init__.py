"""What every host does: job requests and outcomes, environments resolved once, engines kept per
environment, runs, emitted events and tests files, and the notification sinks."""
