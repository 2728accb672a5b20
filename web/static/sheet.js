// The score sheet as one types: each criterion's band and the running total. Without this
// script the form posts as it is, and the page answers with the bands and the total.
"use strict";
(function () {
  var form = document.getElementById("score-form");
  if (!form) return;
  var inputs = form.querySelectorAll("input[data-bands]");
  var total = document.getElementById("sheet-total");
  var outside = form.getAttribute("data-outside") || "";
  var totalWords = form.getAttribute("data-total") || "{total}";

  function bands(input) {
    return input.getAttribute("data-bands").split("|").map(function (part) {
      var a = part.indexOf(":"), b = part.indexOf(":", a + 1);
      return { min: Number(part.slice(0, a)), max: Number(part.slice(a + 1, b)), label: part.slice(b + 1) };
    });
  }

  function update() {
    var sum = 0, filled = 0;
    inputs.forEach(function (input) {
      var out = document.getElementById("band_" + input.name.slice("score_".length));
      var raw = input.value.trim();
      var value = /^-?\d+$/.test(raw) ? Number(raw) : null;
      var found = null;
      if (value !== null) {
        sum += value;
        filled += 1;
        bands(input).forEach(function (band) {
          if (found === null && band.min <= value && value <= band.max) found = band.label;
        });
      }
      if (out) {
        out.textContent = value === null ? "" : (found === null ? outside : found);
        out.className = value !== null && found === null ? "short" : "band";
      }
    });
    if (total) total.textContent = filled ? totalWords.replace("{total}", String(sum)) : "";
  }

  inputs.forEach(function (input) { input.addEventListener("input", update); });
  update();
})();
