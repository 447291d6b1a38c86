/* Panjereh: small progressive enhancements, loaded as a file (the pages allow no inline
   script). Every page works without it.

   1. Tables: each data cell gets its column's heading as data-label, and the table the class
      "stacked", so that on a phone the stylesheet draws each row as a card of labelled cells
      instead of a table wider than the screen.
   2. A region that still scrolls sideways can be reached and scrolled with the keyboard.
   3. The error summary of a form that came back with errors takes the focus. */
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

  function run() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      if (!tables[i].classList.contains("not-stacked")) stack(tables[i]);
    }
    focusableScrollers();
    var summary = document.querySelector(".error-summary");
    if (summary) {
      if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
