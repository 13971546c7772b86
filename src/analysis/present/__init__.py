"""What a reader sees: figures (one theme), tables for people and narrative sentences."""
