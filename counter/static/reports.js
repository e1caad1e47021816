// Reports page: the print button (the page itself is server-rendered and works without it).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
