"""Progress of a run on the terminal: one line per finished report, a bar on a TTY."""

from __future__ import annotations

import sys

from analysis.report.plan import Job


class Progress:
    """One line per finished report; a live ``tqdm`` bar below them on a TTY.

    Parameters
    ----------
    total : int
        Reports in the run.
    stream : file, optional
        Where lines go (default stdout); no bar unless it is a terminal.
    """

    def __init__(self, total: int, stream=None) -> None:
        from tqdm import tqdm

        self.total = total
        self.done = 0
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = tqdm(
            total=total,
            file=self.stream,
            disable=not self.tty,
            unit="report",
            leave=False,
            dynamic_ncols=True,
        )

    def line(self, job: Job, status: str, seconds: float | None, note: str = "") -> None:
        """Report one finished job (``ok``, ``failed``, ``cached``, ``skipped``)."""
        self.done += 1
        width = len(str(self.total))
        shown = ", ".join(
            f"{k}={v}" for k, v in job.parameters.items() if k not in {"dataset", "seed"}
        )
        took = f"{seconds:6.1f}s" if seconds is not None else "      -"
        text = (
            f"[{self.done:>{width}}/{self.total}] {status:<7} {took}  {job.report}"
            f"{(' (' + shown[:70] + ')') if shown else ''}{('  ' + note) if note else ''}"
        )
        if self.tty:
            self.bar.write(text, file=self.stream)
            self.bar.update(1)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Remove the bar (the lines stay)."""
        self.bar.close()
