"""Show an ipywidget so that its stored output is useful where widgets cannot run.

A notebook run by papermill is untrusted when first opened, so JupyterLab does not render its saved
widgets: for each output it picks the first *safe* mime type of the bundle (``image/png`` before
``text/plain``; the widget view is not safe). A trusted notebook (one the learner ran or saved) picks the
widget view first; so do the course website (myst-nb) and nbviewer-like renderers that load the saved widget
state. A terminal or an nbconvert text export shows ``text/plain``. ipywidgets puts the widget's ``repr``
there (``VBox(children=(...``), which tells a reader nothing.

- :func:`show` sends a widget's view with a ``text/plain`` that a person wrote (the self-check quizzes).
- :func:`show_interactive` is for ``ipywidgets.interactive`` explorers that draw a figure: it draws the
  figure for the controls' current (default) values once, puts it in the widget's output area (so the live
  or saved widget shows it, and pressing a manual button replaces it), and displays two outputs: a plain
  line saying what the default setting is and that the controls need a running kernel, and the widget
  view carrying the same figure as ``image/png``, which untrusted JupyterLab shows in its place.
"""

from __future__ import annotations

import base64
import html
import textwrap

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def bundle(widget, plain_text: str, image_png: str | None = None) -> dict:
    """The display data of ``widget``: its widget view, ``plain_text`` in place of its repr and, when given,
    ``image_png`` (base64 text) shown instead wherever widgets do not run but images do."""
    data = dict(widget._repr_mimebundle_())
    data["text/plain"] = plain_text
    if image_png is not None:
        data["image/png"] = image_png
    return data


def show(widget, plain_text: str, image_png: str | None = None) -> None:
    """Display ``widget`` with ``plain_text`` (and ``image_png``) for where the widget itself cannot be shown."""
    from IPython.display import display

    display(bundle(widget, plain_text, image_png), raw=True)


def plain_line(*sentences: str, width: int = 100) -> str:
    """``sentences`` as plain text wrapped at ``width`` characters (a web page shows text/plain unwrapped)."""
    return "\n".join(line for sentence in sentences for line in textwrap.wrap(sentence, width))


def current_values(controls) -> dict:
    """``{argument: value}`` that ``controls`` (an ``ipywidgets.interactive``) passes to its function now."""
    return {w._kwarg: w.get_interact_value() for w in controls.kwargs_widgets}


def describe_values(controls) -> str:
    """The controls' current values as ``description = value`` pairs, e.g. ``learning rate = 0.05, start w = 4``."""
    parts = []
    for w in controls.kwargs_widgets:
        if w not in controls.children:  # widgets.fixed(...) arguments: not controls
            continue
        value = w.get_interact_value()
        label = getattr(w, "description", "") or w._kwarg
        if label and not getattr(w, "disabled", False):
            parts.append(f"{label} = {value:g}" if isinstance(value, float) else f"{label} = {value}")
    return ", ".join(parts)


def _as_output(item: dict) -> dict:
    """An output of IPython's capture as a notebook ``display_data`` output, images base64-encoded."""
    data = {mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
            for mime, value in item["data"].items()}
    return {"output_type": "display_data", "data": data, "metadata": dict(item.get("metadata") or {})}


def image_with_alt(png_base64: str, alt: str, metadata: dict | None = None) -> str:
    """An ``<img>`` showing the base64 PNG ``png_base64`` with the text alternative ``alt`` (and the width and
    height of the image's display ``metadata``, as Jupyter would give it)."""
    size = "".join(f' {key}="{int(value)}"' for key, value in (metadata or {}).items()
                   if key in ("width", "height") and isinstance(value, (int, float)))
    return f'<img src="data:image/png;base64,{png_base64}" alt="{html.escape(alt, quote=True)}"{size}>'


def _described_image(output: dict, alt: str) -> dict:
    """``output`` with its ``image/png`` replaced by ``text/html``: the same picture with the alternative text
    ``alt``. A widget's output area (JupyterLab, the website's widget manager) draws a PNG as an ``<img>`` with no
    ``alt``, which a screen reader cannot describe; it draws HTML (trusted there) as written."""
    data = dict(output["data"])
    if "image/png" not in data:
        return output
    png = data.pop("image/png")
    data["text/html"] = image_with_alt(png, alt, output["metadata"].get("image/png"))
    return {**output, "data": data}


def draw_default(controls, alt: str | None = None) -> list[dict]:
    """Call the function of ``controls`` with its current values, capturing what it displays; put those outputs
    in the widget's output area (replacing what was there) and return them as notebook outputs.

    ``alt``: the text alternative of the figures drawn; when given, the output area holds each figure as an HTML
    ``<img>`` carrying it (the returned outputs keep the PNG)."""
    from IPython.utils.capture import capture_output

    with capture_output(stdout=False, stderr=False, display=True) as captured:
        controls.f(**current_values(controls))
    outputs = [_as_output({"data": o.data, "metadata": o.metadata}) for o in captured.outputs]
    controls.out.outputs = tuple(outputs if alt is None else [_described_image(o, alt) for o in outputs])
    return outputs


def show_interactive(controls, what: str, alt: str | None = None) -> None:
    """Display an ``ipywidgets.interactive`` explorer whose function draws a figure, useful everywhere.

    ``what`` names the explorer (e.g. ``"Gradient descent explorer"``). Outputs: a plain line
    ``"<what>, default setting shown (...). The controls redraw the figure once this cell has run in Jupyter
    with a live kernel."``
    and the widget, whose output area holds the default figure; where widgets do not run (an untrusted
    notebook) the same figure is shown as a PNG.

    The default figure in the widget carries ``alt`` as its text alternative (by default ``"<what>: the figure
    for the default setting (...)."``), for screen readers. (Every control already has a label:
    ``ipywidgets.interactive`` gives a control without a description its argument's name.)
    """
    from IPython.display import display

    values = describe_values(controls)
    outputs = draw_default(controls, alt or f"{what}: the figure for the default setting ({values}).")
    png = next((o["data"]["image/png"] for o in outputs if "image/png" in o["data"]), None)
    line = plain_line(f"{what}, default setting shown ({values}).",
                      "The controls redraw the figure once this cell has run in Jupyter with a live kernel.")
    display({"text/plain": line}, raw=True)
    show(controls, line, png)
