// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";
  // After a failed submit, move focus to the error summary so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
    // The queue's "tick every row on this page" box: shown only where this script runs.
    document.querySelectorAll("[data-pick-all]").forEach(function (all) {
      var boxes = all.form ? all.form.querySelectorAll('input[type="checkbox"][name="' + all.dataset.pickAll + '"]') : [];
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
    });
  });
})();
