"""Builders for the tutorials' networks, one module per topic.

Import the module the notebook needs, e.g. ``from helpers.models import mlp``.
"""
