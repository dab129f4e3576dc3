// The plan over the horizon, drawn with uPlot (vendor/uplot): one figure per quantity, each with its data as a
// table for screen readers and keyboard users.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { el, timeIn, words } from "./format.js";

const PHASE_COLOURS = { L1: "#0b5cad", L2: "#b3470b", L3: "#3d3d3d" };
const CAR_COLOURS = ["#0b5cad", "#b3470b", "#1d6b2f", "#7a2d8c", "#8a5300", "#3d3d3d"];
const plots = new Map();

function seconds(iso) {
  return Date.parse(iso) / 1000;
}

// The value in force at each instant of a step series (each point holds until the next).
function sampled(points, xs) {
  const sorted = [...points].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  return xs.map((x) => {
    let value = null;
    for (const p of sorted) if (seconds(p.timestamp) <= x) value = p.value;
    return value;
  });
}

// 24-hour labels in the site's timezone, with the day at midnight.
function hourLabel(zone, x) {
  const iso = new Date(x * 1000).toISOString();
  const time = timeIn(zone, iso);
  if (time !== "00:00") return time;
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: zone }).format(new Date(iso));
}

function dataTable(caption, zone, xs, series, unit) {
  return el(
    "details",
    {},
    el("summary", {}, `${caption}: the values as a table`),
    el(
      "table",
      {},
      el("caption", { class: "sr-only" }, caption),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Step"), series.map((s) => el("th", { scope: "col" }, `${s.label} (${unit})`)))),
      el(
        "tbody",
        {},
        xs.map((x, k) => el("tr", {}, el("th", { scope: "row" }, timeIn(zone, new Date(x * 1000).toISOString(), true)),
          series.map((s) => el("td", {}, s.values[k] == null ? "–" : s.values[k].toFixed(unit.endsWith("/kWh") ? 3 : 1))))),
      ),
    ),
  );
}

function figure(container, key, { caption, unit, xs, series, zone, stepped = true, range }) {
  const id = `plot-${key}`;
  const holder = el("div", { class: "plot", role: "img", "aria-label": `${caption}, ${xs.length} points over the horizon` });
  const fig = el("figure", { id, dataset: { plot: key, steps: String(xs.length) } }, el("figcaption", {}, caption), holder,
    dataTable(caption, zone, xs, series.filter((s) => !s.reference), unit));
  container.append(fig);
  const width = Math.max(container.clientWidth - 16, 280);
  const options = {
    width,
    height: 190,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: range ? { range } : {} },
    axes: [{ stroke: "#1a1a1a", grid: { stroke: "#e2e5ea" }, values: (_, splits) => splits.map((x) => hourLabel(zone, x)) }, { stroke: "#1a1a1a", grid: { stroke: "#e2e5ea" }, label: unit, size: 56 }],
    series: [
      { label: "time", value: (_, v) => (v == null ? "–" : timeIn(zone, new Date(v * 1000).toISOString(), true)) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.colour,
        width: s.reference ? 1.5 : 2,
        dash: s.reference ? [6, 4] : undefined,
        paths: stepped && !s.reference ? uPlot.paths.stepped({ align: 1 }) : undefined,
        value: (_, v) => (v == null ? "–" : `${v.toFixed(unit.endsWith("/kWh") ? 3 : 1)} ${unit}`),
      })),
    ],
  };
  const plot = new uPlot(options, [xs, ...series.map((s) => s.values)], holder);
  plots.set(key, plot);
}

export function renderPlots(container, state) {
  for (const plot of plots.values()) plot.destroy();
  plots.clear();
  container.replaceChildren();
  const { run, site } = state;
  const zone = site.timezone;
  if (!run || !run.timestamps.length) {
    container.append(el("p", {}, "No plan yet: the site is planned once it has something to control."));
    return;
  }
  const xs = run.timestamps.map(seconds);
  const main = site.collectors.nodes.find((c) => c.id === site.mainCollector?.id);
  const fuse = main?.lineCurrent;
  const grid = run.grid.phases.map((p) => ({ label: `grid ${p.phase}`, values: p.current, colour: PHASE_COLOURS[p.phase] || "#000" }));
  if (fuse != null) {
    grid.push({ label: `${main.name} fuse`, values: xs.map(() => fuse), colour: "#a4161a", reference: true });
    grid.push({ label: `${main.name} fuse (export)`, values: xs.map(() => -fuse), colour: "#a4161a", reference: true });
  }
  figure(container, "grid", { caption: "Grid current per phase against the main fuse", unit: "A", xs, series: grid, zone });

  const names = new Map(site.devices.nodes.map((d) => [d.id, d.name]));
  const cars = run.schedules
    .filter((s) => s.kind === "charging_pole")
    .map((s, i) => ({
      label: names.get(s.device?.id) || "pole",
      values: xs.map((_, k) => Math.max(0, ...s.current.map((c) => Math.abs(c.values[k] ?? 0)))),
      colour: CAR_COLOURS[i % CAR_COLOURS.length],
    }));
  if (cars.length) figure(container, "cars", { caption: "Planned charging current per pole (each used phase)", unit: "A", xs, series: cars, zone });

  if (run.batteries.length) {
    const last = xs.at(-1) + run.stepSeconds;
    const boundaries = [...xs, last];
    const batteries = run.batteries.map((b, i) => ({
      label: `${names.get(b.device?.id) || "battery"} state of charge`,
      values: b.stateOfCharge,
      colour: CAR_COLOURS[(i + 2) % CAR_COLOURS.length],
    }));
    figure(container, "battery", { caption: "Battery state of charge", unit: "%", xs: boundaries, series: batteries, zone, stepped: false, range: [0, 100] });
  }

  const prices = state.prices;
  if (prices && (prices.import.length || prices.export.length)) {
    const currency = (prices.import[0] || prices.export[0]).currency;
    figure(container, "prices", {
      caption: `Import and export prices (${currency} per kWh)`,
      unit: `${currency}/kWh`,
      xs,
      series: [
        { label: "import", values: sampled(prices.import, xs), colour: "#a4161a" },
        { label: "export", values: sampled(prices.export, xs), colour: "#1d6b2f" },
      ],
      zone,
    });
  }
}

export function resizePlots(container) {
  const width = Math.max(container.clientWidth - 16, 280);
  for (const plot of plots.values()) plot.setSize({ width, height: 190 });
}

// Binding limits in words: which fuse and phase (or grid limit), when, and which devices it held back.
function limitName(b) {
  const direction = words(b.direction);
  if (b.kind === "collector_phase") return `${b.collector?.name ?? "a collector"} fuse on ${b.phase} (${direction})`;
  if (b.kind.endsWith("_current")) return `the grid connection's external ${direction} current limit on ${b.phase}`;
  if (b.kind.endsWith("_power")) return `the grid connection's external ${direction} power limit`;
  if (b.kind === "full_autonomy") return "the local surplus for full-autonomy cars";
  return `${words(b.kind)}${b.phase ? ` on ${b.phase}` : ""} (${direction})`;
}

export function bindingWords(run, site) {
  return (run?.bindingLimits || []).map((b) => {
    const held = b.heldBack.map((d) => d.name);
    const when = b.steps.length ? ` ${ranges(b.steps, run, site.timezone)}` : "";
    return `${limitName(b)} binds${when}${held.length ? `; it holds back ${held.join(", ")}` : ""}`;
  });
}

function ranges(steps, run, zone) {
  const sorted = [...steps].sort((a, b) => a - b);
  const spans = [];
  for (const k of sorted) {
    const last = spans.at(-1);
    if (last && k === last[1] + 1) last[1] = k;
    else spans.push([k, k]);
  }
  const end = (k) => new Date(Date.parse(run.timestamps[k]) + run.stepSeconds * 1000).toISOString();
  return spans.map(([a, b]) => `${timeIn(zone, run.timestamps[a])}–${timeIn(zone, end(b))}`).join(", ");
}
