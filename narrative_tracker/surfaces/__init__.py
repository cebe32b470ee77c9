"""Stage package: see narrative_tracker/__init__.py for the order of the stages."""
