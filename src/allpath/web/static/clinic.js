// ALLPath clinician application and family view. Builds the DOM with textContent only (no
// HTML from data). Every clinical value comes from the service's JSON; this file only shows it.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const table = (head, rows, caption) => {
    const t = el("table");
    if (caption) t.appendChild(el("caption", caption));
    const thead = el("thead"), tr = el("tr");
    head.forEach((h) => { const th = el("th", h); th.scope = "col"; tr.appendChild(th); });
    thead.appendChild(tr); t.appendChild(thead);
    const tbody = el("tbody");
    rows.forEach((r) => {
      const row = el("tr");
      r.forEach((c) => {
        const td = el("td");
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "" : String(c);
        row.appendChild(td);
      });
      tbody.appendChild(row);
    });
    t.appendChild(tbody);
    return t;
  };
  let csrf = "";
  async function call(method, url, body) {
    const headers = {"Accept": "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    const res = await fetch(url, {method, headers, credentials: "same-origin",
                                  body: body === undefined ? undefined : JSON.stringify(body)});
    if (res.status === 401 && !url.endsWith("/login")) {
      location.href = "/app/login?next=" + encodeURIComponent(location.pathname);
      return {ok: false, status: 401, body: {}};
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = {detail: res.statusText}; }
    return {ok: res.ok, status: res.status, body: data};
  }
  const words = (key) => String(key === null || key === undefined ? "not known" : key).replace(/_/g, " ");

  // Problems with their fields: a table (field, problem, expected, got).
  function problemTable(body) {
    const errs = body.errors && body.errors.length ? body.errors
      : [{path: "", message: body.detail || body.title || "error"}];
    const wrap = el("div", null, "problems");
    wrap.appendChild(el("p", (body.title || "Problems") + (body.detail ? ": " + body.detail : ""), "error-text"));
    wrap.appendChild(table(["Field", "Problem", "Expected", "Got"],
      errs.map((p) => [el("code", p.path || "(whole file)"), p.message + (p.hint ? " (" + p.hint + ")" : ""),
                       p.expected || "", p.got || ""])));
    return wrap;
  }

  async function whoAmI() {
    const r = await call("GET", "/app/api/me");
    if (!r.ok) return false;
    csrf = r.body.csrf;
    if ($("who")) $("who").textContent = "Signed in as " + r.body.name;
    if ($("logout")) $("logout").addEventListener("click", async () => {
      await call("POST", "/app/api/logout");
      location.href = "/app/login";
    });
    return true;
  }

  // --- sign-in ---------------------------------------------------------------------------
  function login() {
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await call("POST", "/app/api/login",
                           {name: $("login-name").value, password: $("login-password").value});
      if (!r.ok) { $("login-error").textContent = r.body.detail || "Sign-in failed."; return; }
      const next = new URLSearchParams(location.search).get("next") || "/app";
      location.href = /^\/app(\/[A-Za-z0-9_\-\/]*)?$/.test(next) ? next : "/app";
    });
  }

  // --- patient list and upload -------------------------------------------------------------
  async function patients() {
    if (!await whoAmI()) return;
    let timer = null;
    const load = async () => {
      const q = $("search").value.trim();
      const r = await call("GET", "/app/api/patients" + (q ? "?q=" + encodeURIComponent(q) : ""));
      if (!r.ok) { $("patients").replaceChildren(problemTable(r.body)); return; }
      $("count").textContent = r.body.shown + " shown of " + r.body.total + " patients";
      $("patients").replaceChildren(table(["Record", "Diagnosis", "Subtype", "Risk groups", "Updated"],
        r.body.items.map((p) => {
          const a = p.latest_assessment || {};
          const link = el("a", p.external_id); link.href = "/app/patients/" + encodeURIComponent(p.id);
          const risk = Object.entries(a.risk || {}).map(([s, g]) => s + ": " + words(g)).join("; ");
          return [link, a.diagnosis || "", a.subtype || "", risk, (p.updated_at || "").slice(0, 10)];
        }), "Stored patients"));
    };
    $("search").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
    recordForm();
    $("upload-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = $("upload-result");
      const file = $("upload-file").files[0];
      if (!file) { out.replaceChildren(el("p", "Choose a record file first.", "error-text")); return; }
      const text = await file.text();
      const r = await call("POST", "/app/api/patients", {text, filename: file.name});
      if (!r.ok) { out.replaceChildren(problemTable(r.body)); return; }
      const link = el("a", "Open " + r.body.external_id); link.href = "/app/patients/" + encodeURIComponent(r.body.id);
      const p = el("p", "Added. "); p.appendChild(link);
      out.replaceChildren(p);
      (r.body.warnings || []).forEach((w) => out.appendChild(el("p", "Note: " + w, "muted")));
      load();
    });
    load();
  }

  // --- the structured record form ---------------------------------------------------------
  // [id, label, kind, options]; kind: text | date | number | select | unit-number
  const COUNT_UNITS = ["10*9/L", "10*3/uL", "/uL"];
  const RF = {
    "rf-patient": [["id", "Record id", "text"], ["sex", "Sex", "select", ["", "female", "male", "other", "unknown"]],
                   ["birth_date", "Date of birth", "date"], ["diagnosis_date", "Date of diagnosis (diagnostic marrow)", "date"],
                   ["induction_start", "First day of induction (if started)", "date"],
                   ["height", "Height (cm)", "number"], ["weight", "Weight (kg)", "number"]],
    "rf-cbc": [["cbc_date", "Date of the blood count", "date"], ["wbc", "White cells (WBC)", "unit-number", COUNT_UNITS],
               ["hemoglobin", "Haemoglobin", "unit-number", ["g/dL", "g/L", "mmol/L"]],
               ["platelets", "Platelets", "unit-number", COUNT_UNITS], ["anc", "Neutrophils (ANC)", "unit-number", COUNT_UNITS],
               ["blood_blasts", "Blood blasts (%)", "number"]],
    "rf-marrow": [["marrow_date", "Date of the marrow and CSF", "date"], ["marrow_blasts", "Marrow blasts (%)", "number"],
                  ["csf_wbc", "CSF white cells (/uL)", "number"], ["csf_rbc", "CSF red cells (/uL)", "number"],
                  ["csf_blasts", "Blasts in the CSF", "select", ["", "present", "absent"]]],
    "rf-genetics": [["genetics_date", "Date of the genetics report", "date"], ["karyotype", "Karyotype (ISCN)", "text"],
                    ["chromosome_count", "Modal chromosome number", "number"],
                    ["fusions", "Fusions found (comma-separated, e.g. ETV6::RUNX1; 'none' if tested and none)", "text"]],
  };
  const MARKERS = ["CD19", "CD10", "CD22", "cCD79a", "CD20", "cCD3", "CD3", "CD7", "CD1a", "MPO", "TdT", "CD34", "sIg"];
  function field(host, [id, label, kind, options]) {
    const wrap = el("p", null, "rf-field");
    const lab = el("label", label); lab.htmlFor = "rf-" + id; wrap.appendChild(lab);
    let input;
    if (kind === "select") { input = el("select"); options.forEach((o) => input.appendChild(new Option(o || "not known", o))); }
    else { input = el("input"); input.type = kind === "unit-number" ? "number" : kind; if (kind !== "text" && kind !== "date") { input.step = "any"; input.inputMode = "decimal"; } }
    input.id = "rf-" + id; wrap.appendChild(input);
    if (kind === "unit-number") {
      const u = el("select"); u.id = "rf-" + id + "-unit"; u.appendChild(new Option("unit", ""));
      options.forEach((o) => u.appendChild(new Option(o, o)));
      const ul = el("label", label + " unit", "visually-hidden"); ul.htmlFor = u.id;
      wrap.appendChild(ul); wrap.appendChild(u); u.setAttribute("aria-describedby", "rf-err-" + id);
    }
    const err = el("span", "", "field-error"); err.id = "rf-err-" + id; wrap.appendChild(err);
    input.setAttribute("aria-describedby", err.id);
    host.appendChild(wrap);
  }
  function recordForm() {
    Object.entries(RF).forEach(([hostId, list]) => list.forEach((f) => field($(hostId), f)));
    field($("rf-markers"), ["flow_date", "Date of the flow cytometry", "date"]);
    MARKERS.forEach((m) => field($("rf-markers"), ["m-" + m, m, "select", ["", "positive", "negative", "dim", "partial"]]));
    const v = (id) => $("rf-" + id).value.trim();
    $("record-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const where = {};  // record path -> form field id
      const rec = {format: "allpath.record/1", id: v("id")}; where.id = "id";
      [["sex", "sex"], ["birth_date", "birth_date"], ["diagnosis_date", "diagnosis_date"]].forEach(([k, f]) => { if (v(f)) { rec[k] = v(f); where[k] = f; } });
      const obs = [];
      const add = (code, f, time, timeField, unit) => {
        const value = v(f); if (value === "") return;
        const o = {code, value: /^-?[0-9.]+(e-?[0-9]+)?$/i.test(value) ? Number(value) : value, time: time || ""};
        if (unit !== undefined) o.unit = unit;
        where["observations[" + obs.length + "]"] = f;
        where["observations[" + obs.length + "].time"] = timeField;
        obs.push(o);
      };
      ["wbc", "hemoglobin", "platelets", "anc"].forEach((c) => add(c, c, v("cbc_date"), "cbc_date", $("rf-" + c + "-unit").value || null));
      add("blood_blasts", "blood_blasts", v("cbc_date"), "cbc_date", "%");
      add("height", "height", v("cbc_date") || v("diagnosis_date"), "cbc_date", "cm");
      add("weight", "weight", v("cbc_date") || v("diagnosis_date"), "cbc_date", "kg");
      add("marrow_blasts", "marrow_blasts", v("marrow_date"), "marrow_date", "%");
      add("csf_wbc", "csf_wbc", v("marrow_date"), "marrow_date", "/uL");
      add("csf_rbc", "csf_rbc", v("marrow_date"), "marrow_date", "/uL");
      add("csf_blasts", "csf_blasts", v("marrow_date"), "marrow_date");
      obs.forEach((o) => { if (o.unit === null) delete o.unit; });
      rec.observations = obs;
      const markers = {};
      MARKERS.forEach((m) => { if (v("m-" + m)) { markers[m] = v("m-" + m); where["immunophenotype.markers." + m] = "m-" + m; } });
      if (Object.keys(markers).length) { rec.immunophenotype = {time: v("flow_date"), markers}; where["immunophenotype.time"] = "flow_date"; }
      if (v("karyotype") || v("chromosome_count") || v("fusions")) {
        const g = {time: v("genetics_date")}; where["genetics.time"] = "genetics_date";
        if (v("karyotype")) { g.karyotype = v("karyotype"); where["genetics.karyotype"] = "karyotype"; }
        if (v("chromosome_count")) { g.chromosome_count = Number(v("chromosome_count")); where["genetics.chromosome_count"] = "chromosome_count"; }
        if (v("fusions")) { g.fusions = v("fusions").toLowerCase() === "none" ? [] : v("fusions").split(",").map((x) => x.trim()).filter(Boolean); where["genetics.fusions"] = "fusions"; }
        rec.genetics = g;
      }
      if (v("induction_start")) { rec.treatment = [{phase: "induction", start: v("induction_start")}]; where.treatment = "induction_start"; }
      document.querySelectorAll("#record-form .field-error").forEach((e) => { e.textContent = ""; });
      const out = $("record-result"); out.replaceChildren();
      const r = await call("POST", "/app/api/patients/form", {record: rec});
      if (r.ok) {
        const link = el("a", "Open " + r.body.external_id); link.href = "/app/patients/" + encodeURIComponent(r.body.id);
        const p = el("p", "Added. "); p.appendChild(link); out.appendChild(p);
        return;
      }
      const rest = [];
      (r.body.errors || []).forEach((p) => {
        const path = (p.path || "").replace(/^body\.record\./, "");
        let key = path, f = where[key];
        while (!f && key.includes(".")) { key = key.slice(0, key.lastIndexOf(".")); f = where[key]; }
        if (!f) { const m = /^(observations\[\d+\])/.exec(path); if (m) f = where[m[1]]; }
        if (!f && /^genetics\.fusions/.test(path)) f = "fusions";
        const text = p.message + (p.expected ? "; expected " + p.expected : "") + (p.got ? ", got " + p.got : "");
        if (f && $("rf-err-" + f)) { const e = $("rf-err-" + f); e.textContent = (e.textContent ? e.textContent + " " : "") + text; }
        else rest.push(p);
      });
      out.appendChild(el("p", (r.body.errors || []).length + " problem(s); each is shown beside its field.", "error-text"));
      if (rest.length || !(r.body.errors || []).length) out.appendChild(problemTable({...r.body, errors: rest}));
    });
  }

  // --- rule explanation ------------------------------------------------------------------
  async function explain(ruleId) {
    const res = await fetch("/web/explain/" + encodeURIComponent(ruleId));
    const d = await res.json(), box = $("explain-body");
    const h = el("h2", "Rule " + (d.rule_id || ruleId)); h.id = "explain-title";
    box.replaceChildren(h);
    if (!res.ok) { box.appendChild(el("p", d.detail)); $("explain").showModal(); return; }
    box.appendChild(el("p", d.decision + (d.scheme ? " (scheme " + d.scheme + ")" : "")));
    box.appendChild(el("pre", "when: " + JSON.stringify(d.when) + "\nthen: " + JSON.stringify(d.then)));
    box.appendChild(el("p", "Evidence: " + d.evidence + (d.note ? " - " + d.note : "")));
    box.appendChild(el("h3", "Sources"));
    const ul = el("ul");
    d.sources.forEach((s) => ul.appendChild(el("li", "[" + s.id + "] " + s.reference)));
    box.appendChild(ul);
    $("explain").showModal();
    $("explain-close").focus();
  }
  function ruleButton(ruleId, label) {
    if (!ruleId) return el("span", "no rule");
    const b = el("button", label || ruleId, "link");
    b.type = "button";
    b.setAttribute("aria-label", (label ? label + " " : "") + "Explain rule " + ruleId);
    b.addEventListener("click", () => explain(ruleId));
    return b;
  }

  // --- the timeline plots (uPlot) ----------------------------------------------------------
  const COLOURS = ["#1f5fbf", "#b3261e", "#1e7a3c", "#7a3db8", "#8a5a00"];
  const BANDS = ["rgba(31,95,191,0.10)", "rgba(199,106,0,0.12)", "rgba(30,122,60,0.10)",
                 "rgba(122,61,184,0.10)", "rgba(138,90,0,0.10)", "rgba(80,80,80,0.08)"];
  const SHAPES = ["circle", "square", "triangle", "diamond", "cross"];
  const ts = (iso) => Date.parse(iso + "T00:00:00Z") / 1000;
  function shapePath(shape) {
    return (u, seriesIdx) => {
      const s = u.series[seriesIdx], xs = u.data[0], ys = u.data[seriesIdx];
      const ctx = u.ctx; ctx.save(); ctx.fillStyle = s._stroke || "#000"; ctx.strokeStyle = s._stroke || "#000";
      const r = 4 * devicePixelRatio;
      for (let i = 0; i < xs.length; i++) {
        if (ys[i] === null || ys[i] === undefined) continue;
        const x = u.valToPos(xs[i], "x", true), y = u.valToPos(ys[i], s.scale, true);
        ctx.beginPath();
        if (shape === "square") ctx.rect(x - r, y - r, 2 * r, 2 * r);
        else if (shape === "triangle") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath(); }
        else if (shape === "diamond") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); }
        else if (shape === "cross") { ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); ctx.lineWidth = 2; ctx.stroke(); continue; }
        else ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
      return null;
    };
  }
  function drawChart(host, panel, tl) {
    const xsSet = new Set();
    panel.series.forEach((s) => s.points.forEach(([d]) => xsSet.add(ts(d))));
    const xs = Array.from(xsSet).sort((a, b) => a - b);
    const positive = [];
    panel.series.forEach((s) => s.points.forEach(([, v]) => { if (v > 0) positive.push(v); }));
    const floor = positive.length ? Math.min(...positive) / 10 : 1e-3;
    const data = [xs];
    const series = [{label: "date", value: (u, v) => v === null ? "" : new Date(v * 1000).toISOString().slice(0, 10)}];
    panel.series.forEach((s, i) => {
      const byX = new Map(s.points.map(([d, v]) => [ts(d), panel.log && v <= 0 ? floor : v]));
      data.push(xs.map((x) => byX.has(x) ? byX.get(x) : null));
      series.push({label: s.label + " [" + SHAPES[i % SHAPES.length] + "]", stroke: COLOURS[i % COLOURS.length],
                   width: 1.5, spanGaps: true, _stroke: COLOURS[i % COLOURS.length],
                   points: {show: shapePath(SHAPES[i % SHAPES.length])}});
    });
    const min = Math.min(...xs, ...tl.phases.map((p) => ts(p.start))) - 86400;
    const max = Math.max(...xs, ...tl.phases.map((p) => ts(p.end) + 86400)) + 86400;
    const opts = {
      title: panel.title, width: Math.min(host.clientWidth || 900, 1000), height: 260,
      scales: {x: {time: true, min, max}, y: panel.log ? {distr: 3} : {}},
      axes: [{label: "date"}, {label: panel.axis, size: 70}],
      series,
      hooks: {drawClear: [(u) => {
        const ctx = u.ctx; ctx.save();
        tl.phases.forEach((p, i) => {
          const x0 = u.valToPos(ts(p.start), "x", true), x1 = u.valToPos(ts(p.end) + 86400, "x", true);
          ctx.fillStyle = BANDS[i % BANDS.length];
          ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
          ctx.fillStyle = "#333"; ctx.font = (11 * devicePixelRatio) + "px system-ui";
          ctx.fillText(p.name, x0 + 3, u.bbox.top + 12 * devicePixelRatio);
        });
        ctx.setLineDash([4, 4]); ctx.strokeStyle = "#444";
        tl.checkpoints.forEach((c) => {
          const x = u.valToPos(ts(c.date), "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        });
        ctx.restore();
      }]},
    };
    const fig = el("figure", null, "chart");
    fig.setAttribute("data-panel", panel.title);
    host.appendChild(fig);
    // eslint-disable-next-line no-undef
    new uPlot(opts, data, fig);
    const cap = el("figcaption", panel.title + " (" + panel.axis + ")" +
      (panel.log ? "; a result of zero (not detected) is drawn at a tenth of the smallest result" : ""));
    fig.appendChild(cap);
    const det = el("details"); det.appendChild(el("summary", "The numbers: " + panel.title));
    const rows = [];
    panel.series.forEach((s) => s.points.forEach(([d, v]) => rows.push([d, s.label, v])));
    rows.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    det.appendChild(table(["Date", "Result", "Value"], rows));
    fig.appendChild(det);
  }
  function drawTimeline(tl) {
    const host = $("charts"); host.replaceChildren();
    if (!tl.panels.length) { host.appendChild(el("p", "No dated blood counts, blasts or MRD results in the record.")); return; }
    if (tl.phases.length) {
      host.appendChild(el("p", "Phases: " + tl.phases.map((p) => p.name + " (" + p.start + " to " + p.end + ")").join("; ")));
    }
    if (tl.checkpoints.length) {
      const ul = el("ul", null, "checkpoints");
      tl.checkpoints.forEach((c) => ul.appendChild(el("li", c.date + ": " + c.title)));
      const det = el("details"); det.appendChild(el("summary", "Checkpoints (dashed lines)")); det.appendChild(ul);
      host.appendChild(det);
    }
    tl.panels.forEach((p) => drawChart(host, p, tl));
  }

  // --- the dashboard ----------------------------------------------------------------------
  const CBC = [["wbc", "White cells (WBC)", ["10*9/L", "10*3/uL", "/uL"]],
               ["anc", "Neutrophils (ANC)", ["10*9/L", "10*3/uL", "/uL"]],
               ["hemoglobin", "Haemoglobin", ["g/dL", "g/L", "mmol/L"]],
               ["platelets", "Platelets", ["10*9/L", "10*3/uL", "/uL"]],
               ["blood_blasts", "Blood blasts", ["%"]]];
  function cbcForm() {
    const host = $("cbc-fields"); host.replaceChildren();
    CBC.forEach(([key, label, units]) => {
      const fs = el("fieldset"); fs.appendChild(el("legend", label));
      const v = el("input"); v.id = "cbc-" + key; v.type = "number"; v.step = "any"; v.inputMode = "decimal";
      const lv = el("label", "Value"); lv.htmlFor = v.id;
      const u = el("select"); u.id = "cbc-" + key + "-unit";
      u.appendChild(new Option("unit", ""));
      units.forEach((x) => u.appendChild(new Option(x, x)));
      const lu = el("label", "Unit"); lu.htmlFor = u.id;
      const err = el("span", "", "field-error"); err.id = "err-counts." + key;
      v.setAttribute("aria-describedby", err.id); u.setAttribute("aria-describedby", err.id);
      [lv, v, lu, u, err].forEach((x) => fs.appendChild(x));
      host.appendChild(fs);
    });
  }
  function showCbcErrors(body) {
    document.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    const rest = [];
    (body.errors || []).forEach((p) => {
      const m = /^(counts\.[a-z_]+)/.exec(p.path || "");
      const target = m ? $("err-" + m[1]) : (p.path === "date" ? $("err-date") : null);
      const text = p.message + (p.expected ? "; expected " + p.expected : "") + (p.got ? ", got " + p.got : "");
      if (target) target.textContent = (target.textContent ? target.textContent + " " : "") + text;
      else rest.push(p);
    });
    $("cbc-errors").replaceChildren();
    if (rest.length || !(body.errors || []).length) $("cbc-errors").appendChild(problemTable({...body, errors: rest}));
  }
  function dosesTable(phase) {
    return table(["Drug", "Route", "Days", "Dates", "Dose"], (phase.components || []).map((c) => {
      const days = (c.days || []).join(", ");
      // "every 12 hours x6 doses" must never read as once a day
      const when = c.schedule ? (days ? days + ": " + c.schedule : c.schedule) : days;
      let dose = c.dose ? (c.dose.amount !== null && c.dose.amount !== undefined ? c.dose.amount + " " + (c.dose.unit || "") +
        (c.dose.prescribed ? " (" + c.dose.prescribed + ")" : "") : words(c.dose.status)) : "";
      if (c.doses_per_day > 1) dose = "each dose " + dose + "; " + c.doses_per_day + " doses a day, " + c.doses + " in all";
      return [c.drug, c.route || "", when,
        (c.dates || []).map((d) => d.from === d.to ? d.from : d.from + " to " + d.to).join("; "), dose];
    }), phase.title);
  }
  function render(doc) {
    const a = doc.assessment;
    document.title = "ALLPath - " + a.patient_id;
    $("title").textContent = "Patient " + a.patient_id;
    $("ics").href = "/app/api/patients/" + encodeURIComponent(doc.id) + "/roadmap.ics";
    const sum = $("summary-body"); sum.replaceChildren();
    const d = a.diagnosis || {}, sub = d.subtype || {};
    const dl = el("dl");
    const row = (k, v) => { dl.appendChild(el("dt", k)); const dd = el("dd"); if (v instanceof Node) dd.appendChild(v); else dd.textContent = v; dl.appendChild(dd); };
    row("Age and sex", (a.age_text || "age not known") + ", " + (a.sex || "sex not known"));
    row("As of", a.as_of || "");
    row("Diagnosis", (d.status || "not known") + (d.lineage ? ", " + d.lineage + "-lineage" : ""));
    const subDd = el("span", (sub.key || "not known") + (sub.who_haem5 ? " - " + sub.who_haem5 : "") + " ");
    if (sub.rule_id) subDd.appendChild(ruleButton(sub.rule_id, "why?"));
    row("Subtype", subDd);
    row("CNS status", a.cns_status || "not known");
    sum.appendChild(dl);
    sum.appendChild(table(["Scheme", "Risk group", "Rule and sources", "Still missing"], (a.risk || []).map((r) => [
      r.scheme, words(r.group) + (r.provisional && r.provisional_group ? " (provisionally " + words(r.provisional_group) + ")" : ""),
      (() => { const s = el("span"); s.appendChild(ruleButton(r.rule_id)); s.appendChild(el("span", " [" + (r.citations || []).join(", ") + "]")); return s; })(),
      (r.missing || []).map(words).join(", ")]), "Risk groups"));
    // not-applicable schemes are kept on screen and left off the printed summary
    const riskRows = sum.querySelectorAll("table:last-of-type tbody tr");
    (a.risk || []).forEach((r, i) => { if (r.group === "not_applicable" && riskRows[i]) riskRows[i].classList.add("print-skip"); });
    if ((a.missing || []).length) {
      sum.appendChild(el("h3", "Missing data and the test that settles it"));
      const ul = el("ul");
      a.missing.forEach((m) => ul.appendChild(el("li", words(m.fact) + ": " + m.test)));
      sum.appendChild(ul);
    }
    const w = a.where_now || {}, now = $("now-body"); now.replaceChildren();
    now.appendChild(el("p", w.status || "Not known", "status-line"));
    if ((w.overdue || []).length) {
      now.appendChild(table(["Date", "What", "Why"], w.overdue.map((o) => [o.date, o.title, o.reason]), "Overdue"));
    }
    now.appendChild(table(["Date", "Kind", "What", "Detail"], (w.due_next || []).map((o) => [o.date, o.kind, o.title, o.detail]), "Due next"));
    now.querySelectorAll("table:last-of-type tbody tr").forEach((tr, i) => { if (i >= 4) tr.classList.add("print-skip"); });
    if (w.note) now.appendChild(el("p", w.note, "muted"));
    const al = $("alerts-body"); al.replaceChildren();
    if (!(a.alerts || []).length) al.appendChild(el("p", "No alerts."));
    else {
      const ul = el("ul", null, "alert-list");
      a.alerts.forEach((x) => {
        const li = el("li"); li.appendChild(el("strong", words(x.severity).toUpperCase() + ": ", "sev-" + x.severity));
        li.appendChild(el("span", x.message + " "));
        if (x.trace && x.trace.rule_id) li.appendChild(ruleButton(x.trace.rule_id, "why?"));
        ul.appendChild(li);
      });
      al.appendChild(ul);
    }
    drawTimeline(doc.timeline);
    const ti = $("titration-body"); ti.replaceChildren();
    const t = a.titration;
    $("titration").classList.toggle("print-skip", !t);
    if (!t) ti.appendChild(el("p", "No maintenance visits are recorded, so there is nothing to titrate."));
    else {
      if (t.start && t.start.note) ti.appendChild(el("p", "Starting doses: " + t.start.note));
      if (t.start && t.start.provisional_reason) ti.appendChild(el("p", t.start.provisional_reason, "muted"));
      const unit = t.dose_unit || "";
      const num = (x) => x === null || x === undefined ? "" : String(x);
      ti.appendChild(table(["Date", "Week", "ANC (x10^9/L)", "Platelets (x10^9/L)", "6-MP given (" + unit + "/day)",
                            "MTX given (" + unit + "/week)", "Action", "6-MP next", "MTX next", "Why", "Rule"],
        (t.visits || []).map((v) => [v.date, num(v.week), num(v.anc), num(v.platelets), num(v.mp_given), num(v.mtx_given),
          words(v.action), v.mp_recommended || "", v.mtx_recommended || "", v.reason || "",
          (v.rules || []).length ? ruleButton(v.rules[0]) : ""]), "Maintenance visits"));
      (t.problems || []).forEach((p) => ti.appendChild(el("p", typeof p === "string" ? p : JSON.stringify(p), "error-text")));
      if (t.disclaimer) ti.appendChild(el("p", t.disclaimer, "muted"));
    }
    const rm = $("roadmap-body"); rm.replaceChildren();
    const road = a.roadmap;
    if (!road || !road.template) {
      rm.appendChild(el("p", "No treatment template was chosen for this record."));
      // a rule that chose no template says why (a late isolated extramedullary relapse)
      const sel = road && road.selection;
      if (sel && sel.rule_id && sel.note) {
        const why = el("p", sel.note + " ");
        why.appendChild(ruleButton(sel.rule_id, "why no template?"));
        rm.appendChild(why);
      }
    } else {
      const head = el("p", road.template.title + " ");
      if (road.selection && road.selection.rule_id) head.appendChild(ruleButton(road.selection.rule_id, "why this template?"));
      rm.appendChild(head);
      rm.appendChild(table(["Phase", "Start", "End", "Days"], (road.phases || []).map((p) => [p.title, p.start, p.end, p.length_days]), "Phases"));
      const byDate = [];
      (road.phases || []).forEach((p) => (p.components || []).forEach((c) => (c.dates || []).forEach((d) => byDate.push([
        d.from === d.to ? d.from : d.from + " to " + d.to, p.title, c.drug + (c.route ? " " + c.route : ""),
        c.dose && c.dose.amount !== null && c.dose.amount !== undefined ? c.dose.amount + " " + (c.dose.unit || "") : words(c.dose ? c.dose.status : "not computed")]))));
      byDate.sort((x, y) => x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0);
      const cal = el("details", null, "calendar"); cal.appendChild(el("summary", "Calendar: every planned dose by date (" + byDate.length + ")"));
      cal.appendChild(table(["Date", "Phase", "Drug", "Dose"], byDate, "Planned doses by date"));
      rm.appendChild(cal);
      (road.phases || []).forEach((p) => {
        const det = el("details"); det.appendChild(el("summary", p.title + ": " + p.start + " to " + p.end));
        det.appendChild(dosesTable(p)); rm.appendChild(det);
      });
      rm.appendChild(el("p", road.disclaimer || "", "muted"));
    }
    $("disclaimer").textContent = a.disclaimer;
  }
  async function patient() {
    if (!await whoAmI()) return;
    const id = decodeURIComponent(location.pathname.split("/").pop());
    const base = "/app/api/patients/" + encodeURIComponent(id);
    const load = async () => {
      const r = await call("GET", base);
      if (!r.ok) { $("load-error").replaceChildren(problemTable(r.body)); return; }
      render(r.body);
    };
    cbcForm();
    $("cbc-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const counts = {};
      CBC.forEach(([key]) => {
        const v = $("cbc-" + key).value.trim(), u = $("cbc-" + key + "-unit").value;
        if (v !== "" || u !== "") counts[key] = {value: v === "" ? null : Number(v), unit: u || null};
      });
      const r = await call("POST", base + "/cbc", {date: $("cbc-date").value, counts});
      if (!r.ok) { showCbcErrors(r.body); return; }
      showCbcErrors({errors: []});
      $("cbc-errors").replaceChildren(el("p", "Added " + r.body.added + " results (record version " + r.body.record_version + ")."));
      $("cbc-form").reset();
      await load();
    });
    $("print").addEventListener("click", () => window.print());
    $("share").addEventListener("click", async () => {
      const r = await call("POST", base + "/share", {hours: 72});
      const out = $("share-result");
      if (!r.ok) { out.replaceChildren(problemTable(r.body)); return; }
      const url = location.origin + r.body.path;
      const a = el("a", url); a.href = r.body.path; a.id = "family-link";
      const p = el("p", "Family link (valid until " + r.body.expires.slice(0, 16).replace("T", " ") + " UTC): ");
      p.appendChild(a);
      out.replaceChildren(p, el("p", "Or give them this code for the family page: " + r.body.code, "muted"));
    });
    $("explain-close").addEventListener("click", () => $("explain").close());
    await load();
  }

  // --- family view of a stored patient -------------------------------------------------------
  function sectionsOf(doc, topicId, only) {
    const t = (doc.topics || []).find((x) => x.id === topicId);
    if (!t) return [];
    return t.sections.filter((s) => !only || only.includes(s.id));
  }
  function paragraphs(host, sections) {
    sections.forEach((s) => host.appendChild(el("p", s.text)));
  }
  async function familyPatient() {
    const token = decodeURIComponent(location.pathname.split("/").pop());
    const res = await fetch("/family/api/" + encodeURIComponent(token));
    const doc = await res.json();
    if (!res.ok) {
      $("load-error").replaceChildren(el("p", "This link does not work any more. Ask your care team for a new one.", "error-text"));
      return;
    }
    $("title").textContent = doc.title;
    const where = $("where");
    if (doc.phase) where.appendChild(el("p", "Now: " + doc.phase.title + ", day " + doc.phase.day + " (it started " + doc.phase.since + ").", "status-line"));
    (doc.intro || []).forEach((t) => where.appendChild(el("p", t)));
    const up = $("upcoming");
    if (!doc.upcoming.length) up.appendChild(el("p", "Nothing is planned in the next weeks that we know of. Ask your team."));
    else {
      const ul = el("ul", null, "plain-list");
      doc.upcoming.forEach((u) => { const li = el("li"); li.appendChild(el("strong", u.when + ": ")); li.appendChild(el("span", u.what + " - " + u.title)); ul.appendChild(li); });
      up.appendChild(ul);
    }
    paragraphs($("when-to-call"), sectionsOf(doc, "when-to-call"));
    paragraphs($("phase-meaning"), sectionsOf(doc, "treatment-phases"));
    paragraphs($("questions"), sectionsOf(doc, "questions"));
    paragraphs($("glossary"), sectionsOf(doc, "glossary"));
    const out = $("outlook");
    paragraphs(out, sectionsOf(doc, "outlook"));
    const srcs = [];
    sectionsOf(doc, "outlook").forEach((s) => (s.sources || []).forEach((x) => srcs.push(x)));
    if (srcs.length) {
      out.appendChild(el("h3", "Where these numbers come from"));
      const ul = el("ul");
      srcs.forEach((s) => {
        const li = el("li", s.reference + " ");
        if (/^https:\/\//.test(s.url || "")) { const a = el("a", "Read the source"); a.href = s.url; a.rel = "noopener noreferrer"; li.appendChild(a); }
        ul.appendChild(li);
      });
      out.appendChild(ul);
    }
    $("disclaimer").textContent = doc.disclaimer + " If someone is very sick, call your emergency number now.";
  }

  // --- population screening ----------------------------------------------------------------
  const SCREEN_UNITS = [["wbc", "White cells (wbc)", ["10*9/L", "10*3/uL", "/uL"]],
                        ["hemoglobin", "Haemoglobin", ["g/dL", "g/L", "mmol/L"]],
                        ["platelets", "Platelets", ["10*9/L", "10*3/uL", "/uL"]],
                        ["anc", "Neutrophils (anc)", ["10*9/L", "10*3/uL", "/uL"]]];
  async function screen() {
    if (!await whoAmI()) return;
    const host = $("screen-units");
    SCREEN_UNITS.forEach(([col, label, units]) => {
      const wrap = el("p"), sel = el("select"); sel.id = "unit-" + col;
      const lab = el("label", label); lab.htmlFor = sel.id;
      units.forEach((u) => sel.appendChild(new Option(u, u)));
      wrap.appendChild(lab); wrap.appendChild(sel); host.appendChild(wrap);
    });
    const STEPS = {queued: 1, running: 2, done: 3, failed: 3};
    const show = (job) => {
      $("screen-status").textContent = "Job " + job.id.slice(0, 8) + ": " + job.status +
        (job.status === "done" ? " - finished." : job.status === "failed" ? " - " + (job.error || "failed") : " ...");
      $("screen-progress").value = STEPS[job.status] || 0;
      const out = $("screen-summary"); out.replaceChildren();
      if (job.status !== "done" || !job.summary) return;
      const s = job.summary;
      out.appendChild(table(["Rows", "Flagged", "Rows that could not be read"],
                            [[s.rows, s.flagged, s.bad_rows]], "Summary"));
      out.appendChild(table(["Suspicion", "Rows"], Object.entries(s.by_suspicion || {}).map(([k, v]) => [words(k), v]), "By suspicion"));
      out.appendChild(table(["Reason", "Rows"], Object.entries(s.by_reason || {}).map(([k, v]) => [words(k), v]), "By reason"));
      const links = el("p", null, "actions");
      const a1 = el("a", "Download the flagged rows (CSV)", "button"); a1.href = job.flagged_url; a1.id = "screen-flagged"; a1.setAttribute("download", "");
      const a2 = el("a", "Download every row (CSV)", "button"); a2.href = job.result_url; a2.setAttribute("download", "");
      links.appendChild(a1); links.appendChild(a2); out.appendChild(links);
      if (s.bad_rows_file) { const det = el("details"); det.appendChild(el("summary", "Rows that could not be read")); det.appendChild(el("pre", s.bad_rows_file)); out.appendChild(det); }
    };
    $("screen-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("screen-error").replaceChildren();
      const file = $("screen-file").files[0];
      if (!file) { $("screen-error").appendChild(el("p", "Choose a CSV file first.", "error-text")); return; }
      const units = {};
      SCREEN_UNITS.forEach(([col]) => { units[col] = $("unit-" + col).value; });
      const r = await call("POST", "/app/api/screen", {text: await file.text(), units});
      if (!r.ok) { $("screen-error").appendChild(problemTable(r.body)); return; }
      show(r.body);
      let job = r.body;
      while (job.status === "queued" || job.status === "running") {
        await new Promise((ok) => setTimeout(ok, 500));
        const q = await call("GET", "/app/api/screen/" + encodeURIComponent(job.id));
        if (!q.ok) { $("screen-error").appendChild(problemTable(q.body)); return; }
        job = q.body; show(job);
      }
    });
  }

  const pages = {login, patients, patient, screen, "family-patient": familyPatient};
  const page = pages[document.body.dataset.page];
  if (page) page();
})();
