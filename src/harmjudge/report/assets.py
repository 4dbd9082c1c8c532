"""The report's stylesheet and script, kept apart from the Python that fills the page.

The script never inserts report data as HTML: every string goes through ``textContent`` or
``createTextNode``, so a transcript holding ``<script>`` or ``onerror=`` stays text.
"""

CSS = """
:root { --fg:#1d232b; --muted:#5b6675; --line:#d9dee5; --bg:#f6f8fa; --bad:#b42318; --warn:#b54708;
        --ok:#067647; --mark-judge:#fde68a; --mark-gold:#bfdbfe; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #fff; }
header, main { max-width: 1180px; margin: 0 auto; padding: 16px 24px; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 15px; margin: 12px 0 6px; }
.meta { color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num { font-variant-numeric: tabular-nums; }
.harm-summary { display: grid; grid-template-columns: minmax(420px, 1fr) auto; gap: 12px 28px; align-items: start; }
.charts { display: flex; gap: 12px; flex-wrap: wrap; }
.chart { background: var(--bg); border-radius: 6px; }
.chart .axis { stroke: #8a94a3; } .chart .diagonal { stroke: #b8c0cc; stroke-dasharray: 4 3; }
.chart .dot { fill: #2e6bd3; fill-opacity: .75; } .chart .tick, .chart .label, .chart .legend { font-size: 10px; fill: var(--muted); }
.chart polyline { fill: none; stroke-width: 2; } .chart .precision { stroke: #2e6bd3; } .chart .recall { stroke: #d97706; }
.chart .precision-text { fill: #2e6bd3; } .chart .recall-text { fill: #d97706; }
.confusion td, .confusion th { text-align: center; padding: 4px 10px; }
#filters { position: sticky; top: 0; background: #fff; padding: 10px 0; border-bottom: 1px solid var(--line); z-index: 2;
           display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
#filters label { color: var(--muted); }
select, input[type=search], button, textarea { font: inherit; }
button { border: 1px solid var(--line); background: var(--bg); border-radius: 6px; padding: 3px 10px; cursor: pointer; }
.card { border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; }
.card > .head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 12px; background: var(--bg); border-radius: 8px 8px 0 0; }
.card .body { padding: 4px 14px 12px; }
.badge { border-radius: 10px; padding: 1px 8px; font-size: 12px; font-weight: 600; background: #e4e7ec; }
.badge.missed_harm { background: #fee4e2; color: var(--bad); } .badge.false_alarm { background: #fef0c7; color: var(--warn); }
.badge.unjudged, .badge.no_verdict { background: #f2f4f7; color: #344054; }
.badge.agree_harmful, .badge.agree_not_harmful { background: #dcfae6; color: var(--ok); }
.chip { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 10px; padding: 0 6px; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.segment { margin: 8px 0; } .segment .kind { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.segment pre { white-space: pre-wrap; word-wrap: break-word; background: var(--bg); padding: 8px; border-radius: 6px; margin: 2px 0;
               font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; max-height: 520px; overflow: auto; }
.segment.reasoning pre { background: #f5f3ff; } .segment.context pre { background: #f9fafb; }
mark.evidence-judge { background: var(--mark-judge); } mark.evidence-gold { background: var(--mark-gold); }
mark.evidence-judge.evidence-gold { background: linear-gradient(var(--mark-judge), var(--mark-gold)); }
.legend-line mark { padding: 0 4px; }
.review { border-top: 1px dashed var(--line); margin-top: 10px; padding-top: 8px; display: flex; gap: 14px; flex-wrap: wrap; align-items: center; }
.review textarea { width: 100%; min-height: 40px; }
.quote { border-left: 3px solid var(--line); padding-left: 8px; margin: 4px 0; color: #344054; }
.empty { color: var(--muted); font-style: italic; }
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var cases = data.cases;
  var storeKey = "harmjudge-review:" + data.report_id;
  var decisions = {};
  try { decisions = JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { decisions = {}; }
  var DISAGREEMENT = { missed_harm: true, false_alarm: true, unjudged: true, no_verdict: true };
  var OUTCOME_TITLES = data.outcome_titles;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.appendChild(document.createTextNode(String(text))); }
    return node;
  }
  function add(parent) { for (var i = 1; i < arguments.length; i++) { if (arguments[i]) { parent.appendChild(arguments[i]); } } return parent; }
  function fmt(value) { return (typeof value === "number") ? value.toFixed(2) : "n/a"; }
  function saveDecisions() { try { window.localStorage.setItem(storeKey, JSON.stringify(decisions)); } catch (e) { /* private mode */ } }

  function quotePattern(quote) {
    var words = String(quote).trim().split(/\s+/).filter(Boolean).map(function (w) {
      return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/'/g, "['\u2018\u2019]").replace(/"/g, "[\"\u201c\u201d]");
    });
    return words.length ? new RegExp(words.join("\\s+"), "g") : null;
  }

  function highlighted(text, judgeQuotes, goldQuotes) {
    var ranges = [];
    [[judgeQuotes, "evidence-judge"], [goldQuotes, "evidence-gold"]].forEach(function (pair) {
      (pair[0] || []).forEach(function (quote) {
        var pattern = quotePattern(quote), match;
        if (!pattern) { return; }
        while ((match = pattern.exec(text)) !== null) {
          ranges.push([match.index, match.index + match[0].length, pair[1]]);
          if (match[0].length === 0) { pattern.lastIndex++; }
        }
      });
    });
    var cuts = [0, text.length];
    ranges.forEach(function (r) { cuts.push(r[0], r[1]); });
    cuts = cuts.filter(function (v, i, a) { return a.indexOf(v) === i; }).sort(function (a, b) { return a - b; });
    var fragment = document.createDocumentFragment();
    for (var i = 0; i + 1 < cuts.length; i++) {
      var start = cuts[i], end = cuts[i + 1];
      var classes = {};
      ranges.forEach(function (r) { if (r[0] <= start && r[1] >= end) { classes[r[2]] = true; } });
      var piece = text.slice(start, end);
      var names = Object.keys(classes);
      if (names.length) {
        var mark = el("mark", names.join(" "), piece);
        mark.setAttribute("data-start", String(start));
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(document.createTextNode(piece));
      }
    }
    return fragment;
  }

  function labelled(label, value) {
    var p = el("div");
    add(p, el("strong", null, label + ": "), document.createTextNode(value === null || value === undefined ? "" : String(value)));
    return p;
  }

  function quotes(list) {
    var box = el("div");
    if (!list || !list.length) { box.appendChild(el("div", "empty", "no evidence quoted")); return box; }
    list.forEach(function (q) { box.appendChild(el("div", "quote", q)); });
    return box;
  }

  function review(c) {
    var box = el("div", "review");
    var saved = decisions[c.key] || {};
    add(box, el("strong", null, "Your review:"));
    [["gold", "agree with gold"], ["judge", "agree with judge"], ["unclear", "unclear"]].forEach(function (option) {
      var label = el("label");
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "review-" + c.key;
      input.value = option[0];
      input.checked = saved.decision === option[0];
      input.addEventListener("change", function () {
        decisions[c.key] = { decision: option[0], note: (decisions[c.key] || {}).note || "" };
        saveDecisions();
        updateCount();
      });
      add(label, input, document.createTextNode(" " + option[1]));
      box.appendChild(label);
    });
    var note = document.createElement("textarea");
    note.placeholder = "note (why)";
    note.value = saved.note || "";
    note.addEventListener("input", function () {
      var entry = decisions[c.key] || { decision: "unclear" };
      entry.note = note.value;
      decisions[c.key] = entry;
      saveDecisions();
      updateCount();
    });
    box.appendChild(note);
    return box;
  }

  function renderBody(card, c) {
    if (card.getAttribute("data-rendered") === "1") { return; }
    card.setAttribute("data-rendered", "1");
    var body = card.querySelector(".body");
    body.hidden = false;
    var cols = el("div", "cols");
    var gold = el("div");
    add(gold, el("h3", null, "Gold label"), labelled("label", c.gold.label), labelled("rationale", c.gold.rationale));
    Object.keys(c.gold.passes || {}).forEach(function (name) {
      gold.appendChild(labelled("pass " + name, c.gold.passes[name] + ((c.gold.notes || {})[name] ? " (" + c.gold.notes[name] + ")" : "")));
    });
    if (c.gold.adjudication) { gold.appendChild(labelled("adjudication", c.gold.adjudication.label + ": " + c.gold.adjudication.note)); }
    add(gold, el("div", null, "gold evidence:"), quotes(c.gold.evidence));
    var judge = el("div");
    add(judge, el("h3", null, "Judge: " + c.judge.name), labelled("label", c.judge.label === null ? "no verdict" : c.judge.label),
        labelled("confidence", fmt(c.judge.confidence)));
    if (c.judge.reason) { add(judge, labelled("reason", c.judge.reason), labelled("detail", c.judge.detail)); }
    if (c.judge.raw_reply) { add(judge, labelled("raw reply", c.judge.raw_reply)); }
    add(judge, labelled("rationale", c.judge.rationale || ""), el("div", null, "judge evidence:"), quotes(c.judge.evidence));
    add(cols, gold, judge);
    body.appendChild(cols);
    var gate = c.judge.gate;
    var actions = el("div");
    add(actions, el("h3", null, "Action layer"));
    if (gate) {
      actions.appendChild(labelled("gate", gate.status + " (" + gate.reason + ")"));
      (gate.qualifying || []).forEach(function (a) { actions.appendChild(el("div", "quote", JSON.stringify(a))); });
    } else {
      actions.appendChild(el("div", "empty", "no action-layer result for this verdict"));
    }
    body.appendChild(actions);
    if (c.judge.provenance) {
      var prov = el("details");
      add(prov, el("summary", null, "Provenance"), el("pre", null, JSON.stringify(c.judge.provenance, null, 2)));
      body.appendChild(prov);
    }
    var transcript = el("div");
    add(transcript, el("h3", null, "Transcript"));
    var legend = el("div", "legend-line");
    add(legend, el("mark", "evidence-judge", "judge evidence"), document.createTextNode(" "), el("mark", "evidence-gold", "gold evidence"));
    transcript.appendChild(legend);
    data.transcripts[c.id].forEach(function (segment) {
      var box = el("div", "segment " + segment.kind);
      var title = segment.kind.replace("_", " ") + (segment.tool ? ": " + segment.tool : "") + (segment.turn !== null && segment.turn !== undefined ? " (turn " + segment.turn + ")" : "");
      var pre = el("pre");
      pre.appendChild(highlighted(segment.text, c.judge.evidence, c.gold.evidence));
      add(box, el("div", "kind", title), pre);
      transcript.appendChild(box);
    });
    body.appendChild(transcript);
    body.appendChild(review(c));
    card.querySelector(".toggle").textContent = "hide details";
  }

  function header(c) {
    var card = el("article", "card");
    card.id = "case-" + c.key;
    card.setAttribute("data-outcome", c.outcome);
    card.setAttribute("data-harm", c.harm);
    card.setAttribute("data-format", c.format);
    var tags = ["scenario:" + c.tags.scenario, "difficulty:" + c.tags.difficulty, "organisation:" + c.tags.organisation]
      .concat(c.tags.traps.map(function (t) { return "trap:" + t; }))
      .concat(c.tags.positives.map(function (t) { return "positive:" + t; }));
    card._tags = tags;
    var head = el("div", "head");
    var link = el("a", "id", c.id);
    link.href = "#case-" + c.key;
    add(head, el("span", "badge " + c.outcome, OUTCOME_TITLES[c.outcome]), link, el("span", "chip", c.harm), el("span", "chip", c.format),
        el("span", null, "gold " + c.gold.label + " · judge " + (c.judge.label === null ? "none" : c.judge.label) + (typeof c.judge.confidence === "number" ? " (" + fmt(c.judge.confidence) + ")" : "")));
    tags.forEach(function (t) { if (t.indexOf("trap:") === 0 || t.indexOf("positive:") === 0) { head.appendChild(el("span", "chip", t)); } });
    var toggle = el("button", "toggle", "show details");
    toggle.type = "button";
    toggle.addEventListener("click", function () {
      var body = card.querySelector(".body");
      if (card.getAttribute("data-rendered") !== "1") { renderBody(card, c); return; }
      body.hidden = !body.hidden;
      toggle.textContent = body.hidden ? "show details" : "hide details";
    });
    head.appendChild(toggle);
    var body = el("div", "body");
    body.hidden = true;
    add(card, head, body);
    return card;
  }

  var container = document.getElementById("cards");
  var cards = cases.map(function (c) { var card = header(c); container.appendChild(card); return card; });
  var observer = ("IntersectionObserver" in window) ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) { return; }
      var index = Number(entry.target.getAttribute("data-index"));
      observer.unobserve(entry.target);
      if (DISAGREEMENT[cases[index].outcome]) { renderBody(entry.target, cases[index]); }
    });
  }, { rootMargin: "600px" }) : null;
  cards.forEach(function (card, i) { card.setAttribute("data-index", String(i)); });

  var filters = {
    harm: document.getElementById("filter-harm"),
    outcome: document.getElementById("filter-outcome"),
    tag: document.getElementById("filter-tag"),
    format: document.getElementById("filter-format"),
    search: document.getElementById("filter-search")
  };
  function matches(c, card) {
    var outcome = filters.outcome.value;
    if (filters.harm.value !== "all" && c.harm !== filters.harm.value) { return false; }
    if (outcome === "disagreements" && !DISAGREEMENT[c.outcome]) { return false; }
    if (outcome !== "all" && outcome !== "disagreements" && c.outcome !== outcome) { return false; }
    if (filters.tag.value !== "all" && card._tags.indexOf(filters.tag.value) < 0) { return false; }
    if (filters.format.value !== "all" && c.format !== filters.format.value) { return false; }
    var needle = filters.search.value.trim().toLowerCase();
    if (needle && c.id.toLowerCase().indexOf(needle) < 0) { return false; }
    return true;
  }
  function applyFilters() {
    var shown = 0;
    cards.forEach(function (card, i) {
      var visible = matches(cases[i], card);
      card.hidden = !visible;
      if (visible) {
        shown++;
        if (observer && card.getAttribute("data-rendered") !== "1") { observer.observe(card); }
      } else if (observer) {
        observer.unobserve(card);
      }
    });
    document.getElementById("shown").textContent = shown + " of " + cases.length + " cases shown";
  }
  function updateCount() {
    document.getElementById("reviewed").textContent = Object.keys(decisions).length + " reviewed";
  }
  Object.keys(filters).forEach(function (name) {
    filters[name].addEventListener(name === "search" ? "input" : "change", applyFilters);
  });

  function openFromHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) { return; }
    var card = document.getElementById(id);
    if (!card || !card.classList.contains("card")) { return; }
    if (card.hidden) {
      ["harm", "tag", "format"].forEach(function (n) { filters[n].value = "all"; });
      filters.outcome.value = "all";
      filters.search.value = "";
      applyFilters();
    }
    renderBody(card, cases[Number(card.getAttribute("data-index"))]);
    card.scrollIntoView();
  }
  window.addEventListener("hashchange", openFromHash);

  document.getElementById("export").addEventListener("click", function () {
    var byKey = {};
    cases.forEach(function (c) { byKey[c.key] = c; });
    var lines = Object.keys(decisions).sort().filter(function (key) { return byKey[key]; }).map(function (key) {
      var c = byKey[key], d = decisions[key];
      return JSON.stringify({
        id: c.id, harm: c.harm, decision: d.decision, note: d.note || "",
        gold_label: c.gold.label, judge: c.judge.name, judge_label: c.judge.label,
        judge_rationale: c.judge.rationale || "", judge_evidence: c.judge.evidence || [], report: data.report_id
      });
    });
    var blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")], { type: "application/x-ndjson" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "review-decisions.jsonl";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  applyFilters();
  updateCount();
  openFromHash();
})();
"""
