// Phase physics of the collector tree, composed from the public fields (DOMAIN.md "Phase physics"):
// a device's current on a phase of its collector lands on one phase of each ancestor (a 1P child on its
// `phase`, a 3P child through `phasePermutations`), scaled by V_child / V_parent at a voltage change.
export const PHASES = ["L1", "L2", "L3"];
export const FRESH_MS = 15 * 60 * 1000;

export const phasesOf = (collector) => (collector.phaseType === "THREE_PHASE" ? PHASES : [collector.phase || "L1"]);

export function phaseVoltage(collector) {
  if (collector.phaseVoltage) return collector.phaseVoltage;
  if (collector.lineVoltage) return collector.lineVoltage / Math.sqrt(3);
  return 230;
}

export function parentPhase(child, phase) {
  if (child.phaseType !== "THREE_PHASE") return child.phase || "L1";
  const permutation = (child.phasePermutations || []).find((p) => p.childPhase === phase);
  return permutation ? permutation.parentPhase : phase;
}

const zeros = (collector) => Object.fromEntries(phasesOf(collector).map((p) => [p, 0]));

function depth(collector, byId) {
  let d = 0;
  for (let c = collector; c.parent && byId.has(c.parent.id); c = byId.get(c.parent.id)) d += 1;
  return d;
}

// local: Map(collectorId -> {phase: A}) of the devices wired directly to it; returns the totals below each.
export function rollUp(collectors, local) {
  const byId = new Map(collectors.map((c) => [c.id, c]));
  const totals = new Map(collectors.map((c) => [c.id, { ...zeros(c), ...(local.get(c.id) || {}) }]));
  const deepestFirst = [...collectors].sort((a, b) => depth(b, byId) - depth(a, byId));
  for (const child of deepestFirst) {
    const parent = child.parent && byId.get(child.parent.id);
    if (!parent) continue;
    const ratio = phaseVoltage(child) / phaseVoltage(parent);
    const into = totals.get(parent.id);
    for (const [phase, amps] of Object.entries(totals.get(child.id))) {
      const target = parentPhase(child, phase);
      into[target] = (into[target] || 0) + amps * ratio;
    }
  }
  return totals;
}

function add(local, collectorId, phase, amps) {
  if (!local.has(collectorId)) local.set(collectorId, {});
  const entry = local.get(collectorId);
  entry[phase] = (entry[phase] || 0) + amps;
}

// The latest point of a device as current per phase of its collector (pins where reported, else its power
// spread evenly over its phases); null when it is older than FRESH_MS or missing.
export function measuredCurrents(device, collector, now) {
  const point = device.latestMeasurement;
  if (!point || now - Date.parse(point.timestamp) > FRESH_MS) return null;
  const voltage = phaseVoltage(collector);
  const pinCurrent = new Map(point.pins.filter((p) => p.currentValue != null).map((p) => [p.pin.toLowerCase(), p.currentValue]));
  let phases;
  let pins;
  if (device.pinToPhaseMapping) {
    pins = device.pinToPhaseMapping.pinList.map((p) => p.toLowerCase());
    phases = device.pinToPhaseMapping.phaseList;
  } else {
    phases = phasesOf(collector);
    pins = phases.map((_, i) => `pin${i + 1}`);
  }
  const result = {};
  if (pinCurrent.size) {
    pins.forEach((pin, i) => {
      if (pinCurrent.has(pin)) result[phases[i]] = (result[phases[i]] || 0) + pinCurrent.get(pin);
    });
    return result;
  }
  if (point.powerValue == null) return null;
  for (const phase of phases) result[phase] = (result[phase] || 0) + point.powerValue / (voltage * phases.length);
  return result;
}

// Index of the plan's step that holds `now` (the first when the plan starts later).
export function stepAt(run, now) {
  let index = 0;
  (run?.timestamps || []).forEach((t, k) => {
    if (Date.parse(t) <= now) index = k;
  });
  return index;
}

export function plannedCurrents(schedule, step) {
  if (!schedule) return null;
  return Object.fromEntries(schedule.current.map((c) => [c.phase, c.values[Math.min(step, c.values.length - 1)] ?? 0]));
}

// Per collector and phase: {measured, planned} totals of everything below it.
export function collectorLoads(site, run, now) {
  const collectors = site.collectors.nodes;
  const byId = new Map(collectors.map((c) => [c.id, c]));
  const step = stepAt(run, now);
  const schedules = new Map((run?.schedules || []).filter((s) => s.device).map((s) => [s.device.id, s]));
  const measured = new Map();
  const planned = new Map();
  for (const device of site.devices.nodes) {
    const collector = device.collector && byId.get(device.collector.id);
    if (!collector) continue;
    for (const [phase, amps] of Object.entries(measuredCurrents(device, collector, now) || {})) add(measured, collector.id, phase, amps);
    for (const [phase, amps] of Object.entries(plannedCurrents(schedules.get(device.id), step) || {})) add(planned, collector.id, phase, amps);
  }
  return { measured: rollUp(collectors, measured), planned: run ? rollUp(collectors, planned) : null, step };
}
