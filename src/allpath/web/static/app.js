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
  async function getJSON(url) {
    const res = await fetch(url);
    return {ok: res.ok, status: res.status, body: await res.json()};
  }
  const query = (params) => {
    const q = new URLSearchParams();
    Object.entries(params).forEach(([k, v]) => { if (v !== null && v !== undefined && String(v).trim() !== "") q.set(k, String(v).trim()); });
    const text = q.toString();
    return text ? "?" + text : "";
  };
  // A link to a study page; only http(s) addresses become links.
  function studyLink(url, text) {
    if (!/^https?:\/\//.test(url || "")) return el("span", text);
    const a = el("a", text); a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer";
    return a;
  }
  const VERDICT = {possible: "Could fit", check: "Could fit, needs checking", excluded: "Does not fit"};
  const OUTCOME = {met: "met", not_met: "not met", unknown: "unknown"};
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
  // a field with a problem: marked for screen readers, with a short note beside it
  function markField(input, note) {
    input.setAttribute("aria-invalid", "true");
    const box = $(input.getAttribute("aria-describedby"));
    if (box) box.textContent = note;
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
    out.appendChild(trialsSection());
  }
  let assessedText = "";  // the record of the assessment on show
  function trialsSection() {
    const s = section("Clinical trials", "trials");
    s.appendChild(el("p", "Pre-screen of open ALL studies on ClinicalTrials.gov (bundled " +
      "snapshot) against what this record shows. Each study's own criteria and team decide.", "muted"));
    const form = el("p"), label = el("label", "Only studies with a site in (country, optional) ");
    const country = el("input"); country.id = "trials-country"; country.placeholder = "United States";
    label.appendChild(country); form.appendChild(label);
    const go = el("button", "Find trials"); go.id = "trials-find";
    form.appendChild(document.createTextNode(" ")); form.appendChild(go);
    s.appendChild(form);
    const errors = el("ul", null, "errors"); errors.id = "trials-errors"; s.appendChild(errors);
    const box = el("div"); box.id = "trials-results"; box.setAttribute("aria-live", "polite");
    s.appendChild(box);
    go.addEventListener("click", async () => {
      errors.replaceChildren(); box.replaceChildren(el("p", "Working..."));
      const r = await post("/web/trials" + query({country: country.value, limit: 10}),
                           {text: assessedText});
      if (!r.ok) { box.replaceChildren(); showErrors(errors, r.body); return; }
      renderTrials(box, r.body);
    });
    return s;
  }
  function renderTrials(box, d) {
    box.replaceChildren();
    const c = d.counts;
    box.appendChild(el("p", d.screened + " open studies compared (criteria " + d.criteria_version +
      "): " + c.possible + " could fit, " + c.check + " could fit but need checking, " +
      c.excluded + " do not fit (not listed).", "trial-counts"));
    (d.notes || []).forEach((n) => box.appendChild(el("p", n, "disclaimer trial-note")));
    if (!d.matches.length) box.appendChild(el("p", "No study to list.", "muted"));
    else box.appendChild(el("p", "Showing the first " + d.matches.length + ", best fit first.", "muted"));
    d.matches.forEach((m) => {
      const item = el("article", null, "trial"), head = el("h3");
      head.appendChild(el("span", VERDICT[m.verdict] || m.verdict, "badge verdict-" + m.verdict));
      head.appendChild(document.createTextNode(" "));
      const link = studyLink(m.url, m.nct_id); link.classList.add("nct"); head.appendChild(link);
      head.appendChild(document.createTextNode(": " + m.title));
      item.appendChild(head);
      item.appendChild(el("p", "Status " + m.status + "; " + (m.phases.join("/") || "no phase") +
        (m.sponsor ? "; sponsor " + m.sponsor : "") + "; " + m.sites + " site" + (m.sites === 1 ? "" : "s"), "muted"));
      item.appendChild(table(["Criterion", "Study requires", "Patient", "Outcome", "Shown by"],
        m.criteria.map((cr) => [cr.label, cr.requires, cr.criterion === "status" ? "" : cr.patient,
          el("span", OUTCOME[cr.outcome] || cr.outcome, "outcome-" + cr.outcome),
          cr.evidence])));
      const unknown = m.criteria.filter((cr) => cr.outcome === "unknown");
      if (unknown.length) {
        const ul = el("ul", null, "to-settle");
        unknown.forEach((cr) => ul.appendChild(el("li", "Unknown: " + cr.label +
          (cr.settle ? " - would be settled by " + cr.settle : ""))));
        item.appendChild(ul);
      }
      box.appendChild(item);
    });
    box.appendChild(el("p", d.disclaimer, "disclaimer"));
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
      assessedText = $("record").value;
      renderAssessment(r.body);
    });
  }
  function familyStudies() {
    let examples = [];
    getJSON("/web/examples").then((r) => {
      if (!r.ok) return;
      examples = r.body;
      examples.forEach((x) => { const o = el("option", x.id); o.value = x.id; $("study-example").appendChild(o); });
    });
    $("study-example").addEventListener("change", () => { $("study-file").value = ""; });
    $("study-find").addEventListener("click", async () => {
      const out = $("study-results"), errors = $("study-errors");
      errors.replaceChildren(); out.replaceChildren(el("p", "Looking..."));
      let text = "";
      const file = $("study-file").files[0];
      if (file) text = await file.text();
      else {
        const x = examples.find((e) => e.id === $("study-example").value);
        text = x ? x.text : "";
      }
      if (!text) { out.replaceChildren(el("p", "Please open a record file or pick the made-up example first.")); return; }
      const r = await post("/web/trials" + query({limit: 3}), {text: text});
      out.replaceChildren();
      if (!r.ok) { showErrors(errors, r.body); return; }
      // the same count as the pre-screen's "possible": studies whose own criteria this record meets
      const d = r.body, fit = d.counts.possible;
      out.appendChild(el("p", fit === 0 ? "We found no open study that we can say could fit this record right now. Ask your care team: they can check the studies below, which this record does not rule out." :
        "We found " + fit + " open " + (fit === 1 ? "study" : "studies") + " that could fit: " +
        "what this record shows meets what the study asks for. The study team still checks the rest.",
        "study-count"));
      if (fit && d.matches.length) {
        out.appendChild(el("p", "Here are the first few. Each link opens the study's page on ClinicalTrials.gov."));
        const ul = el("ul");
        d.matches.filter((m) => m.verdict === "possible").forEach((m) => {
          const li = el("li"); li.appendChild(studyLink(m.url, m.title));
          li.appendChild(document.createTextNode(" (" + m.nct_id + ")"));
          const why = m.criteria.filter((c) => c.kind === "population" && c.outcome === "met" &&
            c.criterion !== "status").map((c) => c.label.toLowerCase());
          if (why.length) li.appendChild(el("p", "Why it may fit: " + why.join(", ") + "."));
          if (m.to_confirm && m.to_confirm.length)
            li.appendChild(el("p", "Ask the team about: " + m.to_confirm.join("; ") + "."));
          ul.appendChild(li);
        });
        out.appendChild(ul);
      } else if (d.matches.length) {
        // nothing confirmed: a few studies that are not ruled out, never counted as fits
        const ul = el("ul");
        d.matches.filter((m) => m.verdict === "check").slice(0, 3).forEach((m) => {
          const li = el("li"); li.appendChild(studyLink(m.url, m.title));
          li.appendChild(document.createTextNode(" (" + m.nct_id + ")"));
          if (m.to_settle.length) li.appendChild(el("p", "Not known yet: " + m.to_settle.slice(0, 2).join("; ") + "."));
          ul.appendChild(li);
        });
        out.appendChild(ul);
      }
      out.appendChild(el("p", d.disclaimer, "disclaimer"));
    });
    $("centre-find").addEventListener("click", async () => {
      const out = $("centres"), errors = $("centre-errors");
      errors.replaceChildren(); out.replaceChildren(el("p", "Looking..."));
      const r = await getJSON("/web/centres" + query({country: $("centre-country").value,
        state: $("centre-state").value, city: $("centre-city").value, limit: 20}));
      out.replaceChildren();
      if (!r.ok) { showErrors(errors, r.body); return; }
      const list = r.body.centres;
      if (!list.length) {
        out.appendChild(el("p", "We did not find a centre for that place. Check the spelling, or try only the country."));
        return;
      }
      if (r.body.total > list.length) out.appendChild(el("p", "Showing " + list.length + " of " + r.body.total + " centres, the ones with the most studies first.", "muted"));
      const ul = el("ul", null, "centre-list");
      list.forEach((c) => {
        const li = el("li");
        li.appendChild(el("strong", c.facility));
        const place = [c.city, c.state, c.country].filter((p) => p).join(", ");
        li.appendChild(document.createTextNode(" - " + place + " - " + c.open_studies + " open " +
          (c.open_studies === 1 ? "study" : "studies")));
        ul.appendChild(li);
      });
      out.appendChild(ul);
      out.appendChild(el("p", "These centres run studies for ALL. Ask your care team if a referral to one of them makes sense for you.", "centre-note"));
    });
  }
  function familyCode() {
    $("code-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const raw = $("family-code").value.trim();
      const code = raw.includes("/family/p/") ? raw.split("/family/p/").pop() : raw;
      const res = code ? await fetch("/family/api/" + encodeURIComponent(code)) : null;
      if (!res || !res.ok) {
        $("code-error").textContent = "This code does not work. It may have expired. Ask your care team for a new one.";
        return;
      }
      location.href = "/family/p/" + encodeURIComponent(code);
    });
  }
  async function family() {
    familyStudies();
    familyCode();
    const symptoms = await (await fetch("/web/symptoms?labels=plain")).json();
    symptoms.forEach((s) => {
      const label = el("label"), box = el("input");
      box.type = "checkbox"; box.value = s.code; box.name = "symptom";
      label.appendChild(box); label.appendChild(document.createTextNode(" " + s.label));
      $("symptoms").appendChild(label);
    });
    document.querySelectorAll("select.count-unit").forEach((sel) => {
      [["", "choose..."], ["/uL", "per \u00b5L (cells/mm\u00b3), e.g. 500"],
       ["10*9/L", "\u00d710\u2079/L, e.g. 0.5"], ["10*3/uL", "\u00d710\u00b3/\u00b5L (K/\u00b5L), e.g. 0.5"]]
        .forEach(([v, t]) => { const o = el("option", t); o.value = v; sel.appendChild(o); });
    });
    const guidePara = (s) => {
      // the text, then its sources as numbered links (never inside the sentences)
      const p = el("p", s.text);
      (s.sources || []).filter((c) => c.url).forEach((c, k) => {
        const a = el("a", "[" + (k + 1) + "]", "source");
        a.href = c.url; a.title = c.reference || c.id; a.rel = "noopener"; a.target = "_blank";
        p.appendChild(document.createTextNode(" ")); p.appendChild(a);
      });
      return p;
    };
    const showGuide = async () => {
      const phone = $("team-phone").value.trim();
      const r = await fetch("/web/guide" + (phone ? "?team_phone=" + encodeURIComponent(phone) : ""));
      const guide = await r.json();
      $("guide-errors").replaceChildren();
      if (!r.ok) {
        (guide.errors || []).forEach((e) => $("guide-errors").appendChild(
          el("li", e.path + ": " + e.message + (e.expected ? "; expected " + e.expected : ""))));
        return;
      }
      $("when-to-call").replaceChildren(); $("guide").replaceChildren();
      guide.topics.forEach((t) => {
        if (t.id === "when-to-call") { t.sections.forEach((s) => $("when-to-call").appendChild(guidePara(s))); return; }
        const d = el("details"); d.appendChild(el("summary", t.title));
        t.sections.forEach((s) => d.appendChild(guidePara(s)));
        $("guide").appendChild(d);
      });
    };
    $("check").addEventListener("click", async () => {
      // age in years and months, as families say it (a baby of 5 months: 0 years 5 months)
      const months = $("age-months").value === "" ? 0 : Number($("age-months").value);
      if (!(months >= 0 && months <= 11)) {
        $("errors").replaceChildren(el("li", "Months: type a number from 0 to 11."));
        return;
      }
      const body = {age_years: Number($("age").value) + months / 12, sex: $("sex").value,
        symptoms: [...document.querySelectorAll("input[name=symptom]:checked")].map((b) => b.value)};
      // yes, no or not sure ("unknown", the same as not answered); each is optional
      ["on_treatment", "central_line", "recent_transplant", "transplant"].forEach((q) => {
        const picked = document.querySelector(`input[name=${q}]:checked`);
        if (picked) body[q] = picked.value === "yes" ? true : picked.value === "no" ? false : "unknown";
      });
      const start = $("treatment-start");
      start.removeAttribute("aria-invalid"); $("treatment-start-error").textContent = "";
      if (start.validity.badInput) {
        // a date the browser could not read (part of it missing, or a day that does not
        // exist) sends nothing: say so, never drop it in silence
        $("triage").replaceChildren();
        showErrors($("errors"), {errors: [{path: "treatment_start", message:
          "type the whole date (day, month and year) of a day that exists, or leave it empty",
          got: "a date that is not complete or does not exist"}]});
        markField(start, "Type the whole date, or leave it empty.");
        return;
      }
      if (start.value) {
        body.treatment_start = start.value;  // YYYY-MM-DD, checked again by the service
        // the day of the check in the family's own time zone, so the days since the start
        // are counted as the family counts them
        const now = new Date();
        body.date = [now.getFullYear(), now.getMonth() + 1, now.getDate()]
          .map((n, i) => String(n).padStart(i ? 2 : 4, "0")).join("-");
      }
      const num = (id) => $(id).value === "" ? null : Number($(id).value);
      if (num("temp") !== null) body.temperature = {value: num("temp"), unit: $("temp-unit").value};
      const cbc = {};
      [["hgb", "hemoglobin"], ["plt", "platelets"], ["anc", "anc"], ["wbc", "wbc"]].forEach(([id, code]) => {
        if (num(id) === null) return;
        const unit = $(id + "-unit").value;
        // no unit chosen: send the bare number, and the service asks which unit it is
        cbc[code] = unit ? {value: num(id), unit: unit} : num(id);
      });
      if (Object.keys(cbc).length) body.cbc = cbc;
      $("errors").replaceChildren();
      const r = await post("/web/triage", body), out = $("triage");
      out.replaceChildren();
      if (!r.ok) {
        showErrors($("errors"), r.body);
        if ((r.body.errors || []).some((p) => p.path === "treatment_start"))
          markField(start, "Check this date.");
        return;
      }
      const t = r.body, plain = t.plain_language || {};
      const head = el("p", null, "headline " + t.urgency);
      head.appendChild(el("span", t.urgency, "badge " + t.urgency));
      head.appendChild(document.createTextNode(" " + (plain.headline || ""))); out.appendChild(head);
      Object.entries(plain).forEach(([k, v]) => {
        if (k === "headline" || !v || (Array.isArray(v) && !v.length)) return;
        const title = k.replaceAll("_", " ");
        out.appendChild(el("h3", title.charAt(0).toUpperCase() + title.slice(1)));
        const lines = Array.isArray(v) ? v : [v];
        if (lines.length > 1) {
          // a line the text marks as a list item ("- ...") is one here already: no second bullet
          const ul = el("ul");
          lines.forEach((line) => ul.appendChild(el("li", line.replace(/^- /, ""))));
          out.appendChild(ul);
        } else { out.appendChild(el("p", lines[0])); }
      });
    });
    // the symptom check works at once; the guide loads beside it
    $("team-phone-save").addEventListener("click", showGuide);
    showGuide();
  }
  return {clinician, family};
})();
