// Reloads the page's live part every few seconds (the page works whole without this script);
// when the answer is not a fragment (the session ended, an error), the whole page is reloaded.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var seconds = Number(live.getAttribute("data-refresh")) || 5;
  function refresh() {
    if (document.hidden) return;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (response.headers.get("x-cutover-fragment") !== "1") {
          window.location.reload();
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (typeof html === "string") live.innerHTML = html;
      })
      .catch(function () { /* the next tick tries again */ });
  }
  window.setInterval(refresh, seconds * 1000);
})();
