"""Running workflows from the designer: the engine process, the run controller and their docks."""

from __future__ import annotations

from designer.run.ui import RunUI, attach_run_ui, run_and_wait, start_run

__all__ = ["RunUI", "attach_run_ui", "run_and_wait", "start_run"]
