// Progressive enhancement: while a page has [data-live] regions (runs in flight), fetch
// the page again every few seconds and swap those regions in place. Without JavaScript
// the page is complete; reloading it shows the same.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var still = false;
        document.querySelectorAll("[id][data-live]").forEach(function (region) {
          var next = fresh.getElementById(region.id);
          if (!next) { return; }
          region.replaceWith(document.adoptNode(next));
          still = still || next.hasAttribute("data-live");
        });
        if (still) { window.setTimeout(refresh, EVERY_MS); }
      })
      .catch(function () { window.setTimeout(refresh, EVERY_MS * 3); });
  }
  window.setTimeout(refresh, EVERY_MS);
})();
