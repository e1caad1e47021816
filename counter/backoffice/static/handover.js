// The hand-over list's print view: its "In danh sách" button prints the page.
document.getElementById("print").addEventListener("click", function () { window.print(); });
