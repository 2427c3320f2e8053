"""Per-language profiles: the single source of truth for language codes and settings.

Data plus lookups only; imports neither ``processors`` nor ``pipelines``.
"""
