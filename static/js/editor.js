/* Autosave for the submission editor.
 *
 * Saves a few seconds after typing pauses (and at most every few seconds while
 * typing goes on), when a field loses focus, and on "Save now". Each save names
 * the version it started from; the server answers 409 when another tab or
 * device saved in between, and this tab then stops saving instead of
 * overwriting that work.
 */
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form || !window.fetch) return;
  var url = form.getAttribute("data-autosave-url");
  var stateEl = document.getElementById("save-state");
  var versionInput = form.querySelector("input[name=version]");
  var conflictBox = document.getElementById("conflict");
  var IDLE_MS = 1500, MAX_WAIT_MS = 5000, RETRY_MS = 4000;
  var dirty = false, inFlight = false, stopped = false, timer = null, firstChangeAt = 0;

  function show(state, text) {
    stateEl.setAttribute("data-state", state);
    stateEl.textContent = text;
  }

  function schedule() {
    if (stopped) return;
    var now = Date.now();
    if (!firstChangeAt) firstChangeAt = now;
    clearTimeout(timer);
    timer = setTimeout(save, Math.max(0, Math.min(IDLE_MS, firstChangeAt + MAX_WAIT_MS - now)));
  }

  function stop(state, message) {
    stopped = true;
    clearTimeout(timer);
    show(state, state === "locked" ? "Read-only" : "Conflict: not saved");
    document.getElementById("conflict-message").textContent = message;
    conflictBox.hidden = false;
  }

  function save() {
    clearTimeout(timer);
    if (stopped || !dirty) return;
    if (inFlight) { schedule(); return; }
    inFlight = true;
    dirty = false;
    firstChangeAt = 0;
    show("saving", "Saving…");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (reply) {
      inFlight = false;
      if (reply.status === 200 && reply.data.status === "saved") {
        versionInput.value = reply.data.version;
        if (dirty) { show("dirty", "Unsaved changes"); schedule(); }
        else { show("saved", "Saved " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })); }
      } else if (reply.status === 409) {
        stop(reply.data.status === "submission_locked" ? "locked" : "conflict", reply.data.message || "This submission was changed elsewhere.");
      } else if (reply.status === 400 || reply.status === 413) {
        // Retrying the same request cannot help; the next edit tries again.
        dirty = true;
        show("error", reply.data.message ? "Not saved: " + reply.data.message : "Not saved: the text is too long.");
      } else {
        throw new Error("HTTP " + reply.status);
      }
    }).catch(function () {
      inFlight = false;
      dirty = true;
      show("error", "Not saved: connection problem, retrying…");
      clearTimeout(timer);
      timer = setTimeout(save, RETRY_MS);
    });
  }

  form.addEventListener("input", function () {
    if (stopped) return;
    dirty = true;
    show("dirty", "Unsaved changes");
    schedule();
  });
  form.addEventListener("focusout", function (event) {
    // The code editor's content is an editable div, not a textarea.
    if ((event.target.tagName === "TEXTAREA" || event.target.isContentEditable) && dirty) save();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    dirty = dirty || !stopped;
    save();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && dirty) save();
  });
  window.addEventListener("beforeunload", function (event) {
    if ((dirty || inFlight) && !stopped) { event.preventDefault(); event.returnValue = ""; }
  });
  // Leaving for the confirmation page saves first.
  var submitLink = document.getElementById("submit-link");
  if (submitLink) {
    submitLink.addEventListener("click", function (event) {
      if (!dirty && !inFlight) return;
      event.preventDefault();
      save();
      var wait = setInterval(function () {
        if (!inFlight && (!dirty || stopped)) { clearInterval(wait); if (!stopped) window.location = submitLink.href; }
      }, 100);
    });
  }
})();
