"""Reading the course website the way a reader does: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium, against the site served by a local HTTP server.

:func:`check_page` returns a list of problems (empty when the page is fine): console errors, images that did not
load, internal links that do not resolve (missing file or missing ``#anchor``), formulas MathJax did not typeset,
and, where the notebook saved widget state, widget controls missing from the DOM. Used by tests/test_course_website.py.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
INSTALL_HINT = "install them with: apt-get install chromium chromium-driver"
ID_RE = re.compile(r"""\bid=["']([^"']+)["']""")
WIDGET_CONTROLS = (".widget-slider, .widget-dropdown, .widget-button, .widget-text, .widget-checkbox, "
                   ".widget-toggle-buttons, .jupyter-widgets input, .jupyter-widgets select")


def find_browser() -> tuple[str, str] | None:
    """Paths of Chromium and its driver, or None when either is missing."""
    browser = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), shutil.which("chromium"))
    driver = next((p for p in DRIVER_CANDIDATES if os.access(p, os.X_OK)), shutil.which("chromedriver"))
    return (browser, driver) if browser and driver else None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on an unused port of 127.0.0.1; yields the base URL (ending in ``/``)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 1000):
    """A headless Chromium driven by Selenium, with the browser console log readable."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError(f"Chromium and chromedriver are needed to test the site in a browser; {INSTALL_HINT}")
    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, script: str, timeout: float = 20.0):
    """Poll the JavaScript expression ``script`` until it is truthy; returns its value (falsy on time-out)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(script))
    except TimeoutException:
        return None


def settle(driver) -> None:
    """Wait until the page, its images, MathJax and the widget manager are done."""
    wait_for(driver, "return document.readyState === 'complete'")
    driver.execute_script("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });")
    wait_for(driver, "return Array.from(document.images).every(i => i.complete)")
    wait_for(driver, "return !window.MathJax || (MathJax.startup && MathJax.startup.promise && "
                     "(MathJax.startup.promise.then(() => { window.__mathjax_done = true; }), window.__mathjax_done))")
    wait_for(driver, "return document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]')"
                     ".length === 0 || document.querySelectorAll('.jupyter-widgets').length > 0", timeout=10)


def console_errors(driver) -> list[str]:
    """Errors the browser console received since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


class LinkChecker:
    """Resolves internal links once each: the target must be served, and its ``#anchor`` must exist."""

    def __init__(self, base_url: str, *also: str):
        self.bases = (base_url, *also)  # the served site's URL, and e.g. its folder as a file:// URL
        self.ids: dict[str, set[str] | None] = {}

    def page_ids(self, url: str) -> set[str] | None:
        """The element ids of the page at ``url``; None when it cannot be fetched."""
        if url not in self.ids:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    body = response.read()
                text = body.decode("utf-8", "replace") if url.endswith((".html", "/")) else ""
                self.ids[url] = set(ID_RE.findall(text))
            except (urllib.error.URLError, OSError):
                self.ids[url] = None
        return self.ids[url]

    def problem(self, href: str) -> str | None:
        """Why the internal link ``href`` does not resolve (None when it does, or is external)."""
        if not href.startswith(self.bases):
            return None
        target, _, anchor = href.partition("#")
        if target.startswith("file:"):
            target = target.partition("?")[0]  # a file:// page ignores its query (search.html?q=...)
        ids = self.page_ids(target)
        if ids is None:
            return f"dead link: {href} (not found)"
        if anchor and urllib.parse.unquote(anchor) not in ids:
            return f"dead link: {href} (no element with id {anchor!r})"
        return None


def check_page(driver, url: str, links: LinkChecker, expect_widgets: bool = False,
               expect_explorer: bool = False) -> list[str]:
    """Load ``url`` and return what is wrong with it (an empty list when nothing is).

    ``expect_explorer``: the page holds an interactive explorer (``ipywidgets.interactive``), which must show
    a slider or a list of choices and its figure (a loaded image inside the widget's output).
    """
    console_errors(driver)  # drop what earlier pages left in the log
    driver.get(url)
    settle(driver)
    problems = [f"console error: {message}" for message in console_errors(driver)]
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.getAttribute('src'))")
    problems += [f"image not loaded: {src}" for src in broken]
    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    problems += sorted({p for p in map(links.problem, hrefs) if p})
    raw_math = driver.execute_script(
        "return Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container'))"
        ".map(m => m.textContent.slice(0, 60))")
    problems += [f"formula not typeset: {text}" for text in raw_math]
    if expect_widgets:
        controls = driver.execute_script(f"return document.querySelectorAll('{WIDGET_CONTROLS}').length")
        if not controls:
            problems.append("no widget controls in the DOM, though the notebook saved widget state")
    if expect_explorer:
        explorer = driver.execute_script(
            "const w = document.querySelector('.widget-interact'); if (!w) return null;"
            "return {controls: w.querySelectorAll('.widget-slider, .widget-dropdown').length,"
            "        figures: Array.from(w.querySelectorAll('.widget-output img'))"
            "                 .filter(i => i.complete && i.naturalWidth > 0).length};")
        if not explorer:
            problems.append("the interactive explorer is missing (no .widget-interact in the DOM)")
        elif not explorer["controls"] or not explorer["figures"]:
            problems.append(f"the interactive explorer shows {explorer['controls']} slider(s)/list(s) and "
                            f"{explorer['figures']} figure(s); it needs both")
    widget_errors = driver.execute_script(
        "return Array.from(document.querySelectorAll('.jupyter-widgets, .widget-error'))"
        ".filter(e => /Error displaying widget|model not found/i.test(e.textContent)).length")
    if widget_errors:
        problems.append(f"{widget_errors} widget(s) show an error instead of their controls")
    return problems


def search_results(driver, base_url: str, word: str) -> list[str]:
    """The pages the site's search lists for ``word`` (their URLs)."""
    driver.get(f"{base_url}search.html?q={urllib.parse.quote(word)}")
    wait_for(driver, "return document.querySelectorAll('#search-results ul.search li').length > 0 || "
                     "/did not match|no results/i.test((document.querySelector('#search-results') || {}).textContent "
                     "|| '')", timeout=30)
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href)")


def full_page_screenshot(driver, path: Path, width: int = 1280) -> Path:
    """Save a PNG of the whole page (the window grown to the page's height, at most 30,000 px)."""
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 30000)")
    driver.set_window_size(width, max(height, 600))
    settle(driver)
    driver.save_screenshot(str(path))
    return path


RESOURCE_RE = re.compile(r"""<(?:script|img|iframe)\b[^>]*\bsrc=["']([^"']+)["']|<link\b[^>]*\bhref=["']([^"']+)["']""")


def resource_urls(html: str) -> list[str]:
    """URLs a page loads by itself: scripts, images, frames and <link> files (stylesheets, icons, preloads)."""
    return [a or b for a, b in RESOURCE_RE.findall(html)]


# --- accessibility: axe-core (https://github.com/dequelabs/axe-core), installed from npm by .ci/run ---------------

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The axe-core release the audit runs (``.ci/run`` installs exactly this one; the test checks the version).
AXE_VERSION = "4.14.1"
AXE_DIR = REPO_ROOT / ".ci" / "axe"  # git-ignored: ``npm install --no-save --prefix .ci/axe axe-core@AXE_VERSION``
AXE_INSTALL_HINT = f"install it with: npm install --no-save --prefix .ci/axe axe-core@{AXE_VERSION}"
#: Impacts that fail the audit (axe's scale: minor, moderate, serious, critical).
AXE_FAILING_IMPACTS = ("serious", "critical")


def find_axe() -> Path | None:
    """Path of ``axe.min.js`` (``$AXE_CORE_JS``, else the copy ``.ci/run`` installs), or None when missing."""
    candidates = [os.environ.get("AXE_CORE_JS"), AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def axe_audit(driver, axe_source: str, exclude: tuple[str, ...] = ()) -> dict:
    """Run axe-core on the page loaded in ``driver`` (call :func:`settle` first).

    ``axe_source`` is the text of ``axe.min.js``: injected into the page through Selenium, so nothing is fetched
    from another host. ``exclude``: CSS selectors of parts of the page the audit leaves out. Returns
    ``{"version": axe's version, "violations": [...]}``, each violation ``{"id", "impact", "help", "nodes":
    [{"target", "html", "impact", "summary", "in_widget_output"}]}`` (``in_widget_output``: the node is inside a
    widget's output area, e.g. an explorer's figure).
    """
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(axe_source)
    driver.set_script_timeout(120)
    return driver.execute_async_script("""
        const [exclude, done] = [arguments[0], arguments[arguments.length - 1]];
        const context = exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document;
        axe.run(context, {resultTypes: ['violations']}).then(r => done({
            version: axe.version,
            violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => {
                    const element = typeof n.target[0] === 'string' ? document.querySelector(n.target[0]) : null;
                    return {target: n.target.join(' '), html: n.html.slice(0, 200), impact: n.impact,
                            summary: n.failureSummary,
                            in_widget_output: !!(element && element.closest('.widget-output'))};
                })}))
        })).catch(e => done({version: axe.version, error: String(e), violations: []}));
    """, list(exclude))


def failing(audit: dict, impacts: tuple[str, ...] = AXE_FAILING_IMPACTS) -> list[tuple[str, dict]]:
    """``(rule, node)`` for each node of ``audit`` whose violation is of one of ``impacts``."""
    return [(v["id"], n) for v in audit["violations"] for n in v["nodes"] if (n.get("impact") or v["impact"]) in impacts]


def describe(rule: str, node: dict) -> str:
    """One line for a node that failed ``rule``: ``rule: target: html``."""
    return f"{rule}: {node['target']}: {node['html']}"
