/* The consent signature pad: draw with a mouse, a pen or a finger (pointer
   events) on the canvas; the drawing goes in the hidden "drawing" field as a
   PNG data URL. Without this script the pad stays hidden and the typed name
   alone signs. */
(function () {
  "use strict";
  function setUp() {
    var box = document.querySelector("[data-signature]");
    if (!box) { return; }
    var canvas = box.querySelector("canvas");
    var field = box.querySelector('input[name="drawing"]');
    var ctx = canvas.getContext && canvas.getContext("2d");
    if (!ctx || !field) { return; }
    box.hidden = false;
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#1d2433";
    var drawing = false, drawn = false, last = null;
    function point(event) {
      var r = canvas.getBoundingClientRect();
      return {x: (event.clientX - r.left) * canvas.width / r.width,
              y: (event.clientY - r.top) * canvas.height / r.height};
    }
    function line(from, to) {
      ctx.beginPath(); ctx.moveTo(from.x, from.y); ctx.lineTo(to.x, to.y); ctx.stroke();
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var next = point(event);
      line(last, next); last = next; drawn = true;
      event.preventDefault();
    });
    function finish() {
      if (!drawing) { return; }
      drawing = false;
      if (drawn) { field.value = canvas.toDataURL("image/png"); }
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("pointerleave", finish);
    box.querySelector("[data-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false; field.value = "";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
