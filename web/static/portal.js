// The application form's group (web/templates/apply.html): "add a member" adds an empty row on the
// page itself instead of asking the server for more rows (the page works without this script).
"use strict";
(function () {
  var button = document.getElementById("more-rows");
  var rows = document.getElementById("group-rows");
  var count = document.getElementById("rows");
  if (!button || !rows || !count) return;
  button.addEventListener("click", function (event) {
    var last = rows.lastElementChild;
    if (!last) return;
    event.preventDefault();
    var n = parseInt(count.value, 10);
    var row = last.cloneNode(true);
    row.setAttribute("data-row", String(n));
    row.querySelector(".num").textContent = String(n + 1);
    row.querySelectorAll("input, select").forEach(function (input) {
      input.name = input.name.replace(/^g:\d+:/, "g:" + n + ":");
      if (input.type === "checkbox") input.checked = false;
      else if (input.tagName === "SELECT") input.selectedIndex = 0;
      else input.value = "";
    });
    rows.appendChild(row);
    count.value = String(n + 1);
    var first = row.querySelector("input");
    if (first) first.focus();
  });
})();
