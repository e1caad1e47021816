/* The kiosk's priority step (issue 19): which priority group the citizen belongs to. The
 * office's groups (GET /api/v1/offices/{office}: priority_groups, named in the kiosk's
 * language, in calling order) as large buttons over the start screen; a tap chooses the
 * group, "Quay lại" goes back with no priority. The ticket is then issued with the group. */

/** Show the groups; `chosen(code)` on a group's tap, `cancelled()` on the back button. */
export function askGroup(groups, t, chosen, cancelled) {
  var panel = document.getElementById("groups");
  var list = document.getElementById("groups-list");
  list.textContent = "";
  groups.forEach(function (g) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "group-choice";
    b.dataset.group = g.code;
    b.textContent = g.name;
    b.addEventListener("click", function () { close(); chosen(g.code); });
    list.appendChild(b);
  });
  document.getElementById("groups-title").textContent = t("priority.which");
  var back = document.getElementById("groups-back");
  back.textContent = t("priority.back");
  back.onclick = function () { close(); cancelled(); };
  panel.hidden = false;

  function close() { panel.hidden = true; }
}

export function closeGroups() {
  document.getElementById("groups").hidden = true;
}
