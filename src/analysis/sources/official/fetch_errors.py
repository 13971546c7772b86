"""Errors of ``workbook data fetch`` (shared by the fetch, web and verify modules)."""

from __future__ import annotations


class FetchError(Exception):
    """One source could not be fetched (reported, the others go on)."""


class MissingInMirror(FetchError):
    """The mirror does not have the file."""
