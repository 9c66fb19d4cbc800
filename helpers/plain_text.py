"""Plain-text outputs without terminal escape codes.

Keras 3 prints ``model.summary()`` with the ``rich`` library. In a Jupyter kernel rich displays every print as two
versions: ``text/html`` (the coloured table a notebook shows) and ``text/plain``. Rich renders the plain version as
for a colour terminal, with ANSI escape codes (``ESC[1m`` bold, ``ESC[38;5;33m`` colours), and that is what the
stored notebook keeps for readers of the plain text: a GitHub diff, ``nbconvert --to markdown``, a terminal, a
screen reader. :func:`plain_text_rich_output` (called by :func:`helpers.setup`) strips the codes from the
``text/plain`` version only; the HTML version is unchanged.
"""

from __future__ import annotations

import functools
import re

# CSI sequences (ESC [ parameters intermediates final byte: colours, bold, cursor moves) and the two-byte escapes.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_MARK = "_dlfb_plain_text"


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (``"\\x1b[1mModel\\x1b[0m"`` -> ``"Model"``)."""
    return ANSI_ESCAPE.sub("", text)


def _plain_text_bundle(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        data = method(self, *args, **kwargs)
        if isinstance(data, dict) and isinstance(data.get("text/plain"), str):
            data = {**data, "text/plain": strip_ansi(data["text/plain"])}
        return data

    setattr(wrapper, _MARK, True)
    return wrapper


def plain_text_rich_output() -> bool:
    """Make rich's Jupyter outputs carry a ``text/plain`` version without escape codes. Idempotent.

    Wraps ``_repr_mimebundle_`` of ``rich.jupyter.JupyterRenderable`` (what ``Console.print`` displays in a
    notebook, e.g. ``model.summary()``) and of ``rich.jupyter.JupyterMixin`` (a rich object as a cell's value).
    Returns False when rich is not installed (nothing to do), True otherwise.
    """
    try:
        import rich.jupyter
    except ImportError:  # pragma: no cover - rich comes with Keras 3
        return False
    for cls in (rich.jupyter.JupyterRenderable, rich.jupyter.JupyterMixin):
        method = cls.__dict__.get("_repr_mimebundle_")
        if method is not None and not getattr(method, _MARK, False):
            setattr(cls, "_repr_mimebundle_", _plain_text_bundle(method))
    return True
