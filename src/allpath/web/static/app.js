// ALLPath web page. Builds the DOM with textContent only (no HTML from data).
"use strict";
const ALLPath = (() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const section = (title, id) => {
    const s = el("section"); if (id) s.id = id;
    s.appendChild(el("h2", title));
    return s;
  };
  const table = (head, rows) => {
    const t = el("table"), tr = el("tr");
    head.forEach((h) => tr.appendChild(el("th", h)));
    t.appendChild(tr);
    rows.forEach((r) => {
      const row = el("tr");
      r.forEach((c) => {
        const td = el("td");
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === null ? "" : String(c);
        row.appendChild(td);
      });
      t.appendChild(row);
    });
    return t;
  };
  async function post(url, body) {
    const res = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                  body: JSON.stringify(body)});
    return {ok: res.ok, status: res.status, body: await res.json()};
  }
  function showErrors(list, body) {
    list.replaceChildren();
    (body.errors || [{path: "", message: body.detail || body.title || "error"}]).forEach((p) => {
      let t = (p.path ? p.path + ": " : "") + p.message;
      if (p.expected) t += "; expected " + p.expected;
      if (p.got) t += ", got " + p.got;
      if (p.hint) t += " (" + p.hint + ")";
      list.appendChild(el("li", t));
    });
  }
  function ruleButton(ruleId) {
    if (!ruleId) return el("span", "-");
    const b = el("button", ruleId, "link");
    b.addEventListener("click", () => explain(ruleId));
    return b;
  }
  async function explain(ruleId) {
    const res = await fetch("/web/explain/" + encodeURIComponent(ruleId));
    const d = await res.json(), box = $("explain-body");
    box.replaceChildren(el("h2", d.rule_id || ruleId));
    if (!res.ok) { box.appendChild(el("p", d.detail)); $("explain").showModal(); return; }
    box.appendChild(el("p", d.decision + (d.scheme ? " (scheme " + d.scheme + ")" : "")));
    box.appendChild(el("pre", "when: " + JSON.stringify(d.when) + "\nthen: " + JSON.stringify(d.then)));
    box.appendChild(el("p", "evidence: " + d.evidence + (d.note ? " - " + d.note : "")));
    const ul = el("ul");
    d.sources.forEach((s) => ul.appendChild(el("li", "[" + s.id + "] " + s.reference)));
    box.appendChild(ul);
    $("explain").showModal();
  }
  function renderAssessment(d) {
    const out = $("results");
    out.replaceChildren();
    const dx = d.diagnosis, st = dx.subtype;
    const s1 = section("Diagnosis", "diagnosis");
    s1.appendChild(table(["", ""], [
      ["Patient", d.patient_id + " (age " + d.age_years + ", " + d.sex + ")"],
      ["Status", dx.status + (dx.presentation ? " - " + dx.presentation : "")],
      ["Lineage", dx.lineage + (dx.etp ? " (ETP phenotype)" : "")],
      ["Genetic subtype", st.key + " - prognosis " + st.prognosis],
      ["WHO-HAEM5", st.who_haem5],
      ["CNS status", d.cns_status],
    ]));
    out.appendChild(s1);
    const s2 = section("Risk groups", "risk");
    s2.appendChild(table(["Scheme", "Group", "Rule", "Sources"], d.risk.map((r) => [
      r.scheme, r.group + (r.provisional ? " (provisional)" : "") +
        (r.possible_groups.length ? " - could be " + r.possible_groups.join(", ") : ""),
      ruleButton(r.rule_id), r.citations.join(", ")])));
    out.appendChild(s2);
    if (d.response.length || d.alerts.length || (d.relapse && d.relapse.detected)) {
      const s3 = section("Monitoring", "monitoring");
      d.response.forEach((r) => s3.appendChild(el("p",
        "Response at " + r.checkpoint.replaceAll("_", " ") + ": " + r.status)));
      if (d.relapse && d.relapse.detected) s3.appendChild(el("p", "Relapse (" + d.relapse.site +
        ") on " + d.relapse.date + "; timing COG " + d.relapse.timing.cog));
      d.alerts.forEach((a) => {
        const p = el("p"); p.appendChild(el("span", a.severity, "badge " + a.severity));
        p.appendChild(document.createTextNode(" " + a.message + " "));
        p.appendChild(ruleButton(a.trace.rule_id)); s3.appendChild(p);
      });
      out.appendChild(s3);
    }
    if (d.roadmap && d.roadmap.template) {
      const s4 = section("Roadmap: " + d.roadmap.template.title, "roadmap");
      s4.appendChild(table(["Phase", "Start", "End"], d.roadmap.phases.map((p) => [
        p.title, p.start, p.end])));
      if (d.where_now) s4.appendChild(el("p", "Now: " + d.where_now.status, "muted"));
      out.appendChild(s4);
    }
    if (d.prognosis.length) {
      const s5 = section("Published outcome figures (groups, not a personal prediction)");
      const ul = el("ul");
      d.prognosis.forEach((p) => ul.appendChild(el("li", p.population + ": " + p.measure + " " +
        p.figure + " (" + p.period + ")")));
      s5.appendChild(ul); out.appendChild(s5);
    }
    if (d.tests_to_order.length) {
      const s6 = section("Missing data: tests that would settle it", "missing");
      const ul = el("ul"); d.tests_to_order.forEach((t) => ul.appendChild(el("li", t)));
      s6.appendChild(ul); out.appendChild(s6);
    }
    out.appendChild(el("p", d.disclaimer, "disclaimer"));
  }
  async function clinician() {
    const info = await (await fetch("/web/info")).json();
    $("version").textContent = "v" + info.allpath + ", " + info.ruleset;
    $("disclaimer").textContent = info.disclaimer;
    const examples = await (await fetch("/web/examples")).json();
    examples.forEach((x) => { const o = el("option", x.id); o.value = x.id; $("example").appendChild(o); });
    $("example").addEventListener("change", (ev) => {
      const x = examples.find((e) => e.id === ev.target.value);
      $("record").value = x ? x.text : "";
    });
    $("explain-close").addEventListener("click", () => $("explain").close());
    $("assess").addEventListener("click", async () => {
      $("errors").replaceChildren(); $("results").replaceChildren(el("p", "Working..."));
      const r = await post("/web/assess", {text: $("record").value});
      if (!r.ok) { $("results").replaceChildren(); showErrors($("errors"), r.body); return; }
      renderAssessment(r.body);
    });
  }
  async function family() {
    const symptoms = await (await fetch("/web/symptoms")).json();
    symptoms.forEach((s) => {
      const label = el("label"), box = el("input");
      box.type = "checkbox"; box.value = s; box.name = "symptom";
      label.appendChild(box); label.appendChild(document.createTextNode(" " + s.replaceAll("_", " ")));
      $("symptoms").appendChild(label);
    });
    const guide = await (await fetch("/web/guide")).json();
    guide.topics.forEach((t) => {
      const d = el("details"); d.appendChild(el("summary", t.title));
      t.sections.forEach((s) => d.appendChild(el("p", s.text)));
      $("guide").appendChild(d);
    });
    $("check").addEventListener("click", async () => {
      const body = {age_years: Number($("age").value), sex: $("sex").value,
        symptoms: [...document.querySelectorAll("input[name=symptom]:checked")].map((b) => b.value)};
      const num = (id) => $(id).value === "" ? null : Number($(id).value);
      if (num("temp") !== null) body.temperature = {value: num("temp"), unit: "Cel"};
      const cbc = {};
      [["hgb", "hemoglobin", "g/dL"], ["plt", "platelets", "10*9/L"], ["anc", "anc", "10*9/L"],
       ["wbc", "wbc", "10*9/L"]].forEach(([id, code, unit]) => {
        if (num(id) !== null) cbc[code] = {value: num(id), unit: unit};
      });
      if (Object.keys(cbc).length) body.cbc = cbc;
      $("errors").replaceChildren();
      const r = await post("/web/triage", body), out = $("triage");
      out.replaceChildren();
      if (!r.ok) { showErrors($("errors"), r.body); return; }
      const t = r.body, plain = t.plain_language || {};
      const head = el("p"); head.appendChild(el("span", t.urgency, "badge " + t.urgency));
      head.appendChild(document.createTextNode(" " + (plain.headline || ""))); out.appendChild(head);
      Object.entries(plain).forEach(([k, v]) => {
        if (k === "headline" || !v || (Array.isArray(v) && !v.length)) return;
        const title = k.replaceAll("_", " ");
        out.appendChild(el("h3", title.charAt(0).toUpperCase() + title.slice(1)));
        const lines = Array.isArray(v) ? v : [v];
        if (lines.length > 1) {
          const ul = el("ul"); lines.forEach((line) => ul.appendChild(el("li", line)));
          out.appendChild(ul);
        } else { out.appendChild(el("p", lines[0])); }
      });
    });
  }
  return {clinician, family};
})();
