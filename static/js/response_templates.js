// Standard texts (progressive enhancement). Without this script the "insert" button next to a select
// marked data-template-target posts the form and the server inserts the chosen text. With it, the
// button inserts the chosen option's text (its data-text) into that text field at once, after what is
// already written, and moves focus there. (Not on "change": arrow keys fire it on every option.)
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-template-target]").forEach(function (select) {
      var target = document.getElementById(select.getAttribute("data-template-target"));
      var button = select.form && select.form.querySelector("[data-template-button]");
      if (!target || !button) { return; }
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var option = select.options[select.selectedIndex];
        var text = option && option.getAttribute("data-text");
        if (!text) { select.focus(); return; }
        var written = target.value.trim();
        target.value = written ? written + "\n\n" + text : text;
        select.selectedIndex = 0;
        target.focus();
      });
    });
  });
})();
