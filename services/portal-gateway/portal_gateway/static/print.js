// A "Print this receipt" button, shown only where scripts run (without them
// the browser's own Print menu does the same; the page prints on its own).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
