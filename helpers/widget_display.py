"""Show an ipywidget so that its stored output is useful where widgets cannot run.

A notebook run by papermill is untrusted when first opened, so JupyterLab does not render its saved
widgets and falls back to the output's ``text/plain`` part; a terminal, an nbconvert text export or a
notebook viewer do the same. ipywidgets puts the widget's ``repr`` there (``VBox(children=(...``), which
tells a reader nothing. :func:`show` sends the same widget view with a ``text/plain`` that a person wrote.
"""

from __future__ import annotations

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def bundle(widget, plain_text: str) -> dict:
    """The display data of ``widget``: its widget view, and ``plain_text`` in place of its repr."""
    data = dict(widget._repr_mimebundle_())
    data["text/plain"] = plain_text
    return data


def show(widget, plain_text: str) -> None:
    """Display ``widget`` with ``plain_text`` as the text shown wherever the widget itself cannot be."""
    from IPython.display import display

    display(bundle(widget, plain_text), raw=True)
