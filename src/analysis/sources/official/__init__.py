"""Readers of the official open data (Destatis/GENESIS, GV-ISys, BBSR, BKG, PLZ) and their catalogue."""
