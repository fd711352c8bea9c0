// Report form enhancement: show only the choices that fit what is already chosen.
// Without this script every option is shown (grouped) and the server validates the combination.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  // Show the options of `select` whose data-group is `group` (ungrouped options always stay; no group
  // chosen yet: show all).
  function filterGroups(select, group) {
    if (!select) { return; }
    var selected = select.value;
    var keep = null;
    Array.prototype.forEach.call(select.querySelectorAll("option"), function (option) {
      var visible = !group || !option.dataset.group || option.dataset.group === group;
      option.hidden = !visible;
      option.disabled = !visible;
      if (visible && option.value === selected && keep === null) { keep = option; }
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (optgroup) {
      optgroup.hidden = !optgroup.querySelector("option:not([hidden])");
    });
    // A category may sit under several agreements: keep the chosen value if it fits, else clear it.
    if (keep) { keep.selected = true; } else if (selected) { select.value = ""; }
  }

  // Agreements in force on the chosen date (data-valid-from / data-valid-to, ISO dates). When none was,
  // #agreement-none says so (a status message) instead of leaving an empty list.
  function filterAgreements(agreement, date) {
    var offered = 0;
    Array.prototype.forEach.call(agreement.options, function (option) {
      if (!option.dataset.validFrom) { return; }
      var valid = !date || (option.dataset.validFrom <= date &&
        (!option.dataset.validTo || date <= option.dataset.validTo));
      option.hidden = !valid;
      option.disabled = !valid;
      if (valid) { offered += 1; }
      if (!valid && option.selected) { agreement.value = ""; }
    });
    var none = byId("agreement-none");
    if (none) { none.textContent = offered ? "" : none.dataset.message; }
  }

  // The first question: a deviation concerning a child belongs to the BUS process. "Ja" shows where to
  // report instead and hides the form; "Nej" shows the form. Before an answer the form stays hidden,
  // unless the page comes back with errors (then everything the errors point at must be visible).
  function setUpBusQuestion(form) {
    var radios = form.querySelectorAll("input[name=concerns_child]");
    var details = byId("report-details");
    var notice = byId("bus-notice");
    if (!radios.length || !details || !notice) { return; }
    var hasErrors = !!document.querySelector(".error-summary");
    function update() {
      var checked = form.querySelector("input[name=concerns_child]:checked");
      var child = checked && checked.value === "yes";
      notice.hidden = !child;
      details.hidden = child || (!checked && !hasErrors);
    }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", update); });
    // Also when the browser has put back what was typed (Back, reload): that fires no change event.
    window.addEventListener("pageshow", update);
    update();
  }

  // The counterparts: a filter field over the grouped checkboxes and a list of what is chosen. The
  // checkboxes themselves work without this (Tab, Space).
  function setUpCounterparts(picker) {
    var filterBox = picker.querySelector(".counterpart-filter");
    var input = filterBox && filterBox.querySelector("input");
    var count = filterBox && filterBox.querySelector("[data-template]");
    var chosen = picker.querySelector(".counterpart-chosen");
    var chosenList = chosen && chosen.querySelector(".counterpart-chosen-list");
    var boxes = picker.querySelectorAll(".counterpart-groups input[type=checkbox]");
    var groups = picker.querySelectorAll(".counterpart-group");
    function labelOf(box) { return box.labels && box.labels.length ? box.labels[0].textContent.trim() : ""; }
    function showChosen() {
      var names = [];
      Array.prototype.forEach.call(boxes, function (box) { if (box.checked) { names.push(labelOf(box)); } });
      chosenList.textContent = names.length ? names.join(", ") : chosen.dataset.none;
    }
    function applyFilter() {
      var words = input.value.trim().toLocaleLowerCase("sv").split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(groups, function (group) {
        var legend = group.querySelector("legend").textContent.toLocaleLowerCase("sv");
        var visibleInGroup = 0;
        Array.prototype.forEach.call(group.querySelectorAll(".form-check"), function (row) {
          var box = row.querySelector("input");
          var text = legend + " " + labelOf(box).toLocaleLowerCase("sv");
          // Chosen boxes stay visible, so a filter never hides what is selected.
          var visible = box.checked || words.every(function (word) { return text.indexOf(word) !== -1; });
          row.hidden = !visible;
          if (visible) { visibleInGroup += 1; }
        });
        group.hidden = !visibleInGroup;
        shown += visibleInGroup;
      });
      count.textContent = !words.length ? "" : shown ? count.dataset.template
        .replace("%(shown)s", shown).replace("%(total)s", boxes.length) : count.dataset.empty;
    }
    if (chosen && chosenList) {
      chosen.hidden = false;
      picker.addEventListener("change", showChosen);
      window.addEventListener("pageshow", showChosen);
      showChosen();
    }
    if (filterBox && input && count) {
      filterBox.hidden = false;
      input.addEventListener("input", applyFilter);
      // Enter in the filter must not send the form.
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = byId("report-form");
    if (!form) { return; }
    var agreement = byId("id_agreement");
    var occurred = byId("id_occurred_on");
    var commitment = byId("id_commitment");
    var category = byId("id_category");
    var municipality = byId("id_municipality");
    var district = byId("id_district");
    var districtWrapper = byId("div_id_district");
    var data = byId("district-data");
    var withDistricts = data ? data.dataset.municipalities.split(" ") : [];
    setUpBusQuestion(form);
    Array.prototype.forEach.call(form.querySelectorAll(".counterpart-picker"), setUpCounterparts);

    function onAgreement() {
      filterGroups(commitment, agreement.value);
      filterGroups(category, agreement.value);
    }
    function onDate() {
      filterAgreements(agreement, occurred.value);
      onAgreement();
    }
    function onMunicipality() {
      var has = withDistricts.indexOf(municipality.value) !== -1;
      if (districtWrapper) { districtWrapper.hidden = !has; }
      if (has) { filterGroups(district, municipality.value); } else if (district) { district.value = ""; }
    }

    if (agreement && occurred) {
      agreement.addEventListener("change", onAgreement);
      occurred.addEventListener("change", onDate);
      onDate();
    }
    if (municipality) {
      municipality.addEventListener("change", onMunicipality);
      onMunicipality();
    }

    // One submission per page view; the server is idempotent anyway (hidden idempotency key, and the
    // same content from the same reporter is one report).
    var button = form.querySelector("[type=submit]");
    form.addEventListener("submit", function () {
      if (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
    // Back to this page from the browser's cache (Back button): the button must work again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && button) { button.disabled = false; }
    });
  });
})();
