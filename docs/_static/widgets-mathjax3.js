/* The Jupyter widget manager (@jupyter-widgets/html-manager 1.x) typesets widget labels with MathJax 2's
   MathJax.Hub.Queue whenever window.MathJax exists; this site loads MathJax 3, which has no Hub. Give it the one
   call it makes, done the MathJax 3 way. Loaded deferred, after MathJax and before the widgets render. */
(function () {
  if (!window.MathJax || window.MathJax.Hub) { return; }
  window.MathJax.Hub = {
    Queue: function (job) {
      var element = job && job[2];
      var startup = window.MathJax.startup;
      if (!element || !startup || !startup.promise) { return; }
      startup.promise.then(function () { return window.MathJax.typesetPromise([element]); })
        .catch(function (error) { console.warn("MathJax could not typeset a widget label", error); });
    }
  };
})();
