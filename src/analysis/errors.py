"""The project's one error family for bad input.

Every reader raises :class:`InputError` (or a subclass) when a file cannot be used.
The message always names the file, the line and column where known, what was
expected and what was found, so that an analyst can fix the input without reading
a traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A file or value that cannot be used as input.

    Parameters
    ----------
    path : str or Path or None
        The offending file (``None`` for a value that did not come from a file).
    message : str
        What was expected and what was found.
    line : int, optional
        1-based physical line number in the file.
    column : str or int, optional
        Column name or 1-based column number.

    Examples
    --------
    >>> str(InputError("x.csv", "expected 5 digits, found '123'", line=3, column="ags"))
    "x.csv, line 3, column 'ags': expected 5 digits, found '123'"
    """

    def __init__(
        self,
        path: str | Path | None,
        message: str,
        *,
        line: int | None = None,
        column: str | int | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            col = f"'{self.column}'" if isinstance(self.column, str) else str(self.column)
            where.append(f"column {col}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class ParameterError(ValueError):
    """A report parameter that is unknown, of the wrong type or not a valid value."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.reason = message
        super().__init__(f"parameter '{name}': {message}")
