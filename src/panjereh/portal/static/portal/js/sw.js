/* Panjereh's service worker (docs/pwa.md). Served at /sw.js by portal.views_pwa, which puts its
   settings in front of this file as self.PANJEREH (the kept pages, the offline pages, how long a
   copy is kept, the version).

   - Static files (/static/): cache first. Their cache carries the version, and a new version
     drops the old one.
   - The signed-in person's own pages (inbox, mailbox, documents, applications, appointments):
     network first; the last copy is kept with the time it was fetched, and shown with a notice
     ("you are offline: a copy kept on ...") when the network cannot be reached. Only a page
     marked with its holder (a signed-in person), answered 200 as HTML, without
     "Cache-Control: no-store", is kept; the copies of one holder are dropped when another
     signs in, when the sign-out goes by, and when they are older than keepDays.
   - Any other page: network only, and the offline page when the network cannot be reached.
   - Nothing else (POST, API calls, other sites) is touched. */
"use strict";

var CONFIG = self.PANJEREH;
var STATIC_CACHE = "panjereh-static-" + CONFIG.version;
var PERSONAL_CACHE = "panjereh-personal";
var HOLDER_KEY = "/__panjereh/holder";
var KEPT_AT = "X-Panjereh-Kept-At";
var KEPT = new RegExp(CONFIG.kept);
var SIGN_OUT = new RegExp(CONFIG.signOut);
var NOTICE = /<!-- kept-copy-notice -->([\s\S]*?)<!-- \/kept-copy-notice -->/;
var DAY = 24 * 3600 * 1000;

function languageOf(url) {
  return /^\/en(\/|$)/.test(url.pathname) ? "en" : "fa";
}

// -- installation: the offline pages (as a visitor not signed in) and the files they use -----

function staticFilesOf(html) {
  var found = {};
  var pattern = /(?:href|src)="([^"]+)"/g;
  var match;
  while ((match = pattern.exec(html))) {
    if (match[1].indexOf(CONFIG.static) === 0) found[match[1]] = true;
  }
  return Object.keys(found);
}

function precache() {
  return caches.open(STATIC_CACHE).then(function (cache) {
    var languages = Object.keys(CONFIG.offline);
    return Promise.all(languages.map(function (language) {
      var url = CONFIG.offline[language];
      return fetch(new Request(url, { credentials: "omit" })).then(function (response) {
        if (!response.ok) throw new Error(url + " answered " + response.status);
        return response.clone().text().then(function (html) {
          return cache.put(url, response).then(function () { return staticFilesOf(html); });
        });
      });
    })).then(function (lists) {
      var files = {};
      lists.forEach(function (list) { list.forEach(function (f) { files[f] = true; }); });
      // Best effort: a file that cannot be fetched now is fetched when a page first uses it.
      return Promise.all(Object.keys(files).map(function (file) {
        return cache.add(file).catch(function () {});
      }));
    });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(precache().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("panjereh-static-") === 0 && name !== STATIC_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// -- static files: cache first ----------------------------------------------------------------

function cacheFirst(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") {
          cache.put(request, response.clone()).catch(function () {});  // e.g. storage full
        }
        return response;
      });
    });
  });
}

// -- the person's own pages: network first, the last copy kept --------------------------------

function forget() {
  return caches.delete(PERSONAL_CACHE);
}

function keepable(response) {
  return response.type === "basic" && response.status === 200 &&
    (response.headers.get("Content-Type") || "").indexOf("text/html") === 0 &&
    !/no-store/i.test(response.headers.get("Cache-Control") || "") &&
    !!response.headers.get(CONFIG.holderHeader);
}

function keep(request, response) {
  if (!keepable(response)) return Promise.resolve();
  var holder = response.headers.get(CONFIG.holderHeader);
  return caches.open(PERSONAL_CACHE).then(function (cache) {
    return cache.match(HOLDER_KEY).then(function (known) {
      return known ? known.text() : holder;
    }).then(function (previous) {
      // Another person's copies never stay beside this one's.
      return previous === holder ? cache : forget().then(function () {
        return caches.open(PERSONAL_CACHE);
      });
    });
  }).then(function (cache) {
    return response.blob().then(function (body) {
      var headers = new Headers(response.headers);
      headers.set(KEPT_AT, new Date().toISOString());
      headers.delete("Content-Encoding");
      headers.delete("Content-Length");
      return Promise.all([
        cache.put(HOLDER_KEY, new Response(holder)),
        cache.put(request.url, new Response(body, {
          status: response.status, statusText: response.statusText, headers: headers
        }))
      ]);
    });
  });
}

function when(iso, language) {
  var format = new Intl.DateTimeFormat(language === "fa" ? "fa-IR-u-ca-persian-nu-arabext" : "en-GB", {
    day: "numeric", month: language === "fa" ? "long" : "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: CONFIG.timeZone
  });
  return '<time datetime="' + iso + '">' + format.format(new Date(iso)) + "</time>";
}

function noticeFor(language, keptAt) {
  return caches.match(CONFIG.offline[language]).then(function (page) {
    return page ? page.text() : "";
  }).then(function (html) {
    var found = NOTICE.exec(html);
    var notice = found ? found[1] : '<div class="notice offline-copy" id="offline-copy" role="status"><p>{when}</p></div>';
    return notice.replace("{when}", when(keptAt, language));
  });
}

function keptCopy(url) {
  return caches.open(PERSONAL_CACHE).then(function (cache) {
    return cache.match(url.href).then(function (copy) {
      if (!copy) return null;
      var keptAt = copy.headers.get(KEPT_AT);
      if (!keptAt || Date.now() - Date.parse(keptAt) > CONFIG.keepDays * DAY) {
        return cache.delete(url.href).then(function () { return null; });
      }
      return Promise.all([copy.text(), noticeFor(languageOf(url), keptAt)]).then(function (parts) {
        var html = parts[0].replace(/<main\b[^>]*>/, function (tag) {
          return tag + '<div class="container">' + parts[1] + "</div>";
        });
        var headers = new Headers(copy.headers);
        headers.delete("Content-Length");
        return new Response(html, { status: 200, headers: headers });
      });
    });
  });
}

function offlinePage(url) {
  return caches.match(CONFIG.offline[languageOf(url)]).then(function (page) {
    return page || Response.error();
  });
}

// -- routing ----------------------------------------------------------------------------------

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && SIGN_OUT.test(url.pathname)) {
    event.waitUntil(forget());
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf(CONFIG.static) === 0) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (request.mode !== "navigate") return;
  if (KEPT.test(url.pathname)) {
    event.respondWith(fetch(request).then(function (response) {
      event.waitUntil(keep(request, response.clone()));
      return response;
    }, function () {
      return keptCopy(url).then(function (copy) { return copy || offlinePage(url); });
    }));
    return;
  }
  event.respondWith(fetch(request).catch(function () { return offlinePage(url); }));
});
