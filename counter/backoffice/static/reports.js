// Reports page: the print button (the page itself is server-rendered and works without it).
import { $ } from "/static/js/dom.js";

const button = $("print");
if (button) button.addEventListener("click", () => window.print());
