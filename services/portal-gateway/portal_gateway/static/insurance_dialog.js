// The Add Insurance button opens its form in a modal dialog: focus moves to
// the form's first field (or its first refused one), Escape or Cancel closes
// it, and focus returns to the button. Without this script (or a browser
// without <dialog>), the button is a plain link to /portal/insurance/new.
(function () {
  "use strict";
  var opener = document.getElementById("add-insurance");
  var dialog = document.getElementById("insurance-dialog");
  if (!opener || !dialog || typeof dialog.showModal !== "function") { return; }

  function open() {
    dialog.showModal();
    var target = dialog.querySelector("#error-summary") ||
                 dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (target) { target.focus(); }
  }

  opener.addEventListener("click", function (event) {
    event.preventDefault();
    open();
  });
  dialog.addEventListener("close", function () { opener.focus(); });
  Array.prototype.forEach.call(dialog.querySelectorAll("[data-close-dialog]"), function (button) {
    button.addEventListener("click", function () { dialog.close(); });
  });
  if (dialog.hasAttribute("data-open")) { open(); }   // a refused form comes back open
}());
