/* Direct-to-S3 uploads with a progress bar per file.
 *
 * For each chosen file: ask the server for a presigned POST (it registers the
 * file and picks the storage key), send the bytes straight to S3 with
 * XMLHttpRequest (for upload progress and cancel), then ask the server to
 * verify what S3 stored. The list of files is then reloaded from the server.
 */
(function () {
  "use strict";
  var root = document.getElementById("uploader");
  if (!root || !window.FormData || !window.XMLHttpRequest) return;
  var input = document.getElementById("file-input");
  var dropzone = document.getElementById("dropzone");
  var list = document.getElementById("uploads");
  var csrf = document.querySelector("#editor input[name=csrfmiddlewaretoken], input[name=csrfmiddlewaretoken]").value;
  var active = 0;
  // The limits, also shown on the page: refuse a file before sending it
  // rather than after the upload (the server refuses it too).
  var maxSize = parseInt(root.getAttribute("data-max-size"), 10) || Infinity;
  var maxTotal = parseInt(root.getAttribute("data-max-total"), 10) || Infinity;
  var inFlight = 0;  // bytes of uploads started on this page, not yet in the file list

  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    if (bytes >= 1024) return (bytes / 1024).toFixed(1) + " KB";
    return bytes + " bytes";
  }

  function textBytes() {
    var total = 0;
    document.querySelectorAll("#editor textarea").forEach(function (area) {
      total += new Blob([area.value]).size;  // UTF-8, as the server counts
    });
    return total;
  }

  function listedBytes() {
    var total = 0;
    document.querySelectorAll("#file-list li[data-size]").forEach(function (li) {
      total += parseInt(li.getAttribute("data-size"), 10) || 0;
    });
    return total;
  }

  function showUsed() {
    var used = document.getElementById("used-bytes");
    if (used) used.textContent = formatSize(textBytes() + listedBytes());
  }
  document.body.addEventListener("htmx:afterSwap", showUsed);

  function refusal(file) {
    if (file.size > maxSize) {
      return "Not uploaded: " + file.name + " is " + formatSize(file.size) + "; each file may be at most " +
        formatSize(maxSize) + ".";
    }
    var used = textBytes() + listedBytes() + inFlight;
    if (used + file.size > maxTotal) {
      return "Not uploaded: " + file.name + " is " + formatSize(file.size) + ", but only " +
        formatSize(Math.max(maxTotal - used, 0)) + " of the " + formatSize(maxTotal) +
        " a submission may hold in total is left. Remove or shrink a file first.";
    }
    return "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: payload === undefined ? "{}" : JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || ("The server answered " + response.status + "."));
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  }

  function refreshFileList() {
    if (window.htmx) {
      return window.htmx.ajax("GET", root.getAttribute("data-files-url"), { target: "#files", swap: "outerHTML" });
    }
    window.location.reload();
  }

  function s3Message(xhr) {
    var match = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
    return match ? match[1] : "storage answered " + xhr.status;
  }

  function uploadOne(file) {
    var row = el("li", { "class": "upload-row", "data-name": file.name });
    var name = el("span", { "class": "file-name", dir: "auto" }, file.name);
    var progress = el("progress", { max: "100", value: "0" });
    progress.setAttribute("aria-label", "Upload progress of " + file.name);
    var percent = el("span", { "class": "small muted upload-percent" }, "0 %");
    var status = el("span", { "class": "small upload-status", role: "status" }, "Starting…");
    var cancel = el("button", { type: "button", "class": "small danger" }, "Cancel");
    cancel.setAttribute("aria-label", "Cancel upload of " + file.name);
    var actions = el("span", { "class": "actions" });
    actions.appendChild(cancel);
    [name, progress, percent, status, actions].forEach(function (n) { row.appendChild(n); });
    list.appendChild(row);

    var problem = refusal(file);
    if (problem) {
      row.setAttribute("data-state", "refused");
      status.textContent = problem;
      progress.remove();
      percent.remove();
      cancel.remove();
      return;
    }

    var xhr = null, ticket = null, cancelled = false;
    function finish(state, text) {
      row.setAttribute("data-state", state);
      status.textContent = text;
      cancel.remove();
      active -= 1;
      inFlight -= file.size;
    }
    cancel.addEventListener("click", function () {
      cancelled = true;
      if (xhr) xhr.abort();
    });

    active += 1;
    inFlight += file.size;
    postJSON(root.getAttribute("data-start-url"), { name: file.name, size: file.size, type: file.type })
      .then(function (data) {
        ticket = data;
        if (cancelled) throw new Error("cancelled");
        return new Promise(function (resolve, reject) {
          var body = new FormData();
          Object.keys(data.fields).forEach(function (k) { body.append(k, data.fields[k]); });
          body.append("file", file);  // S3 wants the file as the last field
          xhr = new XMLHttpRequest();
          xhr.open("POST", data.url);
          xhr.upload.addEventListener("progress", function (event) {
            if (!event.lengthComputable) return;
            var p = Math.round(event.loaded * 100 / event.total);
            progress.value = p;
            percent.textContent = p + " %";
          });
          xhr.addEventListener("load", function () {
            if (xhr.status >= 200 && xhr.status < 300) resolve();
            else reject(new Error("Refused by storage: " + s3Message(xhr)));
          });
          xhr.addEventListener("error", function () { reject(new Error("The upload failed (network).")); });
          xhr.addEventListener("abort", function () { reject(new Error("cancelled")); });
          status.textContent = "Uploading…";
          xhr.send(body);
        });
      })
      .then(function () {
        progress.value = 100;
        percent.textContent = "100 %";
        status.textContent = "Checking…";
        cancel.disabled = true;
        return postJSON(ticket.complete_url);
      })
      .then(function (result) {
        if (result.status === "READY") finish("ready", "Uploaded and checked.");
        else finish("rejected", "Rejected: " + (result.reason || "the file did not pass the checks."));
        refreshFileList();
        // The reloaded list shows the file (and any rejection reason) from now on.
        setTimeout(function () { row.remove(); }, 4000);
      })
      .catch(function (error) {
        var wasCancelled = error.message === "cancelled";
        finish(wasCancelled ? "cancelled" : "failed", wasCancelled ? "Cancelled." : error.message);
        // The server registered the file before the upload: remove it again.
        if (ticket) postJSON(ticket.delete_url).catch(function () {}).then(refreshFileList);
      });
  }

  function uploadAll(files) {
    Array.prototype.forEach.call(files, uploadOne);
  }

  input.addEventListener("change", function () {
    uploadAll(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) { event.preventDefault(); dropzone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    dropzone.addEventListener(type, function () { dropzone.classList.remove("dragging"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) uploadAll(event.dataTransfer.files);
  });
  window.addEventListener("beforeunload", function (event) {
    if (active > 0) { event.preventDefault(); event.returnValue = ""; }
  });
})();
