// The calendar's edit form: "Add a row" copies the last row, empty, with the next row number.
// Without script the form still works: it always ends with empty rows.
(function () {
  const button = document.getElementById("add-row");
  const body = document.querySelector("#calendar-rows tbody");
  if (!button || !body) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    const rows = body.querySelectorAll("tr.cal-row");
    const last = rows[rows.length - 1];
    const n = rows.length;
    const row = last.cloneNode(true);
    row.querySelectorAll(".has-error").forEach(function (cell) { cell.classList.remove("has-error"); });
    row.removeAttribute("data-errors");
    row.dataset.row = String(n);
    row.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    row.querySelector(".cal-rowno").textContent = String(n + 1);
    row.querySelectorAll("label[for]").forEach(function (label) {
      const field = label.getAttribute("for").split("-")[0];
      label.setAttribute("for", field + "-" + n);
      label.textContent = label.textContent.replace(/\d+(?=\D*$)/, String(n + 1));
    });
    row.querySelectorAll("input, select").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      if (input.type === "checkbox") { input.checked = false; input.value = String(n); return; }
      if (input.id) input.id = input.id.split("-")[0] + "-" + n;
      if (input.tagName === "SELECT") input.selectedIndex = 0; else input.value = "";
    });
    row.querySelectorAll(".cal-label").forEach(function (label) {
      label.textContent = label.textContent.replace(/\d+(?=\D*$)/, String(n + 1));
    });
    body.appendChild(row);
    row.querySelector("input[type=date]").focus();
  });
})();
