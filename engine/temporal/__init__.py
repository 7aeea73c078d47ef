"""Switchboard on Temporal: the engine's scheduler in one generic workflow, each call attempt an
activity (needs the `temporal` extra: `pip install 'switchboard[temporal]'`).

`workflow` (SwitchboardRun, the activity-backed Caller), `clock` (durable timers, virtual time
for mocked runs), `activities` (attempts, mocks, secrets, notifications, events), `outbound`
(emit as child workflows with derived ids, events out without a query), `payloads` (what crosses
Temporal's boundary), `host` (worker settings, starting runs), `command` (`switchboard worker`,
`run --temporal`), `testing` (the servers offline, tests-file cases on Temporal). This module
imports nothing, so registering the commands works without the extra.
"""
