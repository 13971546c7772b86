"""Readers of official statistics files (dispatcher added below)."""
