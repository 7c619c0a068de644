// The calculator page: reads its state from the URL query (the API's own field names), calls
// POST /v1/compare and GET /v1/models/{name} on this service, and draws the results as HTML and SVG.
// Money is never turned into a JavaScript number for display: the API's decimal strings are shown
// as strings (only bar lengths and chart positions use floats).
"use strict";

const COUNT_FIELDS = ["input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "requests"];
const KINDS = ["input", "cached_input", "cache_write", "cache_write_1h", "output"];
const KIND_LABEL = {input: "input", cached_input: "cached input", cache_write: "cache write",
                    cache_write_1h: "cache write (1 h)", output: "output"};
const HISTORY_RATES = ["input", "cached_input", "cache_write", "output"];
const SVG = "http://www.w3.org/2000/svg";
// Panels for endpoints that other parts of the service add (projections; usage upload to come): each
// is shown only when the service has its path (the page's HTML lists the API's paths). A panel is
// {path, title, mount(card), update(state, answer)}: mounted once, updated after every comparison.
const PANELS = [
  {path: "/v1/projections", title: "Projection, month by month", mount: mountProjection, update: updateProjection},
  // Eager: a usage file needs no comparison first, so the panel is there from the first render.
  {path: "/v1/usage", title: "Price a usage file", mount: mountUsage, update: () => {}, eager: true},
];

// -- counts: the grammar of service/cli/counts.py ----------------------------------------------------

// Digits grouped by threes with ',' or '_' if at all (so a decimal comma, "1,5M", is refused rather
// than read as 15M), an optional fraction, an optional k/M/B suffix (decimal: k = 1,000).
const COUNT = /^((?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*([kKmMbB]?)$/;
const SUFFIX_ZEROS = {"": 0, k: 3, m: 6, b: 9};

function pyRepr(text) {
  return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text.replace(/'/g, "\\'")}'`;
}

/** The whole number `text` means, as a string of digits (exact: no float is involved). */
function parseCount(text) {
  const match = COUNT.exec(text.trim());
  if (match === null) {
    throw new Error(`${pyRepr(text)} is not a token count: use a whole number like 350000, 350k, 1.2M or 2B`);
  }
  const [whole, fraction = ""] = match[1].replace(/[_,]/g, "").split(".");
  const zeros = SUFFIX_ZEROS[match[2].toLowerCase()];
  const shifted = fraction.padEnd(zeros, "0");
  const digits = (whole + shifted.slice(0, zeros)).replace(/^0+(?=\d)/, "") || "0";
  const rest = shifted.slice(zeros);
  if (/[1-9]/.test(rest)) {
    throw new Error(`${pyRepr(text)} is ${digits}.${rest.replace(/0+$/, "")}: not a whole number`);
  }
  return digits;
}

// -- exact decimal strings, formatted as strings ---------------------------------------------------

function group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "5.5E-7" -> "0.00000055", "12345.60" -> "12,345.60": the same digits, never rounded. */
function money(text) {
  let sign = "";
  let s = String(text);
  if (s.startsWith("-")) { sign = "-"; s = s.slice(1); }
  const [mantissa, exponent = "0"] = s.toUpperCase().split("E");
  const [whole, fraction = ""] = mantissa.split(".");
  let digits = whole + fraction;
  let point = whole.length + parseInt(exponent, 10);
  if (point <= 0) { digits = "0".repeat(1 - point) + digits; point = 1; }
  if (point > digits.length) digits = digits.padEnd(point, "0");
  const intPart = digits.slice(0, point).replace(/^0+(?=\d)/, "");
  const fracPart = digits.slice(point);
  return sign + group(intPart) + (fracPart ? "." + fracPart : "");
}

/** JSON with every number kept as its source text (token totals can pass 2^53). */
function parseExact(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && context && typeof context.source === "string" ? context.source : value);
}

// -- elements ------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.setAttribute("class", value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const $ = (id) => document.getElementById(id);

// -- the catalog embedded in the page ----------------------------------------------------------------

const CATALOG = JSON.parse($("catalog").textContent).map(([provider, id, name, aliases]) =>
  ({provider, id, name, aliases, key: `${provider}/${id}`}));
const ID_COUNT = new Map();
for (const m of CATALOG) ID_COUNT.set(m.id, (ID_COUNT.get(m.id) || 0) + 1);
/** The shortest name that resolves to `m`: its id, or provider/id when several providers use the id. */
const shortName = (m) => (ID_COUNT.get(m.id) === 1 ? m.id : m.key);

// -- state <-> URL -------------------------------------------------------------------------------------

const PROJECTION_FIELDS = ["from", "until", "requests_per_day"];
const STATE_FIELDS = [...COUNT_FIELDS, "at", "batch", "models", "baseline", "provider", "model", ...PROJECTION_FIELDS];

function stateFromQuery(search) {
  const params = new URLSearchParams(search);
  const state = {};
  for (const name of STATE_FIELDS) {
    if (params.has(name)) state[name] = params.get(name);
  }
  // A hand-written link's "+08:00" arrives as " 08:00" (a query's "+" means a space).
  if (state.at) state.at = state.at.replace(/ (\d\d:\d\d)$/, "+$1");
  return state;
}

function queryFromState(state) {
  const params = new URLSearchParams();
  for (const name of STATE_FIELDS) {
    const value = state[name];
    if (value !== undefined && value !== "" && !(name === "batch" && value !== "true")) params.set(name, value);
  }
  // ",", ":" and "/" are allowed in a query as they are, read better, and URLSearchParams reads
  // them either way.
  return params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%2F/g, "/");
}

function fillForm(state) {
  for (const name of [...COUNT_FIELDS, "at", "models", "baseline"]) $(name).value = state[name] || "";
  $("batch").checked = state.batch === "true";
  $("provider").value = state.provider || "";
}

// -- errors --------------------------------------------------------------------------------------------

const FIELD_OF = (path) => {
  if (!path) return null;
  let m = /^\$\.workload\.([a-z_0-9]+)/.exec(path);
  if (m && $(m[1])) return m[1];
  m = /^\$\.(models|baseline)\b/.exec(path);
  return m ? m[1] : null;
};

function clearErrors() {
  for (const out of document.querySelectorAll("output.error")) out.textContent = "";
  for (const field of document.querySelectorAll(".field.invalid")) field.classList.remove("invalid");
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showError(field, detail) {
  const out = field ? $(`${field}-error`) : $("form-error");
  out.textContent = detail;
  if (field) {
    $(field).closest(".field").classList.add("invalid");
    $(field).setAttribute("aria-invalid", "true");
  }
}

// -- the request -------------------------------------------------------------------------------------

/** The POST /v1/compare body for `state`, as JSON text with the counts written as exact integers. */
function compareBody(state) {
  const workload = {};
  const counts = {};
  for (const name of COUNT_FIELDS) {
    if (state[name]) counts[name] = parseCount(state[name]);
  }
  if (state.at) workload.at = state.at;
  if (state.batch === "true") workload.batch = true;
  const body = {workload};
  const models = (state.models || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (models.length) body.models = models;
  if (state.baseline) body.baseline = state.baseline.trim();
  // Counts go in as JSON integers of any size (the API refuses what is over its maximum).
  let text = JSON.stringify(body);
  const fields = Object.entries(counts).map(([name, digits]) => `${JSON.stringify(name)}:${digits}`);
  if (fields.length) text = text.replace('"workload":{', `"workload":{${fields.join(",")}${Object.keys(workload).length ? "," : ""}`);
  return text;
}

let generation = 0;  // a newer request makes an older answer stale

async function run(state) {
  clearErrors();
  const mine = ++generation;
  let body;
  try {
    for (const name of COUNT_FIELDS) {
      if (state[name]) {
        try { parseCount(state[name]); } catch (error) { showError(name, error.message); }
      }
    }
    if (document.querySelector(".field.invalid")) { setStatus("Fix the fields marked in red."); mountEagerPanels(); return; }
    body = compareBody(state);
  } catch (error) {
    showError(null, error.message);
    mountEagerPanels();
    return;
  }
  setStatus("Pricing…");
  let response;
  let text;
  try {
    response = await fetch("/v1/compare", {method: "POST", headers: {"content-type": "application/json"}, body});
    text = await response.text();
  } catch (error) {
    if (mine === generation) { setStatus(`The service did not answer: ${error.message}`); mountEagerPanels(); }
    return;
  }
  if (mine !== generation) return;
  let answer;
  try { answer = parseExact(text); } catch { setStatus(`Unexpected answer (${response.status}).`); return; }
  if (!response.ok) {
    const field = FIELD_OF(answer.field);
    showError(field, answer.detail || `HTTP ${response.status}`);
    setStatus(field ? "The service refused a field: see the message beside it." : "The service refused the request.");
    $("ranked").replaceChildren();
    $("history").replaceChildren();
    for (const panel of mounted || []) $(panelId(panel)).remove();
    mounted = null;
    mountEagerPanels();
    return;
  }
  render(state, answer, mine);
}

function setStatus(text, ...extra) {
  $("status").replaceChildren(text, ...extra);
}

// -- results -----------------------------------------------------------------------------------------

function lineAmounts(quote) {
  const amounts = {};
  for (const line of quote.lines) amounts[line.kind] = line;
  return amounts;
}

function period(quote) {
  const until = quote.period_until ? ` until ${quote.period_until}` : "";
  return `price from ${quote.period_from}${until}`;
}

function render(state, answer, mine) {
  const quotes = answer.quotes;
  if (!quotes.length) {
    setStatus("No model has a price for this workload at that time.");
    $("ranked").replaceChildren();
    $("history").replaceChildren();
    return;
  }
  const at = quotes[0].at;
  const permalink = {...state, at: state.at || at};
  setStatus(`${quotes.length} model${quotes.length === 1 ? "" : "s"}, cheapest first, priced at ${at}. `,
            el("a", {href: `/?${queryFromState(permalink)}`, id: "permalink", text: "Permalink for this instant"}));
  const baselineKey = answer.baseline;
  const table = el("table", {id: "quotes"},
    el("thead", {}, el("tr", {},
      el("th", {text: "#"}), el("th", {text: "model"}), el("th", {class: "num", text: "total"}),
      el("th", {class: "num", text: baselineKey ? `saving vs ${baselineKey}` : "saving"}),
      el("th", {text: "lines: tokens × rate per million = amount"}), el("th", {text: "price used"}))));
  const tbody = el("tbody");
  quotes.forEach((q, i) => {
    const key = `${q.provider}/${q.model}`;
    const lines = el("ul", {class: "lines"});
    for (const line of q.lines) {
      lines.append(el("li", {"data-kind": line.kind, class: String(line.tokens) === "0" ? "zero" : null},
        el("span", {class: `swatch k-${line.kind}`}),
        `${KIND_LABEL[line.kind] || line.kind}: ${group(String(line.tokens))} × ${money(line.rate)} = `,
        el("span", {class: "amount", text: money(line.amount)})));
    }
    const saving = q.savings_percent;
    const savingClass = saving === null ? "saving" : `saving ${saving.startsWith("-") ? "neg" : "pos"}`;
    const routed = q.routed_from ? ` (billed as ${q.model}; asked for ${q.routed_from})` : "";
    tbody.append(el("tr", {class: key === baselineKey ? "baseline" : null, "data-model": key},
      el("td", {text: String(i + 1)}),
      el("td", {}, el("span", {class: "model", text: key}), routed ? el("div", {class: "meta", text: routed}) : null),
      el("td", {class: "num total"}, el("span", {class: "currency", text: q.currency}), " ",
         el("span", {class: "value", text: money(q.total)})),
      el("td", {class: `num ${savingClass}`, text: saving === null ? "—" : `${money(saving)}%`}),
      el("td", {}, lines),
      el("td", {class: "meta"},
        el("div", {class: "period", text: period(q)}),
        el("div", {class: "window", text: `window: ${q.window || "none"}; tier: ${q.tier || "base"}${q.batch ? "; batch" : ""}`}),
        el("div", {}, el("a", {href: q.source, class: "source", rel: "noreferrer", text: "source"}),
           ` checked ${q.checked}`))));
  });
  table.append(tbody);
  $("ranked").replaceChildren(
    el("div", {class: "card"}, el("h2", {text: "Totals, stacked by line kind"}), legend(quotes), barChart(quotes)),
    el("div", {class: "card"}, el("h2", {text: "Ranked quotes"}), table));
  const chosen = quotes.find((q) => state.model && matches(state.model, q)) || quotes[0];
  // The panels go below the history once it is drawn: appearing below it, they move nothing.
  historyCard(state, quotes, chosen).finally(() => { if (mine === generation) panels(state, answer); });
}

function matches(name, quote) {
  const wanted = name.trim().toLowerCase();
  const m = CATALOG.find((c) => c.key === `${quote.provider}/${quote.model}`);
  return [m && m.key, m && m.id, ...(m ? m.aliases : [])].some((n) => n && n.toLowerCase() === wanted);
}

function legend(quotes) {
  const kinds = KINDS.filter((k) => quotes.some((q) => q.lines.some((l) => l.kind === k)));
  return el("div", {class: "legend"}, ...kinds.map((k) =>
    el("span", {}, el("span", {class: `swatch k-${k}`}), KIND_LABEL[k])));
}

const BAR_ROWS = 40;

function barChart(quotes) {
  const shown = quotes.slice(0, BAR_ROWS);
  const labelWidth = 260;
  const valueWidth = 150;
  const width = 900;
  const row = 22;
  const height = shown.length * row + 8;
  const max = Math.max(...shown.map((q) => parseFloat(q.total)), 0);
  const svg = el("svg:svg", {class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Total per model, stacked by line kind", id: "bars"});
  shown.forEach((q, i) => {
    const y = i * row + 4;
    svg.append(el("svg:text", {x: labelWidth - 8, y: y + 14, "text-anchor": "end", text: `${q.provider}/${q.model}`}));
    let x = labelWidth;
    const span = width - labelWidth - valueWidth;
    for (const kind of KINDS) {
      for (const line of q.lines.filter((l) => l.kind === kind)) {
        const w = max > 0 ? (parseFloat(line.amount) / max) * span : 0;
        if (w <= 0) continue;
        svg.append(el("svg:rect", {x, y, width: w, height: row - 6, class: `f-${kind}`},
          el("svg:title", {text: `${KIND_LABEL[kind]}: ${money(line.amount)} ${q.currency}`})));
        x += w;
      }
    }
    svg.append(el("svg:text", {x: x + 6, y: y + 14, class: "bar-label", text: `${money(q.total)} ${q.currency}`}));
  });
  const note = quotes.length > BAR_ROWS ? el("p", {class: "meta", text: `The ${BAR_ROWS} cheapest of ${quotes.length}; all are in the table.`}) : null;
  return el("div", {}, svg, note);
}

// -- price history -----------------------------------------------------------------------------------

function historyCard(state, quotes, chosen) {
  const select = el("select", {id: "history-model"});
  const seen = new Set();
  for (const q of quotes) {
    const key = `${q.provider}/${q.model}`;
    if (seen.has(key)) continue;
    seen.add(key);
    select.append(el("option", {value: key, selected: q === chosen, text: key}));
  }
  const box = el("div", {class: "history-box", id: "history-chart"});
  const notes = el("ul", {class: "history-notes", id: "history-notes"});
  $("history").replaceChildren(el("div", {class: "card"},
    el("div", {class: "history-head"}, el("h2", {text: "Price history"}),
       el("label", {for: "history-model", text: "model"}), select),
    box, notes));
  const draw = () => {
    const quote = quotes.find((q) => `${q.provider}/${q.model}` === select.value);
    return drawHistory(quote, box, notes);
  };
  select.addEventListener("change", () => {
    state.model = select.value;
    history.replaceState(null, "", `/?${queryFromState(state)}`);
    draw();
  });
  return draw();
}

async function drawHistory(quote, box, notes) {
  const key = `${quote.provider}/${quote.model}`;
  let model;
  try {
    const response = await fetch(`/v1/models/${key.split("/").map(encodeURIComponent).join("/")}`);
    model = parseExact(await response.text());
    if (!response.ok) throw new Error(model.detail);
  } catch (error) {
    box.replaceChildren(el("p", {class: "error", text: `No history: ${error.message}`}));
    return;
  }
  if ($("history-model").value !== key) return;
  const periods = model.periods.filter((p) => p.currency === quote.currency);
  const quoteAt = Date.parse(quote.at);
  const starts = periods.map((p) => Date.parse(p.from));
  const explicitEnds = periods.filter((p) => p.until).map((p) => Date.parse(p.until));
  const t0 = Math.min(...starts, quoteAt);
  let t1 = Math.max(...starts, ...explicitEnds, quoteAt, Date.now());
  t1 += (t1 - t0) * 0.04 || 86400000;
  const segments = periods.map((p, i) => {
    const next = periods[i + 1];
    const end = p.until ? Date.parse(p.until) : next ? Date.parse(next.from) : t1;
    return {p, start: Date.parse(p.from), end};
  });
  const rateValues = [];
  for (const {p} of segments) {
    for (const r of HISTORY_RATES) if (p[r] !== null && p[r] !== undefined) rateValues.push(parseFloat(p[r]));
    for (const t of p.tiers) for (const r of HISTORY_RATES) if (t[r]) rateValues.push(parseFloat(t[r]));
    for (const w of p.windows) for (const r of HISTORY_RATES) if (w[r]) rateValues.push(parseFloat(w[r]));
  }
  const vmax = Math.max(...rateValues, 0) * 1.12 || 1;
  const W = 900, H = 320, L = 56, R = 16, T = 14, B = 46;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => H - B - (v / vmax) * (H - T - B);
  const svg = el("svg:svg", {class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", id: "history-svg",
    "aria-label": `Price history of ${key}: rates per million tokens over time`});
  // axes and gridlines
  for (let k = 0; k <= 4; k++) {
    const v = (vmax / 1.12) * (k / 4);
    svg.append(el("svg:line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e4e8ee"}),
               el("svg:text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", text: formatTick(v)}));
  }
  const years = [];
  for (let yr = new Date(t0).getUTCFullYear(); yr <= new Date(t1).getUTCFullYear(); yr++) {
    for (const month of [0, 3, 6, 9]) {
      const t = Date.UTC(yr, month, 1);
      if (t >= t0 && t <= t1) years.push(t);
    }
  }
  for (const t of years) {
    svg.append(el("svg:line", {x1: x(t), x2: x(t), y1: T, y2: H - B, stroke: "#eef1f5"}),
               el("svg:text", {x: x(t), y: H - B + 16, "text-anchor": "middle",
                               text: new Date(t).toISOString().slice(0, 7)}));
  }
  svg.append(el("svg:text", {x: 4, y: T + 4, text: `${quote.currency}/M`}));
  // discount windows: shaded where they applied
  for (const {p, start, end} of segments) {
    for (const w of p.windows) {
      const ws = Math.max(start, w.from ? Date.parse(w.from) : start);
      const we = Math.min(end, w.until ? Date.parse(w.until) : end);
      if (we <= ws) continue;
      svg.append(el("svg:rect", {x: x(ws), y: T, width: x(we) - x(ws), height: H - T - B, fill: "#fff3d6",
        class: "window-band"}, el("svg:title", {text: `${w.name} ${w.start}–${w.end} ${w.timezone}`})));
      svg.append(el("svg:text", {x: x(ws) + 3, y: T + 12, text: `${w.name} ${w.start.slice(0, 5)}–${w.end.slice(0, 5)} ${w.timezone}`}));
      for (const r of HISTORY_RATES) {
        if (w[r] === null || w[r] === undefined) continue;
        svg.append(el("svg:line", {x1: x(ws), x2: x(we), y1: y(parseFloat(w[r])), y2: y(parseFloat(w[r])),
          class: `s-${r}`, "stroke-width": 2, "stroke-dasharray": "2 3"},
          el("svg:title", {text: `${w.name} ${KIND_LABEL[r]}: ${money(w[r])}`})));
      }
    }
  }
  // rates as steps; tiers dashed
  for (const r of HISTORY_RATES) {
    let prev = null;
    for (const {p, start, end} of segments) {
      if (p[r] === null || p[r] === undefined) { prev = null; continue; }
      const v = y(parseFloat(p[r]));
      if (prev && prev.end === start) {
        svg.append(el("svg:line", {x1: x(start), x2: x(start), y1: prev.v, y2: v, class: `s-${r}`, "stroke-width": 2}));
      }
      svg.append(el("svg:line", {x1: x(start), x2: x(end), y1: v, y2: v, "stroke-width": 2.5,
        class: `step s-${r}`}, el("svg:title", {text: `${KIND_LABEL[r]} ${money(p[r])} from ${p.from}`})));
      for (const t of p.tiers) {
        if (!t[r]) continue;
        svg.append(el("svg:line", {x1: x(start), x2: x(end), y1: y(parseFloat(t[r])), y2: y(parseFloat(t[r])),
          "stroke-width": 1.5, "stroke-dasharray": "6 4", class: `tier s-${r}`},
          el("svg:title", {text: `tier ${t.boundary}${t.threshold} ${KIND_LABEL[r]}: ${money(t[r])}`})));
      }
      prev = {end, v};
    }
  }
  // the instant of the current quote
  svg.append(el("svg:line", {x1: x(quoteAt), x2: x(quoteAt), y1: T, y2: H - B, stroke: "#1d2430",
    "stroke-width": 1.5, "stroke-dasharray": "4 3", id: "quote-instant"}),
    el("svg:text", {x: Math.max(L, Math.min(x(quoteAt) - 60, W - 200)), y: H - 6, class: "bar-label", text: `quote: ${quote.at}`}));
  box.replaceChildren(svg);
  const legendKinds = HISTORY_RATES.filter((r) => periods.some((p) => p[r] !== null && p[r] !== undefined));
  notes.replaceChildren(
    el("li", {}, ...legendKinds.map((r) => el("span", {}, el("span", {class: `swatch k-${r}`}),
      `${KIND_LABEL[r]}  `)), "— solid: rates; dashed: prompt-size tiers; dotted on yellow: discount windows."),
    ...periods.map((p) => el("li", {class: "history-period"},
      `from ${p.from}${p.until ? ` until ${p.until}` : ""}: `,
      HISTORY_RATES.filter((r) => p[r] !== null && p[r] !== undefined).map((r) => `${KIND_LABEL[r]} ${money(p[r])}`).join(", "),
      p.tiers.length ? `; tiers: ${p.tiers.map((t) => `${t.boundary}${t.threshold} input ${money(t.input)} output ${money(t.output)}`).join(", ")}` : "",
      p.windows.length ? `; windows: ${p.windows.map((w) => `${w.name} ${w.start}–${w.end} ${w.timezone} output ${money(w.output)}`).join(", ")}` : "",
      p.batch ? `; batch input ${money(p.batch.input)} output ${money(p.batch.output)}` : "",
      " (", el("a", {href: p.source, rel: "noreferrer", text: "source"}), ")")));
}

function formatTick(v) {
  return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

// -- optional panels --------------------------------------------------------------------------------

const API_PATHS = new Set(($("catalog").dataset.api || "").split(" ").filter(Boolean));
let mounted = null;

const panelId = (panel) => `panel-${panel.path.split("/").pop()}`;

function mountPanel(panel) {
  const card = el("div", {class: "card", id: panelId(panel)}, el("h2", {text: panel.title}));
  $("panels").append(card);
  panel.mount(card);
}

let eagerMounted = false;

// At once on a page with nothing to compare; else after the results, so that they shift nothing below them.
function mountEagerPanels() {
  if (eagerMounted) return;
  eagerMounted = true;
  for (const panel of PANELS) if (panel.eager && API_PATHS.has(panel.path)) mountPanel(panel);
}

function panels(state, answer) {
  mountEagerPanels();
  if (mounted === null) {
    mounted = PANELS.filter((panel) => API_PATHS.has(panel.path) && !panel.eager);
    for (const panel of mounted) mountPanel(panel);
  }
  for (const panel of mounted) panel.update(state, answer);
}

// The projection panel: the comparison's token profile and models, spread over a span at a rate.
const projection = {state: null, models: [], baseline: null};

function projectionField(id, label, hint) {
  return el("div", {class: "field", "data-field": id},
    el("label", {for: id, text: label}),
    el("input", {id, name: id, autocomplete: "off", spellcheck: "false", "aria-describedby": `${id}-hint ${id}-error`}),
    el("small", {id: `${id}-hint`, text: hint}),
    el("output", {class: "error", id: `${id}-error`, for: id, role: "alert"}));
}

function mountProjection(card) {
  const form = el("form", {id: "projection-form", class: "inline-form", novalidate: true},
    projectionField("from", "From", "Start of the span, RFC 3339, e.g. 2025-01-01T00:00:00Z."),
    projectionField("until", "Until", "End of the span (exclusive)."),
    projectionField("requests_per_day", "Requests per day", "Spread evenly; a decimal is fine."),
    el("button", {type: "submit", id: "project", text: "Project"}));
  const out = el("div", {id: "projection"});
  card.append(el("p", {class: "meta", text: "The workload above (its token counts per request), on the models compared, over a span."}),
              form, el("output", {class: "error", id: "projection-error", role: "alert"}), out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const name of PROJECTION_FIELDS) {
      const value = $(name).value.trim();
      if (value) projection.state[name] = value; else delete projection.state[name];
    }
    history.replaceState(null, "", `/?${queryFromState(projection.state)}`);
    runProjection();
  });
}

function updateProjection(state, answer) {
  projection.state = state;
  projection.models = [...new Set(answer.quotes.map((q) => `${q.provider}/${q.model}`))].slice(0, 12);
  projection.baseline = answer.baseline;
  for (const name of PROJECTION_FIELDS) $(name).value = state[name] || "";
  $("projection").replaceChildren();
  if (PROJECTION_FIELDS.every((name) => state[name])) runProjection();
}

async function runProjection() {
  const state = projection.state;
  for (const id of [...PROJECTION_FIELDS, "projection"]) $(`${id}-error`).textContent = "";
  for (const name of PROJECTION_FIELDS) $(name).closest(".field").classList.remove("invalid");
  const usage = {};
  for (const name of COUNT_FIELDS) {
    if (name !== "requests" && state[name]) usage[name] = parseCount(state[name]);
  }
  if (state.batch === "true") usage.batch = true;
  const body = {usage, models: projection.models};
  if (projection.baseline) body.baseline = projection.baseline;
  for (const name of PROJECTION_FIELDS) if (state[name]) body[name] = state[name];
  // Counts as JSON integers of any size; requests_per_day as a JSON number written as typed.
  let text = JSON.stringify(body);
  for (const [name, digits] of Object.entries(usage)) {
    if (name !== "batch") text = text.replace(`${JSON.stringify(name)}:${JSON.stringify(digits)}`, `${JSON.stringify(name)}:${digits}`);
  }
  if (/^\d+(\.\d+)?$/.test(body.requests_per_day || "")) {
    text = text.replace(`"requests_per_day":${JSON.stringify(body.requests_per_day)}`, `"requests_per_day":${body.requests_per_day}`);
  }
  const response = await fetch("/v1/projections", {method: "POST", headers: {"content-type": "application/json"}, body: text});
  const answer = parseExact(await response.text());
  if (projection.state !== state) return;
  if (!response.ok) {
    const m = /^\$\.(from|until|requests_per_day)\b/.exec(answer.field || "");
    if (m) { $(`${m[1]}-error`).textContent = answer.detail; $(m[1]).closest(".field").classList.add("invalid"); }
    else $("projection-error").textContent = answer.detail || `HTTP ${response.status}`;
    return;
  }
  drawProjection(answer);
}

function drawProjection(answer) {
  const ranked = answer.projections;
  const months = [...new Set(ranked.flatMap((p) => p.months.map((m) => m.label)))];
  const cell = (p, label) => p.months.find((m) => m.label === label);
  const W = 900, H = 240, L = 56, B = 28, T = 10;
  const max = Math.max(...ranked.flatMap((p) => p.months.map((m) => parseFloat(m.total))), 0) || 1;
  const svg = el("svg:svg", {class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", id: "projection-svg",
    "aria-label": "Cost per month of each model"});
  const group = (W - L) / Math.max(months.length, 1);
  const bar = Math.max(2, Math.min(28, (group - 8) / ranked.length));
  months.forEach((label, i) => {
    const x0 = L + i * group + (group - bar * ranked.length) / 2;
    svg.append(el("svg:text", {x: L + i * group + group / 2, y: H - 8, "text-anchor": "middle", text: label}));
    ranked.forEach((p, j) => {
      const m = cell(p, label);
      if (!m) return;
      const h = (parseFloat(m.total) / max) * (H - T - B);
      svg.append(el("svg:rect", {x: x0 + j * bar, y: H - B - h, width: bar - 1, height: h, class: `series-${j % 6}`},
        el("svg:title", {text: `${p.provider}/${p.model} ${label}: ${money(m.total)} ${p.currency}`})));
    });
  });
  svg.append(el("svg:line", {x1: L, x2: W, y1: H - B, y2: H - B, stroke: "#b8c0cc"}));
  const legendRow = el("div", {class: "legend"}, ...ranked.map((p, j) =>
    el("span", {}, el("span", {class: `swatch series-${j % 6}`}), `${p.provider}/${p.model}`)));
  const table = el("table", {id: "projection-table"},
    el("thead", {}, el("tr", {}, el("th", {text: "month"}),
      ...ranked.map((p) => el("th", {class: "num", text: `${p.provider}/${p.model}`})))),
    el("tbody", {}, ...months.map((label) => el("tr", {"data-month": label}, el("td", {text: label}),
      ...ranked.map((p) => { const m = cell(p, label); return el("td", {class: "num", text: m ? `${money(m.total)}` : "—"}); })))),
    el("tfoot", {}, el("tr", {class: "projection-total"}, el("td", {text: "total"}),
      ...ranked.map((p) => el("td", {class: "num total", text: `${p.currency} ${money(p.total)}${p.exact ? "" : " (rounded to 10 places)"}`})))));
  $("projection").replaceChildren(legendRow, svg, table);
}

// The usage panel: a usage file (CSV, JSON Lines, Parquet) priced by POST /v1/usage, row by row.
const USAGE_TYPES = {csv: "text/csv", jsonl: "application/x-ndjson", ndjson: "application/x-ndjson",
                     parquet: "application/vnd.apache.parquet"};
const USAGE_AMOUNTS = [["input_amount", "input"], ["cached_input_amount", "cached input"],
                       ["cache_write_amount", "cache write"], ["cache_write_1h_amount", "cache write 1h"],
                       ["output_amount", "output"], ["total", "total"]];
let usageGeneration = 0;

function mountUsage(card) {
  const input = el("input", {type: "file", id: "usage-file", name: "usage-file", accept: ".csv,.jsonl,.ndjson,.parquet",
                             "aria-describedby": "usage-hint usage-error"});
  const drop = el("div", {class: "field drop", id: "usage-drop"},
    el("label", {for: "usage-file", text: "Usage file (drop it here or choose it)"}), input,
    el("small", {id: "usage-hint", text: "CSV, JSON Lines or Parquet, one row per workload (model, at, the token counts, requests, batch). Priced on the service, at each row's own instant."}),
    el("output", {class: "error", id: "usage-error", for: "usage-file", role: "alert"}));
  // Optional: the same usage priced on other models too (POST /v1/usage?reprice_on=).
  const reprice = el("div", {class: "field", id: "usage-reprice-field"},
    el("label", {for: "usage-reprice", text: "Also price it on (models, comma-separated; optional)"}),
    el("input", {id: "usage-reprice", name: "usage-reprice", placeholder: "deepseek-chat, claude-sonnet-4",
                 "aria-describedby": "usage-error"}));
  card.append(drop, reprice, el("div", {id: "usage"}));
  input.addEventListener("change", () => { if (input.files.length) priceUsage(input.files[0]); });
  reprice.querySelector("input").addEventListener("change", () => { if (usageFile) priceUsage(usageFile); });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) priceUsage(event.dataTransfer.files[0]);
  });
}

let usageFile = null;

async function priceUsage(file) {
  usageFile = file;
  const mine = ++usageGeneration;
  $("usage-error").textContent = "";
  $("usage-drop").classList.remove("invalid");
  const type = USAGE_TYPES[(file.name.split(".").pop() || "").toLowerCase()];
  if (!type) {
    $("usage-error").textContent = `${file.name}: name the file .csv, .jsonl or .parquet so the page can say what it is`;
    $("usage-drop").classList.add("invalid");
    return;
  }
  $("usage").replaceChildren(el("p", {class: "meta", text: `Pricing ${file.name}…`}));
  let response, answer;
  try {
    const others = $("usage-reprice").value.split(",").map((m) => m.trim()).filter(Boolean).join(",");
    const url = others ? `/v1/usage?reprice_on=${encodeURIComponent(others)}` : "/v1/usage";
    response = await fetch(url, {method: "POST", headers: {"content-type": type, accept: "application/json"}, body: file});
    answer = parseExact(await response.text());
  } catch (error) {
    if (mine === usageGeneration) { $("usage").replaceChildren(); $("usage-error").textContent = `The service did not answer: ${error.message}`; }
    return;
  }
  if (mine !== usageGeneration) return;
  if (!response.ok) {
    $("usage").replaceChildren();
    // The detail already names the row and column it refuses.
    $("usage-error").textContent = answer.detail || `HTTP ${response.status}`;
    $("usage-drop").classList.add("invalid");
    return;
  }
  drawUsage(file.name, answer);
}

function drawUsage(name, summary) {
  const counts = el("p", {id: "usage-counts"},
    `${name}: `, el("span", {class: "rows", text: `${summary.rows} rows`}), ", ",
    el("span", {class: "priced", text: `${summary.priced} priced`}), ", ",
    el("span", {class: "unpriced", text: `${summary.unpriced} unpriced`}), ".");
  const reasons = el("ul", {id: "usage-errors"}, ...Object.entries(summary.errors).map(([reason, n]) =>
    el("li", {"data-reason": reason, text: `${reason}: ${n}`})));
  const withReported = summary.totals.some((t) => t.reported_cost !== null && t.reported_cost !== undefined);
  const table = el("table", {id: "usage-totals"},
    el("thead", {}, el("tr", {}, el("th", {text: "currency"}), el("th", {class: "num", text: "rows"}),
      ...USAGE_AMOUNTS.map(([, label]) => el("th", {class: "num", text: label})),
      ...(withReported ? [el("th", {class: "num", text: "reported"}), el("th", {class: "num", text: "variance"})] : []))),
    el("tbody", {}, ...summary.totals.map((t) => el("tr", {"data-currency": t.currency},
      el("td", {text: t.currency}), el("td", {class: "num", text: t.rows}),
      ...USAGE_AMOUNTS.map(([key]) => el("td", {class: `num ${key}`, text: money(t[key])})),
      ...(withReported ? ["reported_cost", "variance"].map((key) =>
        el("td", {class: `num ${key}`, text: t[key] === null || t[key] === undefined ? "—" : money(t[key])})) : [])))));
  const notes = [el("p", {class: "meta", text: `Exact, not rounded. Catalog ${summary.catalog_digest}; engine ${summary.engine}.`})];
  const rec = summary.reconciliation;
  if (rec) {
    notes.push(el("p", {class: "meta", id: "usage-reconciliation",
      text: `Against reported_cost: ${rec.compared} rows compared, ${rec.over_tolerance} beyond ${money(rec.tolerance)}.`}));
  }
  $("usage").replaceChildren(counts, reasons, table, ...notes, ...repricedTable(summary.repriced || []));
}

// What the same usage would have cost on each other model, over the rows priced both ways.
function repricedTable(repriced) {
  if (!repriced.length) return [];
  const cell = (cls, text) => el("td", {class: cls, text});
  const rows = repriced.flatMap((r) => {
    const unpriced = Object.entries(r.errors).map(([reason, n]) => `${reason}: ${n}`).join(", ") || "none";
    const compared = r.compared.length ? r.compared : [null];
    return compared.map((c) => el("tr", {"data-model": `${r.provider}/${r.model_id}`, "data-currency": c ? c.currency : ""},
      cell("model", `${r.provider}/${r.model_id}`), cell("currency", c ? c.currency : "—"),
      cell("num rows", c ? c.rows : 0), cell("num original", c ? money(c.original) : "—"),
      cell("num repriced", c ? money(c.repriced) : "—"), cell("num difference", c ? money(c.difference) : "—"),
      cell("unpriced", unpriced)));
  });
  return [el("table", {id: "usage-repriced"},
    el("caption", {text: "The same usage on other models (same counts, instants and batch flags), over the rows priced both ways"}),
    el("thead", {}, el("tr", {}, ...["model", "currency", "rows", "as it ran", "on that model", "difference", "not priced there"]
      .map((label, i) => el("th", {class: i >= 2 && i <= 5 ? "num" : "", text: label})))),
    el("tbody", {}, ...rows))];
}

// -- the model picker --------------------------------------------------------------------------------

function addModel(name) {
  const input = $("models");
  const current = input.value.split(",").map((s) => s.trim()).filter(Boolean);
  if (!current.includes(name)) current.push(name);
  input.value = current.join(", ");
}

function showMatches() {
  const words = $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const provider = $("provider").value;
  const found = CATALOG.filter((m) => (!provider || m.provider === provider) &&
    words.every((w) => [m.key, m.name, ...m.aliases].some((n) => n.toLowerCase().includes(w))));
  // One Tab stop for the whole list (the first match); the arrow keys move within it.
  $("matches").replaceChildren(...found.slice(0, 60).map((m, i) =>
    el("li", {}, el("button", {type: "button", "data-name": shortName(m), title: `add ${m.key} to the models`,
                               tabindex: i === 0 ? "0" : "-1"},
      el("span", {class: "id", text: m.key}), " ", el("span", {class: "name", text: m.name})))));
  return found;
}

function stateFromForm() {
  const state = {};
  for (const name of [...COUNT_FIELDS, "at", "models", "baseline"]) {
    const value = $(name).value.trim();
    if (value) state[name] = value;
  }
  // The URL carries the counts as the API's integers; a count that does not parse stays as typed.
  for (const name of COUNT_FIELDS) {
    if (state[name]) { try { state[name] = parseCount(state[name]); } catch { /* reported by run() */ } }
  }
  if ($("models").value.trim()) state.models = $("models").value.split(",").map((s) => s.trim()).filter(Boolean).join(",");
  if ($("batch").checked) state.batch = "true";
  if ($("provider").value) state.provider = $("provider").value;
  const chosen = $("history-model");
  if (chosen) state.model = chosen.value;
  return state;
}

function start() {
  const names = $("model-names");
  for (const m of CATALOG) names.append(el("option", {value: shortName(m), label: m.name || m.key}));
  $("search").addEventListener("input", showMatches);
  $("provider").addEventListener("change", showMatches);
  $("search").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = $("matches").querySelector("button");
    if (first) { addModel(first.dataset.name); $("search").select(); }
  });
  $("search").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown") return;
    const first = $("matches").querySelector("button");
    if (first) { event.preventDefault(); first.focus(); }
  });
  $("matches").addEventListener("keydown", (event) => {
    const here = event.target.closest("li");
    if (!here || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    const next = event.key === "ArrowDown" ? here.nextElementSibling : here.previousElementSibling;
    if (next) next.querySelector("button").focus();
    else if (event.key === "ArrowUp") $("search").focus();
  });
  $("matches").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button) addModel(button.dataset.name);
  });
  $("workload").addEventListener("submit", (event) => {
    event.preventDefault();
    const state = stateFromForm();
    history.pushState(null, "", `/?${queryFromState(state)}`);
    run(state);
  });
  window.addEventListener("popstate", () => load());
  load();
}

function load() {
  const state = stateFromQuery(location.search);
  fillForm(state);
  showMatches();
  if (Object.keys(state).some((k) => k !== "provider")) run(state);
  else mountEagerPanels();
}

start();
