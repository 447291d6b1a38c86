/* Panjereh service designer: checks the draft as the officer types (loaded as a file: the
   pages allow no inline script). The page works without it: every change is posted and the
   server answers with the same checks.

   On each change of the form (debounced), the form is posted to its check address; nothing is
   saved. The answer lists why the draft is not smart or not valid, in plain words, with a link
   to the field at fault; the fields a rule or the document may read are offered as the officer
   types; and, once a sample person's data was fetched with "Preview the document", the preview
   is rendered again from the texts as they are. */
(function () {
  "use strict";

  var form = document.getElementById("designer-form");
  var box = document.getElementById("designer-check");
  if (!form || !box || !window.fetch || !window.FormData) return;
  var url = form.getAttribute("data-check-url");
  var timer = null;
  var seq = 0;

  function item(text, field) {
    var li = document.createElement("li");
    if (field && document.getElementById("id_" + field)) {
      var a = document.createElement("a");
      a.href = "#id_" + field;
      a.textContent = text;
      li.appendChild(a);
    } else {
      li.textContent = text;
    }
    return li;
  }

  function list(heading, entries, id) {
    var frag = document.createDocumentFragment();
    var p = document.createElement("p");
    p.className = "check-bad";
    p.textContent = heading;
    frag.appendChild(p);
    var ul = document.createElement("ul");
    if (id) ul.id = id;
    for (var i = 0; i < entries.length; i++) ul.appendChild(item(entries[i][0], entries[i][1]));
    frag.appendChild(ul);
    return frag;
  }

  function show(answer) {
    while (box.firstChild) box.removeChild(box.firstChild);
    var reasons = answer.reasons || [];
    var problems = answer.problems || [];
    var fields = answer.fields || [];
    if (reasons.length) {
      box.appendChild(
        list(
          box.getAttribute("data-not-smart"),
          reasons.map(function (r) { return [r.text, r.field]; }),
          "smart-reasons"
        )
      );
    }
    if (fields.length) {
      box.appendChild(
        list(
          box.getAttribute("data-fields"),
          fields.map(function (f) { return [f.text, f.field]; }),
          "field-problems"
        )
      );
    }
    if (problems.length) {
      box.appendChild(
        list(
          box.getAttribute("data-problems"),
          problems.map(function (p) { return [p, null]; }),
          "problems"
        )
      );
    }
    if (!reasons.length && !problems.length && !fields.length) {
      var good = document.createElement("p");
      good.className = "check-good";
      good.id = "all-good";
      var smart = document.getElementById("id_smart");
      good.textContent = box.getAttribute(smart && smart.checked ? "data-good-smart" : "data-good");
      box.appendChild(good);
    }
    box.setAttribute("data-checked", String(seq));
    var paths = document.getElementById("field-paths");
    if (paths && answer.paths) {
      while (paths.firstChild) paths.removeChild(paths.firstChild);
      answer.paths.forEach(function (path) {
        var option = document.createElement("option");
        option.value = path;
        paths.appendChild(option);
      });
    }
    if (answer.preview) {
      var area = document.getElementById("preview-area");
      // The server's own template, escaped there: the document as it would be issued.
      if (area) area.innerHTML = answer.preview;
    }
  }

  function check() {
    var mine = ++seq;
    var data = new FormData(form);
    data.delete("action");
    fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && mine === seq) show(answer);
      })
      .catch(function () { /* the server checks again when the form is saved */ });
  }

  function later() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, 500);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
