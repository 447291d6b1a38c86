/* Panjereh: small progressive enhancements, loaded as a file (the pages allow no inline
   script). Every page works without it.

   1. Tables: each data cell gets its column's heading as data-label, and the table the class
      "stacked", so that on a phone the stylesheet draws each row as a card of labelled cells
      instead of a table wider than the screen.
   2. A region that still scrolls sideways can be reached and scrolled with the keyboard.
   3. The error summary of a form that came back with errors takes the focus.
   4. The installable app's service worker (/sw.js, docs/pwa.md) is registered once the page has
      loaded; it keeps the person's own pages readable offline.
   5. The offline page lists the pages of its language kept on this device, by their titles. */
(function () {
  "use strict";

  function headings(table) {
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!row) return null;
    var labels = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      var text = (cell.innerText || cell.textContent || "").replace(/\s+/g, " ").trim();
      for (var span = 0; span < (cell.colSpan || 1); span++) labels.push(text);
    }
    return labels;
  }

  function stack(table) {
    var labels = headings(table);
    if (!labels) return;
    var bodies = table.tBodies;
    for (var b = 0; b < bodies.length; b++) {
      var rows = bodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var column = 0;
        for (var c = 0; c < rows[r].cells.length; c++) {
          var cell = rows[r].cells[c];
          if (!cell.hasAttribute("data-label")) {
            var label = labels[column] || "";
            // A row heading that repeats its column's name needs no label.
            cell.setAttribute("data-label", cell.tagName === "TH" && c === 0 ? "" : label);
          }
          column += cell.colSpan || 1;
        }
      }
    }
    table.classList.add("stacked");
  }

  function focusableScrollers() {
    var nodes = document.querySelectorAll("main .table-scroll, main .ov-wrap, main pre");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (node.scrollWidth > node.clientWidth + 1 && !node.hasAttribute("tabindex")) {
        node.setAttribute("tabindex", "0");
      }
    }
  }

  // A file larger than the window accepts is refused before anything is sent, so that the
  // form (which the server could not read back from a refused upload) is kept as typed.
  function checkUploads(event) {
    var form = event.target;
    var inputs = form.querySelectorAll("input[type=file][data-max-mb]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var limit = parseFloat(input.getAttribute("data-max-mb")) * 1024 * 1024;
      var most = parseInt(input.getAttribute("data-max-files") || "0", 10);
      var files = input.files || [];
      var bad = most && files.length > most;
      for (var f = 0; f < files.length; f++) if (files[f].size > limit) bad = true;
      if (!bad) continue;
      event.preventDefault();
      showError(form, input, input.getAttribute("data-too-large"),
                input.getAttribute("data-summary-title"));
      return;
    }
  }

  function showError(form, input, message, title) {
    var old = document.getElementById("upload-error-summary");
    if (old) old.parentNode.removeChild(old);
    var box = document.createElement("div");
    box.className = "error-summary";
    box.id = "upload-error-summary";
    box.setAttribute("role", "alert");
    box.setAttribute("tabindex", "-1");
    var heading = document.createElement("h2");
    heading.textContent = title;
    var list = document.createElement("ul");
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = "#" + input.id;
    link.textContent = message;
    item.appendChild(link);
    list.appendChild(item);
    box.appendChild(heading);
    box.appendChild(list);
    form.parentNode.insertBefore(box, form);
    input.setAttribute("aria-invalid", "true");
    box.focus();
  }

  // A long list (hundreds of agencies) gets a search box above it that narrows its options;
  // without the script the list still works, in alphabetical order with type-ahead.
  function fold(text) {
    return (text || "").toLowerCase()
      .replace(/[يى]/g, "ی").replace(/ك/g, "ک").replace(/[\u200c\u064b-\u065f\u0640]/g, "")
      .replace(/\s+/g, " ").trim();
  }

  function searchable(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-search";
    box.className = "list-search";
    box.setAttribute("autocomplete", "off");
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.className = "hint";
    label.textContent = select.getAttribute("data-search-label") || "";
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var words = fold(box.value).split(" ").filter(Boolean);
      var shown = 0;
      var first = null;
      for (var i = 0; i < select.options.length; i++) {
        var option = select.options[i];
        if (!option.value) continue;
        var name = fold(option.text);
        var match = words.every(function (w) { return name.indexOf(w) !== -1; });
        option.hidden = !match;
        if (match) { shown++; if (!first) first = option; }
      }
      select.size = words.length ? Math.max(2, Math.min(8, shown + 1)) : 0;
      if (first && shown === 1) first.selected = true;
    });
  }

  function run() {
    var lists = document.querySelectorAll("select[data-searchable]");
    for (var l = 0; l < lists.length; l++) searchable(lists[l]);
    var uploads = document.querySelectorAll("form input[type=file][data-max-mb]");
    for (var u = 0; u < uploads.length; u++) {
      uploads[u].form.addEventListener("submit", checkUploads);
    }
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      if (!tables[i].classList.contains("not-stacked")) stack(tables[i]);
    }
    focusableScrollers();
    listKeptPages();
    var summary = document.querySelector(".error-summary");
    if (summary) {
      if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }

  var KEPT_CACHE = "panjereh-personal";

  function keptPage(cache, request, english) {
    var url = new URL(request.url);
    if (url.pathname.indexOf("/__panjereh/") === 0) return null;
    if (/^\/en\//.test(url.pathname) !== english) return null;
    return cache.match(request).then(function (copy) { return copy.text(); }).then(function (html) {
      var title = new DOMParser().parseFromString(html, "text/html").title || url.pathname;
      // "Inbox – Panjereh, the national window": the page's own part.
      var cut = title.lastIndexOf(" – ");
      return { href: url.pathname + url.search, title: cut > 0 ? title.slice(0, cut) : title };
    });
  }

  function listKeptPages() {
    var box = document.getElementById("offline-kept-here");
    if (!box || !window.caches) return;
    var english = document.documentElement.lang === "en";
    caches.has(KEPT_CACHE).then(function (found) {
      if (!found) return [];
      return caches.open(KEPT_CACHE).then(function (cache) {
        return cache.keys().then(function (requests) {
          return Promise.all(requests.map(function (r) { return keptPage(cache, r, english); }));
        });
      });
    }).then(function (pages) {
      var list = box.querySelector("ul");
      pages.forEach(function (page) {
        if (!page) return;
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = page.href;
        link.textContent = page.title;
        item.appendChild(link);
        list.appendChild(item);
      });
      if (list.children.length) box.hidden = false;
    }).catch(function () {
      // Storage not available (a private window): the general list above stays.
    });
  }

  // Registered after the page's load, so that it never competes with the page itself; only
  // where the browser allows workers (HTTPS, or the machine's own address).
  function registerWorker() {
    if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
      // Without the worker the site works as before, online only.
    });
  }

  if (document.readyState === "complete") {
    registerWorker();
  } else {
    window.addEventListener("load", registerWorker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
