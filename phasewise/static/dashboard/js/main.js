// The page: sign in, the account's sites, one site's tree and plan, kept live over graphql-transport-ws.
import { ApiError, gql, login, signOut, token } from "./api.js";
import { el, secondsIn, timeIn, words } from "./format.js";
import { connect } from "./live.js";
import { bindingWords, renderPlots, resizePlots } from "./plots.js";
import { LIVE_DEVICES, ON_LIMITS, ON_MEASUREMENTS, ON_SCHEDULE, PRICES, SITE, SITES, VIEWER } from "./queries.js";
import { renderTree } from "./tree.js";

const $ = (id) => document.getElementById(id);
const views = ["login-view", "sites-view", "site-view"];
let current = null; // the open site: {site, run, limits, prices, live, stops}

function show(view) {
  for (const id of views) $(id).hidden = id !== view;
  $("account").hidden = view === "login-view";
}

function fail(target, error) {
  if (error instanceof ApiError && error.unauthenticated) {
    signOut();
    route();
    return;
  }
  $(target).textContent = error.message;
}

function closeSite() {
  if (!current) return;
  for (const stop of current.stops) stop();
  current.live?.close();
  current = null;
}

// Moving to `hash` routes once: by its hashchange event, or here when the hash is already there. Routing twice
// rendered a view twice, and a keyboard user's focus was lost with the first rendering's elements.
async function go(hash) {
  if (location.hash === hash) return route();
  location.hash = hash;
}

async function showLogin() {
  show("login-view");
  $("email").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  const button = event.submitter || $("login-form").querySelector("button");
  button.disabled = true;
  try {
    await login($("email").value.trim(), $("password").value);
    $("password").value = "";
    await go("#/sites");
  } catch (error) {
    $("login-error").textContent = error.message;
    $("password").focus();
  } finally {
    button.disabled = false;
  }
});

$("sign-out").addEventListener("click", () => {
  closeSite();
  signOut();
  go("");
});

const STATUS_CLASS = { ONBOARDED: "ok", NO_RESOURCES: "warn", PAUSED: "warn", DELETED: "bad" };

async function showSites() {
  show("sites-view");
  $("sites-error").textContent = "";
  try {
    const [{ viewer }, { sites }] = await Promise.all([gql(VIEWER), gql(SITES)]);
    $("who").textContent = `${viewer.user?.name || viewer.user?.email || "API key"} · ${viewer.account.name}`;
    $("sites-body").replaceChildren(
      ...sites.nodes.map((s) =>
        el(
          "tr",
          { dataset: { site: s.name } },
          el("td", {}, el("a", { href: `#/site/${encodeURIComponent(s.id)}` }, s.name), s.system ? el("div", { class: "hint" }, s.system.name) : null),
          el("td", {}, el("span", { class: `badge ${STATUS_CLASS[s.status] || ""}` }, words(s.status))),
          el("td", {}, s.validation.validForOptimization ? "yes" : `no: ${s.validation.missing.map((m) => m.message).join("; ")}`),
          el("td", {}, words(s.upstreamStatus)),
          el("td", {}, s.gridIdentifier),
          el("td", {}, s.timezone),
        ),
      ),
    );
    if (!sites.nodes.length) $("sites-body").append(el("tr", {}, el("td", { colspan: 6 }, "No sites in your account yet.")));
  } catch (error) {
    fail("sites-error", error);
  }
}

function priceWindow(run) {
  const start = run?.timestamps.length ? Date.parse(run.timestamps[0]) : Date.now();
  const end = run?.timestamps.length ? Date.parse(run.timestamps.at(-1)) + run.stepSeconds * 1000 : start + 86400000;
  return { from: new Date(start - 86400000 * 2).toISOString(), to: new Date(end).toISOString() };
}

function renderSite() {
  const { site, run } = current;
  $("site-title").textContent = site.name;
  const ready = site.validation.validForOptimization ? "ready to optimize" : `not ready: ${site.validation.missing.map((m) => m.message).join("; ")}`;
  $("site-meta").textContent = `${words(site.status)} · ${ready} · ${site.gridIdentifier} · ${site.timezone}`;
  renderTree($("tree"), current);
  $("plan-summary").dataset.run = run?.id ?? "";
  if (run) {
    $("plan-summary").textContent =
      `Plan of ${secondsIn(site.timezone, run.createdAt)} (${words(run.trigger)}), ${run.timestamps.length} steps of ${run.stepSeconds / 60} min from ` +
      `${timeIn(site.timezone, run.timestamps[0], true)}: ${words(run.status)}${run.usedFallback ? " (fallback)" : ""}, cost ${run.cost.total.toFixed(2)} ${run.cost.currency}.`;
  } else {
    $("plan-summary").textContent = "No plan yet.";
  }
  const binding = bindingWords(run, site);
  $("binding").replaceChildren(...(binding.length ? binding.map((text) => el("li", {}, text)) : [el("li", {}, "None: nothing held the plan back.")]));
  $("warnings-box").hidden = !run?.warnings.length;
  $("warnings").replaceChildren(...(run?.warnings || []).map((w) => el("li", {}, w)));
  renderPlots($("plots"), current);
}

function renderLive() {
  // Measurements and limits change often: the tree only, the plots stay.
  renderTree($("tree"), current);
}

function setLimits(limits) {
  current.limits = new Map(limits.map((l) => [l.uuid, l]));
}

function throttled(fn, ms) {
  let timer = null;
  let again = false;
  return () => {
    if (timer) {
      again = true;
      return;
    }
    fn();
    timer = setTimeout(() => {
      timer = null;
      if (again) {
        again = false;
        fn();
      }
    }, ms);
  };
}

async function refreshDevices(siteId) {
  const data = await gql(LIVE_DEVICES, { id: siteId });
  if (!current || current.site.id !== siteId || !data.node) return;
  const fresh = new Map(data.node.devices.nodes.map((d) => [d.id, d]));
  for (const device of current.site.devices.nodes) Object.assign(device, fresh.get(device.id) || {});
  renderLive();
}

async function refreshPrices(siteId) {
  const data = await gql(PRICES, { id: siteId, ...priceWindow(current.run) });
  if (current?.site.id === siteId && data.node) current.prices = data.node.prices;
}

function liveState(state) {
  const node = $("live-state");
  node.dataset.state = state;
  node.textContent = { live: "Live", connecting: "Connecting…", down: "Live updates interrupted: reconnecting" }[state];
}

async function showSite(siteId) {
  show("site-view");
  $("site-error").textContent = "";
  if (current?.site.id === siteId) return;
  closeSite();
  try {
    const data = await gql(SITE, { id: siteId, ...priceWindow(null) });
    if (!data.node) throw new ApiError("This site does not exist or is not yours.");
    current = { site: data.node, run: data.node.schedule, limits: new Map(), prices: data.node.prices, stops: [] };
    setLimits(data.node.enforcedLimits);
    renderSite();
    $("site-title").focus?.();
    startLive(siteId);
  } catch (error) {
    fail("site-error", error);
  }
}

function startLive(siteId) {
  const live = connect({
    onState: liveState,
    onRefused: () => {
      signOut();
      route();
    },
  });
  current.live = live;
  const problem = (errors) => {
    $("site-error").textContent = `Live updates: ${(Array.isArray(errors) ? errors : [errors]).map((e) => e.message || e.reason || String(e)).join("; ")}`;
  };
  const devices = throttled(() => refreshDevices(siteId).catch((e) => fail("site-error", e)), 1000);
  current.stops.push(
    live.subscribe(ON_LIMITS, { siteId }, (data) => {
      if (current?.site.id !== siteId) return;
      setLimits(data.enforcedLimits);
      renderLive();
    }, problem),
    live.subscribe(ON_SCHEDULE, { siteId }, async (data) => {
      if (current?.site.id !== siteId) return;
      current.run = data.scheduleUpdated;
      await refreshPrices(siteId).catch(() => {});
      renderSite();
      devices(); // sessions arrive and leave with new plans
    }, problem),
    live.subscribe(ON_MEASUREMENTS, { siteId }, () => devices(), problem),
  );
  // The current step and the freshness of readings move with the clock, not only with events.
  const clock = setInterval(() => current?.site.id === siteId && renderLive(), 15000);
  current.stops.push(() => clearInterval(clock));
}

async function route() {
  if (!token()) {
    closeSite();
    return showLogin();
  }
  const match = location.hash.match(/^#\/site\/(.+)$/);
  if (match) return showSite(decodeURIComponent(match[1]));
  closeSite();
  return showSites();
}

window.addEventListener("hashchange", route);
new ResizeObserver(() => resizePlots($("plots"))).observe($("plots"));
if (token()) {
  gql(VIEWER)
    .then(({ viewer }) => ($("who").textContent = `${viewer.user?.name || viewer.user?.email || "API key"} · ${viewer.account.name}`))
    .catch(() => {});
}
route();
