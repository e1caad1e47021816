/* The office's own date and time on the kiosk and the lobby screen, whatever time zone
   the device itself is set to: parts(date, timeZone) gives
   {year, month, day, hour, minute, weekday, dayKey} as two-digit strings ("mon".."sun"). */

export function parts(date, timeZone) {
  let p = {};
  try {
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone || "Asia/Ho_Chi_Minh", hour12: false, weekday: "short",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    }).formatToParts(date).forEach((x) => { p[x.type] = x.value; });
  } catch (e) {  // a browser without that zone: the device's own clock is the best we have
    p = { hour: String(date.getHours()).padStart(2, "0"), minute: String(date.getMinutes()).padStart(2, "0"),
          day: String(date.getDate()).padStart(2, "0"), month: String(date.getMonth() + 1).padStart(2, "0"),
          year: String(date.getFullYear()), weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][date.getDay()] };
  }
  p.hour = p.hour === "24" ? "00" : p.hour;
  p.dayKey = (p.weekday || "").slice(0, 3).toLowerCase();
  return p;
}
