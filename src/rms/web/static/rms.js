// RMS pages: the only script. Everything works without it; it adds two small things.
// 1. The waking page counts the seconds it has waited (the page reloads itself anyway).
// 2. Delete buttons ask before they send their form.
(function () {
  "use strict";
  var elapsed = document.getElementById("elapsed");
  if (elapsed) {
    var start = Date.now() - 1000 * Number(elapsed.getAttribute("data-elapsed") || 0);
    window.setInterval(function () {
      elapsed.textContent = Math.round((Date.now() - start) / 1000) + " s";
    }, 1000);
  }
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
