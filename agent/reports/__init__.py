"""Renderers of RunResults and tickets for people and machines."""
