// The poster's print button (no inline script: the pages' Content-Security-Policy).
document.getElementById("print").addEventListener("click", function () { window.print(); });
