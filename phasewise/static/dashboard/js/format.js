// Numbers and times as an operator reads them, in the site's timezone.
export const amps = (a) => (a == null || Number.isNaN(a) ? "–" : `${a.toFixed(1)} A`);
export const kw = (w) => (w == null ? "–" : `${(w / 1000).toFixed(1)} kW`);
export const kwh = (wh) => (wh == null ? "–" : `${(wh / 1000).toFixed(1)} kWh`);
export const percent = (p) => (p == null ? "–" : `${p.toFixed(0)} %`);

export function timeIn(zone, iso, withDay = false) {
  if (!iso) return "–";
  const options = { hour: "2-digit", minute: "2-digit", timeZone: zone, hourCycle: "h23" };
  if (withDay) Object.assign(options, { weekday: "short", day: "numeric", month: "short" });
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
}

export function secondsIn(zone, iso) {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: zone, hourCycle: "h23" }).format(new Date(iso));
}

export const words = (text) => (text || "").toLowerCase().replaceAll("_", " ");

// Small DOM helper: el("p", {class: "x", dataset: {device: "a"}}, "text", child)
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child != null && child !== false) node.append(child);
  return node;
}

// The UUID inside a Relay global id (base64 of "Type:uuid"), as EnforcedLimits.uuid names devices.
export function rawId(globalId) {
  try {
    return atob(globalId).split(":").pop();
  } catch {
    return globalId;
  }
}
