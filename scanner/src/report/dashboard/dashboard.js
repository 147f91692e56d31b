"use strict";
// Renders the endpoint table, one endpoint's detail and the diff lists from the JSON embedded
// in the page (html.rs writes it; docs/report.md describes it). Rows are drawn a page at a time,
// so the page opens as fast with 100,000 endpoints as with ten.
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const PAGE = 100;
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : String(k));
    return e;
  };
  // Compact JSON (compact.rs): {"$": n} stands for part n, and an array whose first element
  // is a negative number -1 - s is an object of shape s: its keys are D.shapes[s].
  const resolve = (x) => {
    if (Array.isArray(x)) {
      if (typeof x[0] === "number" && x[0] < 0) {
        const o = {};
        D.shapes[-1 - x[0]].forEach((k, n) => { o[k] = resolve(x[n + 1]); });
        return o;
      }
      return x.map(resolve);
    }
    if (x && typeof x === "object") return resolve(D.parts[x.$]);
    return x;
  };
  const [HOST, IP, PORT, SERVICE, STATUS, ERROR, VERDICTS, FINDINGS, DETAIL] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const address = (e) => {
    const ip = e[IP] === null ? e[HOST] : e[IP];
    return (ip.includes(":") ? "[" + ip + "]" : ip) + ":" + e[PORT];
  };
  const haystack = D.endpoints.map((e) => (e[HOST] + " " + address(e) + " " + e[HOST] + ":" + e[PORT]).toLowerCase());
  const verdictName = (v) => (v === null ? "" : D.verdicts[v]);
  const status = (e) => (e[STATUS] === "ok" ? "ok" : e[STATUS] + (e[ERROR] ? " (" + e[ERROR] + ")" : ""));

  // Filters.
  const fill = (select, options) => {
    for (const [value, label] of options) select.append(el("option", { value }, label));
  };
  const services = [...new Set(D.endpoints.map((e) => e[SERVICE]))].sort();
  fill($("f-service"), [["", "any service"], ...services.map((s) => [s, s])]);
  fill($("f-policy"), D.policies.map((p, i) => [String(i), p]));
  fill($("f-verdict"), [["", "any verdict"], ...D.verdicts.map((v, i) => [String(i), v]), ["none", "not scanned"]]);
  fill($("f-finding"), [["", "any finding"], ...D.findings.map((f, i) => [String(i), D.policies[f[0]] + " " + f[2] + " " + f[1] + " (" + f[5] + ")"])]);

  let sortKey = null, sortDir = 1, shown = [], limit = PAGE;
  const sortValue = {
    host: (e) => e[HOST], address: address, port: (e) => e[PORT], service: (e) => e[SERVICE],
    status: status, findings: (e) => e[FINDINGS].length,
  };
  D.policies.forEach((p, i) => { sortValue["verdict" + i] = (e) => (e[VERDICTS][i] === null ? 9 : e[VERDICTS][i]); });

  function filter() {
    const text = $("search").value.trim().toLowerCase();
    const service = $("f-service").value;
    const policy = Number($("f-policy").value || 0);
    const verdict = $("f-verdict").value;
    const finding = $("f-finding").value === "" ? null : Number($("f-finding").value);
    shown = [];
    D.endpoints.forEach((e, i) => {
      if (text && !haystack[i].includes(text)) return;
      if (service && e[SERVICE] !== service) return;
      if (verdict === "none" && e[VERDICTS][policy] !== null) return;
      if (verdict !== "" && verdict !== "none" && e[VERDICTS][policy] !== Number(verdict)) return;
      if (finding !== null && !e[FINDINGS].includes(finding)) return;
      shown.push(i);
    });
    if (sortKey) {
      const f = sortValue[sortKey];
      shown.sort((a, b) => {
        const x = f(D.endpoints[a]), y = f(D.endpoints[b]);
        return (x < y ? -1 : x > y ? 1 : a - b) * sortDir;
      });
    }
    limit = PAGE;
    draw();
  }

  function draw() {
    const body = $("endpoint-rows");
    body.replaceChildren();
    for (const i of shown.slice(0, limit)) {
      const e = D.endpoints[i];
      const tr = el("tr", { class: "pick", "data-index": String(i), "data-host": e[HOST], "data-port": String(e[PORT]) },
        el("td", {}, e[HOST]), el("td", {}, address(e)), el("td", {}, e[SERVICE]),
        el("td", { class: e[STATUS] === "ok" ? "" : "error" }, status(e)));
      e[VERDICTS].forEach((v) => tr.append(el("td", { class: verdictName(v) }, verdictName(v))));
      tr.append(el("td", {}, e[FINDINGS].length));
      tr.addEventListener("click", () => detail(i));
      body.append(tr);
    }
    $("shown").textContent = shown.length + " of " + D.endpoints.length + " endpoints" +
      (shown.length > limit ? ", first " + limit + " listed" : "");
    $("more").hidden = shown.length <= limit;
  }

  // One endpoint.
  function section(title, ...kids) {
    return el("div", {}, el("h3", {}, title), ...kids);
  }
  function rows(pairs) {
    const t = el("table", {});
    for (const [k, v] of pairs) if (v !== undefined && v !== "") t.append(el("tr", {}, el("th", {}, k), el("td", {}, v)));
    return t;
  }
  function list(items) { return items && items.length ? items.join(", ") : "none"; }
  function detail(i) {
    const e = D.endpoints[i];
    const d = resolve(e[DETAIL]);
    const box = $("detail");
    const close = el("button", { type: "button", id: "detail-close" }, "close");
    close.addEventListener("click", () => { box.hidden = true; });
    box.replaceChildren(el("h2", {}, e[HOST] + " " + address(e) + " " + e[SERVICE]), close);
    box.dataset.index = String(i);
    for (const r of document.querySelectorAll("tr.chosen")) r.classList.remove("chosen");
    const row = document.querySelector('#endpoint-rows tr[data-index="' + i + '"]');
    if (row) row.classList.add("chosen");
    const head = [["status", status(e)], ["connections", d.connections], ["duration", d.duration_ms + " ms"], ["scanned at", d.scanned_at]];
    if (d.error) head.push(["error", d.error.kind + ": " + d.error.message]);
    for (const v of d.verdicts || []) head.push([v.policy, v.verdict + (v.note ? " (" + v.note + ")" : "")]);
    if (e[STATUS] === "ok") head.push(["quantum-safe key exchange", list(d.quantum_safe_kex)]);
    box.append(rows(head));
    if (d.tls) {
      const t = d.tls;
      const v = el("table", {}, el("tr", {}, el("th", {}, "version"), el("th", {}, "cipher suites"), el("th", {}, "server order")));
      for (const ver of t.versions) {
        v.append(el("tr", {}, el("td", {}, ver.version),
          el("td", {}, ...ver.cipher_suites.flatMap((s, n) => [n ? el("br") : "", el("code", {}, s.code + " " + s.iana)])),
          el("td", {}, ver.server_preference === null || ver.server_preference === undefined ? "" : ver.server_preference ? "yes" : "no")));
      }
      box.append(section("TLS", v, rows([
        ["groups", list(t.groups.map((g) => g.name))],
        ["signature schemes", list(t.signature_schemes.map((s) => s.name))],
        ["features", Object.entries(t.features || {}).map(([k, x]) => k + " " + (x === null ? "not tested" : Array.isArray(x) ? x.join(" ") : x)).join(", ")],
      ])));
      for (const c of t.certificates) {
        const leaf = c.chain[0];
        if (!leaf) continue;
        box.append(section("certificate (" + c.key_type + ", " + c.version + ")", rows([
          ["subject", leaf.subject], ["issuer", leaf.issuer], ["SANs", list(leaf.sans)],
          ["key", leaf.key_type + " " + leaf.key_bits + " bits" + (leaf.curve ? " " + leaf.curve : "")],
          ["signature", leaf.signature_algorithm], ["valid", leaf.not_before + " .. " + leaf.not_after],
          ["sha256", leaf.sha256], ["chain", c.chain.length + " certificates"],
        ])));
      }
      const notes = (t.notes || []).concat((t.undetermined || []).map((u) => u.item + " undetermined: " + u.note));
      if (notes.length) box.append(section("notes", el("ul", {}, ...notes.map((n) => el("li", {}, n)))));
    }
    if (d.ssh) {
      const s = d.ssh;
      box.append(section("SSH", rows([
        ["banner", s.banner], ["kex", list(s.kex)], ["host key algorithms", list(s.host_key_algorithms)],
        ["ciphers", list(s.ciphers_server_to_client)], ["MACs", list(s.macs_server_to_client)],
        ["compression", list(s.compression_server_to_client)],
        ["group exchange", list((s.gex_moduli_bits || []).map(String))],
        ["host keys", list((s.host_keys || []).map((k) => k.algorithm + " " + k.bits + " bits " + k.fingerprint_sha256))],
      ])));
      if ((s.notes || []).length) box.append(section("notes", el("ul", {}, ...s.notes.map((n) => el("li", {}, n)))));
    }
    if (e[FINDINGS].length) {
      const t = el("table", {}, el("tr", {}, ...["policy", "verdict", "item", "reason", "source"].map((h) => el("th", {}, h))));
      for (const n of e[FINDINGS]) {
        const f = D.findings[n];
        t.append(el("tr", {}, el("td", {}, D.policies[f[0]]), el("td", { class: f[2] }, f[2]), el("td", {}, el("code", {}, f[1])), el("td", {}, f[3]), el("td", {}, f[4])));
      }
      box.append(section("findings", t));
    }
    box.hidden = false;
    box.scrollIntoView();
  }

  $("search").addEventListener("input", filter);
  for (const id of ["f-service", "f-policy", "f-verdict", "f-finding"]) $(id).addEventListener("change", filter);
  $("more").addEventListener("click", () => { limit += PAGE * 10; draw(); });
  $("f-clear").addEventListener("click", () => {
    for (const id of ["search", "f-service", "f-verdict", "f-finding"]) $(id).value = "";
    filter();
  });
  for (const th of document.querySelectorAll("#endpoint-table th[data-sort]")) {
    th.addEventListener("click", () => {
      sortDir = sortKey === th.dataset.sort ? -sortDir : 1;
      sortKey = th.dataset.sort;
      filter();
    });
  }
  // A top finding lists its endpoints.
  for (const tr of document.querySelectorAll("#top-findings tbody tr")) {
    tr.addEventListener("click", () => {
      $("f-finding").value = tr.dataset.index;
      $("search").value = ""; $("f-service").value = ""; $("f-verdict").value = "";
      filter();
      $("endpoints").scrollIntoView();
    });
  }
  // A verdict count lists its endpoints.
  for (const a of document.querySelectorAll("a[data-verdict-filter]")) {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      $("f-policy").value = a.dataset.policyIndex;
      $("f-verdict").value = a.dataset.verdictFilter;
      $("f-finding").value = ""; $("search").value = ""; $("f-service").value = "";
      filter();
      $("endpoints").scrollIntoView();
    });
  }

  // Changes since the baseline.
  if (D.diff) {
    const byKey = new Map(D.endpoints.map((e, i) => [e[HOST] + "|" + (e[IP] || "") + "|" + e[PORT], i]));
    let diffLimit = PAGE;
    const drawDiff = () => {
      const want = $("d-change").value;
      const body = $("diff-rows");
      body.replaceChildren();
      const picked = D.diff.endpoints.filter((d) => !want || d[0] === want || d[1] === want);
      for (const d of picked.slice(0, diffLimit)) {
        const [change, direction, host, ip, port, service, changes] = d;
        const i = byKey.get(host + "|" + (ip || "") + "|" + port);
        const tr = el("tr", { class: i === undefined ? "" : "pick", "data-change": change, "data-direction": direction || "" },
          el("td", {}, host), el("td", {}, (ip || host) + ":" + port), el("td", {}, service),
          el("td", { class: direction || "" }, change + (direction ? ", " + direction : "")),
          el("td", {}, ...changes.flatMap(([facet, added, removed], n) => [n ? el("br") : "",
            facet + ": " + (added.length ? "+" + added.join(" +") : "") + (added.length && removed.length ? " " : "") + (removed.length ? "-" + removed.join(" -") : "")])));
        if (i !== undefined) tr.addEventListener("click", () => detail(i));
        body.append(tr);
      }
      $("diff-shown").textContent = picked.length + " endpoints" + (picked.length > diffLimit ? ", first " + diffLimit + " listed" : "");
      $("diff-more").hidden = picked.length <= diffLimit;
    };
    $("d-change").addEventListener("change", () => { diffLimit = PAGE; drawDiff(); });
    $("diff-more").addEventListener("click", () => { diffLimit += PAGE * 10; drawDiff(); });
    drawDiff();
  }

  filter();
  document.body.dataset.ready = "1";
})();
