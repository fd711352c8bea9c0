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

  // Agreements in force on the chosen date (data-valid-from / data-valid-to, ISO dates).
  function filterAgreements(agreement, date) {
    Array.prototype.forEach.call(agreement.options, function (option) {
      if (!option.dataset.validFrom) { return; }
      var valid = !date || (option.dataset.validFrom <= date &&
        (!option.dataset.validTo || date <= option.dataset.validTo));
      option.hidden = !valid;
      option.disabled = !valid;
      if (!valid && option.selected) { agreement.value = ""; }
    });
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

    // One submission per page view; the server is idempotent anyway (hidden idempotency key).
    form.addEventListener("submit", function () {
      var button = form.querySelector("[type=submit]");
      if (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
})();
