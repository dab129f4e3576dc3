// Every document the page sends: public GraphQL only.
export const VIEWER = `{ viewer { role user { name email } account { name } } }`;

export const SITES = `{ sites(first: 200) { nodes { id name status upstreamStatus gridIdentifier timezone
  validation { validForOptimization missing { message } } system { name } } } }`;

const RUN = `fragment Run on OptimizationRun {
  id createdAt trigger status usedFallback stepSeconds timestamps warnings
  cost { total currency }
  grid { phases { phase current } }
  schedules { kind power current { phase values } device { id } }
  batteries { stateOfCharge device { id } }
  sessions { target delivered unmet device { id } }
  bindingLimits { kind phase direction steps collector { name } heldBack { name } }
}`;

const LIMITS = `fragment Limits on EnforcedLimits { uuid validUntil limitsRootSide { acMaxCurrentA totalPowerW acMaxPhaseCount } }`;

const LIVE_DEVICE = `fragment LiveDevice on Device {
  id latestMeasurement { timestamp powerValue currentStateOfCharge pins { pin currentValue } }
  ... on ChargingPole { activeSession { id state usedChargingPins startedAt energyDelivered
    target { energyAmountNeeded leaveTime } } }
}`;

export const SITE = `query Site($id: ID!, $from: DateTime!, $to: DateTime!) {
  node(id: $id) { ... on Site {
    id name status upstreamStatus timezone gridIdentifier
    validation { validForOptimization missing { message } }
    mainCollector { id }
    collectors(first: 500) { nodes { id name lineCurrent phaseVoltage lineVoltage phaseType phase
      phasePermutations { childPhase parentPhase } parent { id } } }
    devices(first: 500) { nodes { __typename name type lineCurrent collector { id } ...LiveDevice
      ... on ChargingPole { pinToPhaseMapping { pinList phaseList } }
      ... on ForecastedSeries { forecastType }
      ... on Battery { operationalBatteryCapacity } } }
    prices(from: $from, to: $to) { import { timestamp value currency } export { timestamp value currency } }
    schedule { ...Run }
    enforcedLimits { ...Limits }
  } }
}
${RUN}
${LIMITS}
${LIVE_DEVICE}`;

export const LIVE_DEVICES = `query LiveDevices($id: ID!) { node(id: $id) { ... on Site {
  devices(first: 500) { nodes { ...LiveDevice } } } } }
${LIVE_DEVICE}`;

export const PRICES = `query Prices($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Site {
  prices(from: $from, to: $to) { import { timestamp value currency } export { timestamp value currency } } } } }`;

export const ON_LIMITS = `subscription Limits($siteId: ID!) { enforcedLimits(siteId: $siteId) { ...Limits } }
${LIMITS}`;

export const ON_SCHEDULE = `subscription Schedule($siteId: ID!) { scheduleUpdated(siteId: $siteId) { ...Run } }
${RUN}`;

export const ON_MEASUREMENTS = `subscription Measurements($siteId: ID!) { measurementsReceived(siteId: $siteId) { receivedAt } }`;
