"""helpers.widget_display (widgets useful where they cannot run), helpers.course.jupyterlab_settings (widget state saved
by JupyterLab) and the plain labels of a narrow log axis (helpers.thirty_thousand_feet.plain_log_labels)."""

import base64
import json
import subprocess
import sys

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import thirty_thousand_feet, widget_display  # noqa: E402
from helpers.course import jupyterlab_settings  # noqa: E402


def test_bundle_carries_the_view_the_written_text_and_the_picture():
    slider = widgets.IntSlider(value=3, description="units")
    data = widget_display.bundle(slider, "three units", image_png="iVBOR")
    assert data[widget_display.WIDGET_VIEW]["model_id"] == slider.model_id
    assert data["text/plain"] == "three units" and data["image/png"] == "iVBOR"
    assert "image/png" not in widget_display.bundle(slider, "three units")


def test_describe_values_names_the_controls_not_fixed_arguments_nor_disabled_ones():
    def draw(rate=0.05, kind="a", steps=20, alpha=0.1):
        return None

    alpha = widgets.FloatSlider(value=0.1, description="α", disabled=True)
    controls = widgets.interactive(draw, rate=widgets.FloatLogSlider(value=0.05, min=-3, max=0, description="learning rate"),
                                   kind=widgets.Dropdown(options=["a", "b"], value="a", description="kind"),
                                   steps=widgets.fixed(20), alpha=alpha)
    assert widget_display.describe_values(controls) == "learning rate = 0.05, kind = a"
    assert widget_display.current_values(controls) == {"rate": 0.05, "kind": "a", "steps": 20, "alpha": 0.1}
    alpha.disabled = False
    assert widget_display.describe_values(controls).endswith("α = 0.1")


def test_captured_images_become_notebook_outputs_in_base64():
    output = widget_display._as_output({"data": {"image/png": b"\x89PNG", "text/plain": "<Figure>"},
                                        "metadata": None})
    assert output == {"output_type": "display_data", "metadata": {},
                      "data": {"image/png": base64.b64encode(b"\x89PNG").decode(), "text/plain": "<Figure>"}}


def test_plain_line_wraps_each_sentence():
    line = widget_display.plain_line("a " * 80, "Run it.", width=40)
    assert all(len(part) <= 40 for part in line.splitlines()) and line.endswith("\nRun it.")


def test_jupyterlab_settings_install_writes_the_override_once(tmp_path):
    assert not jupyterlab_settings.installed(tmp_path)
    target = jupyterlab_settings.install(tmp_path)
    assert target == tmp_path / "overrides.d" / "dlfb-helpers.json"
    assert json.loads(target.read_text())["@jupyter-widgets/jupyterlab-manager:plugin"] == {"saveState": True}
    assert jupyterlab_settings.install(tmp_path) == target and jupyterlab_settings.installed(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dlfb-helpers.json", "overrides.d"]


@pytest.mark.slow
def test_jupyterlab_settings_default_to_this_environment_and_import_writes_nothing(tmp_path):
    code = ("import helpers.course.jupyterlab_settings as j, sys; from pathlib import Path; "
            "print(Path(j.app_settings_dir()).resolve().is_relative_to(Path(sys.prefix).resolve()))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PATH": "", "HOME": str(tmp_path)})
    assert result.stdout.strip() == "True"
    assert list(tmp_path.iterdir()) == []


def test_a_log_axis_under_one_decade_gets_plain_tick_labels():
    steps = np.arange(21)
    fig = thirty_thousand_feet.plot_descent_runs(lambda w: 1.0986 + 0.002 * (w - 3) ** 2,
                                   {"run": (0.05, 3.0 + 0.9 ** steps)}, minimum=3.0)
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[-1].get_yticklabels()]
    assert labels and all("10^" not in text and "times" not in text for text in labels), labels
    assert fig.axes[-1].get_yticklabels(minor=True) == []
    wide = thirty_thousand_feet.plot_descent_runs(lambda w: 1 + (w - 3) ** 2, {"run": (0.05, 3.0 + 10 * 0.5 ** steps)})
    wide.canvas.draw()
    assert any("10^" in t.get_text() for t in wide.axes[-1].get_yticklabels())
    plt.close("all")


def test_the_explorer_figure_in_the_widget_carries_its_alternative_text():
    """draw_default puts each figure in the widget's output area as an HTML <img alt> (the output area draws a bare
    PNG with no alt); the full path, through IPython's display, is checked in tests/test_course_website.py."""
    output = {"output_type": "display_data", "metadata": {"image/png": {"width": 300}},
              "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}
    shown = widget_display._described_image(output, 'a "curve" & rate 0.05')
    assert shown["data"] == {"text/plain": "<Figure>", "text/html": '<img src="data:image/png;base64,iVBOR" '
                                                                     'alt="a &quot;curve&quot; &amp; rate 0.05" width="300">'}
    assert output["data"]["image/png"] == "iVBOR"  # the notebook output itself keeps the PNG
    text_only = {"output_type": "stream", "metadata": {}, "data": {"text/plain": "x"}}
    assert widget_display._described_image(text_only, "alt") is text_only


def test_image_with_alt_escapes_the_text_and_keeps_the_size():
    tag = widget_display.image_with_alt("iVBOR", "<b>x</b>", {"width": 640.0, "height": 480, "other": 1})
    assert tag == '<img src="data:image/png;base64,iVBOR" alt="&lt;b&gt;x&lt;/b&gt;" width="640" height="480">'
