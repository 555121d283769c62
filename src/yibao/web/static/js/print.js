// The slip's print button (no inline script: the Content-Security-Policy forbids it).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-slip");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
