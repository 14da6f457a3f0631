"""The terminal UI (``cnncalc tui``): a spec editor beside its live layer table.

:mod:`.app` holds the application; textual is imported only by it and its widgets.
"""
