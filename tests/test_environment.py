"""The two descriptions of the course's environment must agree, and must pin every package exactly."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\[\]-]+)==([0-9][A-Za-z0-9.]*)$")


def requirement_lines():
    lines = []
    for raw in (ROOT / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def conda_pip_lines():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return [line.split("#", 1)[0].strip() for line in pip_sections[0]], env


def test_every_requirement_is_pinned_exactly():
    for line in requirement_lines():
        if line == "-e .":
            continue
        assert PIN.match(line), f"requirements.txt line {line!r} is not pinned with '=='"


def test_environment_yml_matches_requirements():
    conda_lines, env = conda_pip_lines()
    assert sorted(conda_lines) == sorted(requirement_lines())
    assert "python=3.11" in env["dependencies"], "environment.yml must pin Python 3.11, as the README says"


def test_core_versions_are_the_tested_ones():
    pins = dict(PIN.match(line).groups() for line in requirement_lines() if PIN.match(line))
    assert pins["tensorflow"].startswith("2.21.")
    assert pins["keras"].startswith("3.15.")
    for name in ("jupyterlab", "nbval", "papermill", "matplotlib", "numpy", "ipywidgets", "ipykernel"):
        assert name in pins, f"{name} is missing from requirements.txt"


def test_installed_versions_match_the_pins():
    from importlib.metadata import PackageNotFoundError, version

    pins = dict(PIN.match(line).groups() for line in requirement_lines() if PIN.match(line))
    for name in ("tensorflow", "keras", "numpy", "papermill", "nbval"):
        try:
            assert version(name) == pins[name], f"{name} {version(name)} installed, {pins[name]} pinned"
        except PackageNotFoundError:
            raise AssertionError(f"{name} is pinned but not installed: pip install -r requirements.txt")
