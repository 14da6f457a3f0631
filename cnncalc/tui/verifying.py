"""Verification from the terminal UI: the spec run through the reference kernels in a thread,
with a progress bar, cancellable, each row then marked ok or MISMATCH."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.widgets import Label, ProgressBar
from textual.worker import Worker, get_current_worker

from ..errors import CnncalcError


class _Cancelled(Exception):
    """Raised from verification's progress callback to stop it."""


class Verifying:
    """The app's verification (a mixin of :class:`~cnncalc.tui.app.CnncalcApp`)."""

    _verify_worker: Worker | None = None
    checks: dict[str, bool | None]
    outcome: Any
    other: Any
    formulas: bool
    values: dict[str, str]

    def action_verify(self) -> None:
        """Run the spec through the reference kernels, in the background."""
        if self.outcome is None or self.main.query_one("#layers").has_class("stale"):
            self.notify("fix the spec first: verification runs the last valid analysis", severity="warning")
            return
        outcome = self.outcome
        if self.formulas or not outcome.analysis.concrete:
            numbers = self.other if self.formulas else None
            if numbers is None or not numbers.concrete:
                self.notify(
                    "verification runs at concrete sizes: give every symbol a value", severity="warning"
                )
                return
            analysis = numbers
        else:
            analysis = outcome.analysis
        self.checks = {}
        self.main.query_one("#verify-bar").add_class("running")
        self.main.query_one("#verify-label", Label).update("compiling kernels")
        self.main.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self._verify_worker = self._verify(analysis, outcome.spec, dict(self.values))

    @work(thread=True, exclusive=True, group="verify")
    def _verify(self, analysis, spec, values: dict) -> None:
        from ..analysis.verify import check_budget, default_budget, verify

        worker = get_current_worker()

        def progress(phase: str, done: int, total: int, layer: str) -> None:
            if worker.is_cancelled:
                raise _Cancelled
            self.call_from_thread(self._verify_progress, phase, done, total, layer)

        try:
            known = {k: v for k, v in values.items() if k in spec.symbols}
            check_budget(spec, analysis, known, default_budget())
            result = verify(analysis, seed=0, progress=progress)
        except _Cancelled:
            self.call_from_thread(self._verify_done, None, "verification cancelled")
        except CnncalcError as exc:
            self.call_from_thread(self._verify_done, None, str(exc))
        except Exception as exc:
            message = f"verification failed: {type(exc).__name__}: {exc}"
            self.call_from_thread(self._verify_done, None, message)
        else:
            self.call_from_thread(self._verify_done, result, None)

    def _verify_progress(self, phase: str, done: int, total: int, layer: str) -> None:
        label = "compiling kernels" if phase == "compile" else f"running {layer}" if layer else "running"
        self.main.query_one("#verify-label", Label).update(f"{label} {done}/{total}")
        self.main.query_one("#progress", ProgressBar).update(total=total, progress=done)

    def _verify_done(self, result, message: str | None) -> None:
        self.main.query_one("#verify-bar").remove_class("running")
        self._verify_worker = None
        if result is None:
            cancelled = message is not None and "cancelled" in message
            self.notify(message or "verification stopped", severity="warning" if cancelled else "error")
            return
        self.checks = {c.name: None if c.not_verified else c.ok for c in result.layers}
        self._fill_table()
        skipped = result.not_verified
        if result.ok and skipped:
            names = ", ".join(c.name for c in skipped[:3]) + (", ..." if len(skipped) > 3 else "")
            self.notify(
                f"verified: {len(result.layers) - len(skipped)} layers match their predictions; "
                f"{len(skipped)} not verified (opaque): {names}",
                severity="warning",
            )
        elif result.ok:
            self.notify(f"verified: {len(result.layers)} layers match their predictions")
        else:
            names = ", ".join(c.name for c in result.failures[:3])
            self.notify(f"{len(result.failures)} layer(s) disagree: {names}", severity="error")

    def action_cancel_verify(self) -> None:
        """Stop a running verification."""
        if self._verify_worker is not None:
            self._verify_worker.cancel()
            self.main.query_one("#verify-label", Label).update("cancelling…")
