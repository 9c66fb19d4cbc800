"""Sphinx configuration of the course website (built by ``python -m helpers site``, see helpers/course/website.py).

The pages are not written here: ``helpers.course.website`` stages them (the stored notebooks, each with a "Run it
yourself" box, and a generated index.md) into build/site/src and runs Sphinx with this folder as its
configuration folder. Notebooks are rendered from their stored outputs (myst-nb, execution off).

Everything the pages load is served from the site itself, so it reads offline, from file:// as well as from
a web server: the theme's own files (sphinx-book-theme), MathJax 3 from the PyPI package sphinx-mathjax-offline
(its single-file SVG build, which needs no web fonts), and the Jupyter widget manager from _static/jupyter-widgets
(see the README there).
"""

from importlib import metadata
from pathlib import Path

project = "Deep Learning for Beginners, executed"
author = "the course authors"
copyright = "the course authors; notebooks after LearnOpenCV's Deep Learning for Beginners"

extensions = ["myst_nb"]
exclude_patterns = ["originals/**", "**.ipynb_checkpoints"]

# --- notebooks: shown as stored, never executed
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
# The widget manager of ipywidgets 8, served from this site rather than from a CDN (myst-nb adds it only to the
# pages whose notebook saved widget state). Its non-AMD build needs no require.js.
nb_ipywidgets_js = {"jupyter-widgets/embed.js": {}}


def _mathjax_file() -> str:
    """Path of MathJax 3's single-file TeX-to-SVG build shipped by sphinx-mathjax-offline."""
    name = "sphinx-mathjax-offline"
    try:
        path = Path(metadata.distribution(name).locate_file(f"{name}/static/mathjax/tex-svg-full.js"))
    except metadata.PackageNotFoundError:
        raise RuntimeError(f"The site typesets formulas offline with MathJax from the PyPI package {name}, "
                           f"which is not installed: pip install -r requirements.txt") from None
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall {name} (pip install --force-reinstall -r requirements.txt)")
    return str(path)


# --- math: MathJax 3, SVG output (no font files to load), from the site's _static folder
mathjax_path = "tex-svg-full.js"

# --- theme
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static", _mathjax_file()]
html_css_files = ["course.css"]
# Overrides of the theme's templates: search-button-field.html (an accessible name that matches its text)
templates_path = ["_templates"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}  # a mode the theme knows on first visit (no console error)
# Search result summaries are fetched from the result pages, which a browser refuses for file:// pages; without
# them the search works the same from file:// and from a web server.
html_show_search_summary = False
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False  # the pages' sources are notebooks: each page links its .ipynb in the "Run it yourself" box
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,  # the "Run it yourself" box links the stored notebook itself
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "navbar_persistent": [],  # the sidebar has the search field: no second one in the top bar
}


def setup(app):
    # After MathJax (priority 500, deferred), before the widgets render: see _static/widgets-mathjax3.js.
    app.add_js_file("widgets-mathjax3.js", priority=501, loading_method="defer")
    # Accessible names for the widgets' slider handles (see _static/widgets-a11y.js).
    app.add_js_file("widgets-a11y.js", priority=502, loading_method="defer")
    app.connect("html-page-context", _accessible_tables)


def _accessible_tables(app, pagename, templatename, context, doctree):
    """Empty header cells of a page's tables written as data cells (see helpers.course.website_pages.accessible_tables)."""
    from helpers.course.website_pages import accessible_tables

    if "body" in context:
        context["body"] = accessible_tables(context["body"])
