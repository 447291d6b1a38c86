// A QR code carries the token after "#t=" so that it never reaches server logs; submit it.
// (A file of its own: the Content-Security-Policy allows no inline script.)
(function () {
  "use strict";
  var m = location.hash.match(/^#t=([A-Za-z0-9_.-]+)$/);
  var field = document.getElementById("id_token");
  if (m && field && !document.getElementById("verification")) {
    field.value = m[1];
    document.getElementById("verify-form").submit();
  }
})();
