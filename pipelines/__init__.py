"""Dagster definitions (``pipelines.definitions``) and the ``narratives`` command line (``pipelines.cli``)."""
