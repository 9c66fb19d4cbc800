"""Shared pytest set-up: the fixture notebooks are inputs to the runner's tests, not course notebooks."""

collect_ignore_glob = ["fixtures/*"]
