/* Live scoring status: polls the scoring panel's URL until the job ends.
 *
 * Adaptive polling, not server-sent events: a job runs in 30-500 ms, so the
 * first seconds are polled every 200 ms and the result shows almost as soon as
 * it exists; then the interval grows to 800 ms (a queued job can wait), which
 * still shows any result within a second of the job finishing. An SSE stream
 * would hold a gunicorn sync worker (or a runserver thread) per open page for
 * as long as it stays open; a poll holds one for a few milliseconds, and most
 * polls are answered 204 ("nothing new") by one indexed query.
 * Hidden tabs do not poll; they poll at once when shown again.
 */
(function () {
  "use strict";
  if (!window.fetch) return;  // <noscript> refreshes the page instead
  var FAST_MS = 200, FAST_FOR_MS = 8000, MAX_MS = 800, GROWTH = 1.5, ERROR_MS = 3000;
  var fastUntil = Date.now() + FAST_FOR_MS, delay = FAST_MS, timer = null, inFlight = false;

  function pollUrl() {
    var panel = document.getElementById("scoring");
    return panel && panel.getAttribute("data-poll-url");
  }

  function schedule(ms) {
    clearTimeout(timer);
    if (!pollUrl() || document.visibilityState === "hidden") return;
    timer = setTimeout(poll, ms);
  }

  function next() {
    delay = Date.now() < fastUntil ? FAST_MS : Math.min(MAX_MS, delay * GROWTH);
    schedule(delay);
  }

  function speedUp() {
    fastUntil = Date.now() + FAST_FOR_MS;
    delay = FAST_MS;
  }

  function swap(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = template.content.firstElementChild;
    var panel = document.getElementById("scoring");
    if (!fresh || fresh.id !== "scoring" || !panel) return false;
    panel.replaceWith(fresh);
    return true;
  }

  function poll() {
    var url = pollUrl();
    if (!url || inFlight) return;
    inFlight = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) {
        // Signed out meanwhile: the login page, not the panel. Reloading shows it.
        if (response.redirected) { window.location.reload(); return null; }
        if (response.status === 204) return "";
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        inFlight = false;
        if (html === null) return;
        if (html) {
          if (!swap(html)) return;
          speedUp();  // the job moved (queued -> running): its end is near
        }
        next();
      })
      .catch(function () {
        inFlight = false;
        schedule(ERROR_MS);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { speedUp(); schedule(0); }
    else clearTimeout(timer);
  });
  // At once: after Submit the job often ends while its page loads.
  schedule(0);
})();
