/* The portal shell's two disclosure buttons: the Menu button (phone width)
   and the account menu under the person's name. Loaded in <head>: it marks
   the page "js" at once so the CSS can collapse what the buttons control
   (without this script both lists are simply shown). Escape closes an open
   one and puts the focus back on its button; a click elsewhere closes the
   account menu. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function buttons() {
    return Array.prototype.slice.call(document.querySelectorAll("button[data-disclosure]"));
  }

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("DOMContentLoaded", function () {
    buttons().forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        buttons().forEach(function (other) { if (other !== button) { setOpen(other, false); } });
        setOpen(button, open);
      });
    });

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      buttons().forEach(function (button) {
        if (button.getAttribute("aria-expanded") === "true") {
          setOpen(button, false);
          button.focus();
        }
      });
    });

    document.addEventListener("click", function (event) {
      var account = document.getElementById("account-button");
      if (!account || account.getAttribute("aria-expanded") !== "true") { return; }
      if (!account.parentNode.contains(event.target)) { setOpen(account, false); }
    });
  });
}());
