"""The engine layer: no Flask request, no HTML; usable from CLI, workers and tests."""
