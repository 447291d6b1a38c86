// Bar lengths come in data-width ("42.5%"): the Content-Security-Policy allows no inline
// style attribute, while a width set from a script file is allowed.
(function () {
  "use strict";
  var bars = document.querySelectorAll("[data-width]");
  for (var i = 0; i < bars.length; i++) {
    var width = bars[i].getAttribute("data-width");
    if (/^\d+(\.\d+)?%$/.test(width)) {
      bars[i].style.width = width;
    }
  }
})();
