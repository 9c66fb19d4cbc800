"""Plain-text outputs free of terminal escape codes (issue 23): Keras's model.summary() in a notebook.

In a Jupyter kernel rich displays model.summary() as text/html and text/plain, and writes the plain version with
ANSI escape codes (ESC[1m, ESC[38;5;33m) that the stored notebooks kept. helpers.setup() installs
helpers.plain_text.plain_text_rich_output(), which strips them from text/plain and leaves the HTML alone.
"""

import json
from pathlib import Path

import pytest

from helpers import plain_text

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_strip_ansi_removes_colour_and_bold_codes():
    assert plain_text.strip_ansi("\x1b[1mModel: \"mlp\"\x1b[0m") == 'Model: "mlp"'
    assert plain_text.strip_ansi("\x1b[38;5;34m669,706\x1b[0m (2.55 MB)") == "669,706 (2.55 MB)"
    assert plain_text.strip_ansi("┃ Layer (type) ┃ no codes") == "┃ Layer (type) ┃ no codes"


def _summary_bundles(monkeypatch):
    """Run keras's model.summary() as in a Jupyter kernel; return the mime bundles it displays."""
    keras = pytest.importorskip("keras")
    pytest.importorskip("IPython")
    import IPython.display
    import rich.console

    shown = []
    monkeypatch.setattr(rich.console, "_is_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **kwargs: shown.extend(objects))
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, name="hidden"),
                              keras.layers.Dense(1, name="output")], name="tiny")
    model.summary()
    bundles = [obj._repr_mimebundle_(include=None, exclude=None) for obj in shown]
    assert bundles, "model.summary() displayed nothing through rich's Jupyter path"
    return bundles


def test_model_summary_plain_text_has_no_escape_codes(monkeypatch):
    import rich.jupyter

    plain_text.plain_text_rich_output()
    plain_text.plain_text_rich_output()   # idempotent: wrapped once
    wrapped = rich.jupyter.JupyterRenderable.__dict__["_repr_mimebundle_"]
    assert not getattr(wrapped.__wrapped__, plain_text._MARK, False)
    bundles = _summary_bundles(monkeypatch)
    text = "".join(bundle["text/plain"] for bundle in bundles)
    html = "".join(bundle["text/html"] for bundle in bundles)
    assert "\x1b" not in text
    assert 'Model: "tiny"' in text and "Total params: 19" in text and "hidden (Dense)" in text
    assert "<span" in html and "Dense" in html          # the HTML version keeps its styling

    # Without the wrapper rich's plain text carries the codes: the test above would catch their return.
    raw = [wrapped.__wrapped__(obj, None, None)["text/plain"]
           for obj in [rich.jupyter.JupyterRenderable("<pre></pre>", "\x1b[1mModel\x1b[0m")]]
    assert raw == ["\x1b[1mModel\x1b[0m"]


def test_setup_installs_the_plain_text_output(monkeypatch):
    import rich.jupyter

    import helpers

    original = rich.jupyter.JupyterRenderable.__dict__["_repr_mimebundle_"]
    monkeypatch.setattr(rich.jupyter.JupyterRenderable, "_repr_mimebundle_", getattr(original, "__wrapped__", original))
    state = helpers.setup(figure_style=False)
    assert state["plain_text"] is True
    bundle = rich.jupyter.JupyterRenderable("<pre>x</pre>", "\x1b[1mx\x1b[0m")._repr_mimebundle_(None, None)
    assert bundle == {"text/plain": "x", "text/html": "<pre>x</pre>"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_plain_text_outputs_have_no_escape_codes(path):
    """Streams and text/plain of the stored notebooks (error tracebacks excepted: IPython colours those)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")] + [output.get("data", {}).get("text/plain", "")]
            text = "".join("".join(t) if isinstance(t, list) else t for t in texts)
            if "\x1b[" in text:
                found.append(f"cell {index}: {plain_text.strip_ansi(text)[:60]!r}")
    assert not found, f"{path.name}: escape codes in stored plain-text outputs (re-execute it): {found}"
