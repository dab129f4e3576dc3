// The collector tree: each collector's per-phase current against its fuse, and its devices.
import { amps, el, kw, kwh, percent, rawId, secondsIn, timeIn, words } from "./format.js";
import { collectorLoads, FRESH_MS, measuredCurrents, phasesOf } from "./phases.js";

const KIND = { ChargingPole: "charging pole", Battery: "battery", ForecastedSeries: "forecasted series" };

function phaseTable(collector, measured, planned) {
  const rows = phasesOf(collector).map((phase) => {
    const m = measured?.[phase];
    const p = planned?.[phase];
    const worst = Math.max(Math.abs(m ?? 0), Math.abs(p ?? 0));
    const over = worst > collector.lineCurrent + 1e-6;
    return el(
      "tr",
      { dataset: { phase } },
      el("th", { scope: "row" }, phase),
      el("td", { dataset: { kind: "measured" }, class: Math.abs(m ?? 0) > collector.lineCurrent ? "over" : null }, amps(m)),
      el("td", { dataset: { kind: "planned" } }, planned ? amps(p) : "no plan"),
      el("td", {}, `${collector.lineCurrent} A`),
      el(
        "td",
        {},
        el("meter", {
          min: 0,
          max: collector.lineCurrent,
          low: collector.lineCurrent * 0.6,
          high: collector.lineCurrent * 0.85,
          optimum: 0,
          value: Math.min(worst, collector.lineCurrent),
          "aria-label": `${collector.name} ${phase}: ${Math.round((worst / collector.lineCurrent) * 100)} % of its fuse${over ? ", over it" : ""}`,
        }),
      ),
    );
  });
  return el(
    "table",
    { class: "phases" },
    el("caption", { class: "sr-only" }, `${collector.name}: current per phase against its ${collector.lineCurrent} A fuse`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Phase"), el("th", { scope: "col" }, "Measured"),
      el("th", { scope: "col" }, "Planned now"), el("th", { scope: "col" }, "Fuse"), el("th", { scope: "col" }, "Load"))),
    el("tbody", {}, rows),
  );
}

// Poles and batteries: what the device may draw now (negative: discharge), as EVerest's limits say.
function limitLine(device, state, zone) {
  const limit = state.limits.get(rawId(device.id));
  if (!limit && device.__typename !== "ChargingPole") return null;
  if (!limit) return el("p", { class: "limit", dataset: { field: "limit" } }, "Enforced limit: none yet");
  const side = limit.limitsRootSide;
  const phases = `${side.acMaxPhaseCount} phase${side.acMaxPhaseCount === 1 ? "" : "s"}`;
  return el("p", { class: "limit", dataset: { field: "limit" } },
    `Enforced limit: ${amps(side.acMaxCurrentA)} on ${phases} (${kw(side.totalPowerW)}), valid until ${secondsIn(zone, limit.validUntil)}`);
}

function poleLines(device, state, zone) {
  const lines = [];
  const session = device.activeSession;
  if (!session) {
    lines.push(el("p", { dataset: { field: "session" } }, "No car plugged in"));
    return lines;
  }
  const outcome = state.run?.sessions.find((s) => s.device?.id === device.id);
  const need = session.target.energyAmountNeeded;
  lines.push(
    el(
      "p",
      { dataset: { field: "session" } },
      `Car on ${session.usedChargingPins.map((p) => p.toLowerCase()).join(", ")}: needs ${need == null ? "as much as it can take" : kwh(need)}, ` +
        `delivered ${kwh(session.energyDelivered)}, leaves ${session.target.leaveTime ? timeIn(zone, session.target.leaveTime, true) : "at no set time"}`,
    ),
  );
  if (outcome) {
    lines.push(el("p", { dataset: { field: "outcome" } },
      `Plan: ${kwh(outcome.delivered)} more by then${outcome.unmet > 1 ? `, ${kwh(outcome.unmet)} short` : ""}`));
  }
  return lines;
}

function measuredLine(device, collector, now, zone) {
  const point = device.latestMeasurement;
  if (!point) return el("p", { dataset: { field: "measured" } }, "No measurement yet");
  const stale = now - Date.parse(point.timestamp) > FRESH_MS;
  const perPhase = measuredCurrents(device, collector, now) || {};
  const phases = Object.entries(perPhase).map(([phase, a]) => `${phase} ${amps(a)}`).join(", ");
  const soc = point.currentStateOfCharge != null ? `, state of charge ${percent(point.currentStateOfCharge)}` : "";
  return el("p", { dataset: { field: "measured" } },
    `Measured ${kw(point.powerValue)}${phases ? ` (${phases})` : ""}${soc} at ${secondsIn(zone, point.timestamp)}${stale ? " (stale)" : ""}`);
}

function deviceItem(device, collector, state, now) {
  const zone = state.site.timezone;
  const kind = device.__typename === "ForecastedSeries" ? `${words(device.forecastType)} series` : KIND[device.__typename];
  const battery = state.run?.batteries.find((b) => b.device?.id === device.id);
  return el(
    "li",
    { class: "device", dataset: { device: device.name } },
    el("span", { class: "name" }, device.name),
    el("span", { class: "kind" }, `${kind}${device.lineCurrent ? `, ${device.lineCurrent} A` : ""}`),
    measuredLine(device, collector, now, zone),
    limitLine(device, state, zone),
    device.__typename === "ChargingPole" ? poleLines(device, state, zone) : null,
    battery ? el("p", {}, `Planned state of charge at the end of the horizon: ${percent(battery.stateOfCharge.at(-1))}`) : null,
  );
}

function collectorNode(collector, children, devicesOf, loads, state, now) {
  const kind = collector.phaseType === "THREE_PHASE" ? "3-phase" : `1-phase on ${collector.phase}`;
  const headingId = `collector-${collector.name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  return el(
    "section",
    { class: "collector", dataset: { collector: collector.name }, "aria-labelledby": headingId },
    el("h3", { id: headingId }, collector.name, " ", el("small", {}, `${kind}, fuse ${collector.lineCurrent} A`)),
    phaseTable(collector, loads.measured.get(collector.id), loads.planned?.get(collector.id)),
    el("ul", { class: "devices", "aria-label": `Devices on ${collector.name}` },
      (devicesOf.get(collector.id) || []).map((d) => deviceItem(d, collector, state, now))),
    el("div", { class: "children" }, (children.get(collector.id) || []).map((c) => collectorNode(c, children, devicesOf, loads, state, now))),
  );
}

export function renderTree(container, state) {
  const now = Date.now();
  const { site } = state;
  const collectors = site.collectors.nodes;
  const loads = collectorLoads(site, state.run, now);
  const children = new Map();
  for (const c of collectors) {
    const key = c.parent?.id ?? "root";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(c);
  }
  const devicesOf = new Map();
  for (const d of site.devices.nodes) {
    const key = d.collector?.id;
    if (!devicesOf.has(key)) devicesOf.set(key, []);
    devicesOf.get(key).push(d);
  }
  const roots = children.get("root") || [];
  const before = new Map([...container.querySelectorAll("[data-device] [data-field=limit]")].map((n) => [n.closest("[data-device]").dataset.device, n.textContent]));
  container.replaceChildren(...(roots.length ? roots.map((c) => collectorNode(c, children, devicesOf, loads, state, now)) : [el("p", {}, "This site has no collectors yet.")]));
  for (const node of container.querySelectorAll("[data-device] [data-field=limit]")) {
    const previous = before.get(node.closest("[data-device]").dataset.device);
    if (previous != null && previous.split(", valid")[0] !== node.textContent.split(", valid")[0]) node.classList.add("flash");
  }
}
