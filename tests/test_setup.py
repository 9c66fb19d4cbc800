"""helpers.setup(): the explicit first-cell call (TensorFlow's C++ log level, the figure style)."""

import matplotlib
import pytest

import helpers


def test_setup_sets_level_3_and_the_figure_style(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with matplotlib.rc_context({"axes.spines.top": True}):
        state = helpers.setup()
        assert matplotlib.rcParams["axes.spines.top"] is False
    assert state["TF_CPP_MIN_LOG_LEVEL"] == "3" and state["figure_style"] is True


def test_setup_keeps_the_users_own_level(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    assert helpers.setup(figure_style=False)["TF_CPP_MIN_LOG_LEVEL"] == "1"


@pytest.mark.parametrize("level", [4, -1, "2", True])
def test_setup_checks_the_level(level):
    with pytest.raises(ValueError, match="tf_log_level"):
        helpers.setup(tf_log_level=level, figure_style=False)
