// reclaim web app: plain JavaScript, no inline handlers (the CSP forbids inline script).
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text !== undefined) node.textContent = text; // textContent: never parsed as HTML
  return node;
}

// Upload each chosen file on its own request, with a progress bar and the result per file.
function uploadOne(kind, file, list) {
  const item = el("li");
  const name = el("strong", {}, file.name);
  const status = el("span", { class: "muted" }, " waiting");
  const bar = el("div", { class: "bar" });
  const fill = el("span");
  bar.appendChild(fill);
  item.append(name, status, bar);
  list.appendChild(item);
  return new Promise((resolve) => {
    const data = new FormData();
    data.append("kind", kind);
    data.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/uploads");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        const pct = Math.round((100 * e.loaded) / e.total);
        fill.style.width = pct + "%";
        status.textContent = pct < 100 ? ` uploading ${pct}%` : " reading and checking…";
      }
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      fill.style.width = "100%";
      status.textContent = "";
      if (xhr.status === 201) {
        const link = el("a", { href: "/uploads/" + body.id }, " open results");
        const text = ` ${body.claims} claims, ${body.lines} lines` +
          (body.errors ? `, ${body.errors} skipped` : "") + (body.warnings ? `, ${body.warnings} warnings` : "") + " ·";
        item.append(el("span", { class: body.errors ? "pill warn" : "pill ok" }, body.errors ? "read with problems" : "read"),
                    el("span", {}, text), link);
        item.dataset.uploadId = body.id;
      } else {
        const detail = body.detail || {};
        const message = typeof detail === "string" ? detail : detail.message || `refused (HTTP ${xhr.status})`;
        item.append(el("div", { class: "alert error", role: "alert" }, message));
        if (detail.url) { item.append(el("a", { href: detail.url, class: "duplicate-link" }, "open the earlier upload")); }
        (detail.problems || []).slice(0, 20).forEach((p) => {
          const where = [p.segment_index ? `segment ${p.segment_index}` : "", p.byte_offset != null ? `byte ${p.byte_offset}` : "",
                         p.line ? `line ${p.line}` : "", p.column || ""].filter(Boolean).join(", ");
          item.append(el("div", { class: "small" }, `${p.code}: ${p.message}${where ? " (" + where + ")" : ""}`));
        });
      }
      resolve(xhr.status);
    };
    xhr.onerror = () => { status.textContent = " network error"; resolve(0); };
    xhr.send(data);
  });
}

// after uploads, the list of files is fetched again (the server renders and escapes it)
async function refreshRecentFiles() {
  const current = document.getElementById("recent-files");
  if (!current) { return; }
  const response = await fetch(location.pathname, { credentials: "same-origin" });
  if (!response.ok) { return; }
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("recent-files");
  if (fresh) { current.replaceWith(document.importNode(fresh, true)); }
}

function setupUploads() {
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    const input = form.querySelector('input[type="file"]');
    const list = form.querySelector(".progress-list");
    const send = async (files) => {
      for (const file of files) { await uploadOne(form.dataset.upload, file, list); }
      document.dispatchEvent(new CustomEvent("uploads-done"));
      refreshRecentFiles();
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); if (input.files.length) send(Array.from(input.files)); });
    form.addEventListener("dragover", (e) => { e.preventDefault(); form.classList.add("drag"); });
    form.addEventListener("dragleave", () => form.classList.remove("drag"));
    form.addEventListener("drop", (e) => { e.preventDefault(); form.classList.remove("drag"); send(Array.from(e.dataTransfer.files)); });
  });
}

// "Select all" on the worklist; bulk actions need at least one row.
function setupWorklist() {
  const all = document.querySelector("#select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll('input[name="item_ids"]').forEach((box) => { box.checked = all.checked; });
    });
  }
  document.querySelectorAll("form[data-needs-selection]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!document.querySelector('input[name="item_ids"]:checked')) {
        e.preventDefault();
        alert("Select at least one row first.");
      }
    });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
}

document.addEventListener("DOMContentLoaded", () => { setupUploads(); setupWorklist(); });
