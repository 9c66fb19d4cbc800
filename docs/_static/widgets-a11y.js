/* Names for the sliders of the saved Jupyter widgets. ipywidgets 8 (@jupyter-widgets/controls 2, drawn by noUiSlider)
   writes a slider's description as a <label> beside it, but the element a screen reader reaches, the handle
   (role="slider"), is a <div> that no <label> can name: it has no accessible name (axe-core's aria-input-field-name).
   Each handle is given aria-labelledby pointing at its widget's description label, so it is announced as, e.g.,
   "learning rate, slider, 0.05". Widgets render after page load, so new ones are labelled as they appear.
   tests/test_course_website.py checks every page with axe-core. */
(function () {
  var count = 0;
  function label(root) {
    root.querySelectorAll(".widget-slider").forEach(function (widget) {
      var text = widget.querySelector(".widget-label");
      if (!text || !text.textContent.trim()) { return; }  // no description to name it by (helpers give every one)
      if (!text.id) { text.id = "widget-slider-label-" + (++count); }
      widget.querySelectorAll('[role="slider"]').forEach(function (handle) {
        if (!handle.hasAttribute("aria-label") && !handle.hasAttribute("aria-labelledby")) {
          handle.setAttribute("aria-labelledby", text.id);
        }
      });
    });
  }
  function start() {
    label(document);
    new MutationObserver(function () { label(document); })
      .observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
