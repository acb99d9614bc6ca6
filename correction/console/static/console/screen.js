/* The station screen: pair once from the link's fragment, then keep this step's code on show.
 *
 * Each answer holds this step's code and the next one's; the next is shown the moment its step
 * begins (by the server's clock, which the answer carries), and the codes are asked for again a
 * little before that step ends. A refusal (revoked, retired, not paired) replaces the code with
 * its message at the next refresh.
 */
"use strict";

(function () {
  var root = document.getElementById("screen");
  var image = document.getElementById("qr");
  var message = document.getElementById("screen-message");
  var clock = document.getElementById("clock");
  var RETRY_MS = 5000;
  var offset = 0;  // the server's clock minus this tablet's, in ms
  var swapTimer = null;
  var refreshTimer = null;
  var formatter = new Intl.DateTimeFormat(document.documentElement.lang, {
    timeZone: root.dataset.zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });

  function localMs(iso) { return Date.parse(iso) - offset; }

  function tick() { clock.textContent = formatter.format(new Date(Date.now() + offset)); }

  function say(state) {
    clearTimeout(swapTimer);
    image.hidden = true;
    image.removeAttribute("src");
    root.dataset.state = state;
    message.textContent = root.getAttribute("data-msg-" + state) || root.getAttribute("data-msg-offline");
  }

  function show(code) {
    if (image.getAttribute("src") !== code.png) {
      image.src = code.png;
    }
    image.hidden = false;
    message.textContent = "";
    root.dataset.state = "showing";
    root.dataset.expiresAt = code.expires_at;
  }

  function later(fn, ms) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(fn, Math.max(ms, 500));
  }

  function refresh() {
    fetch(root.dataset.codeUrl, {credentials: "same-origin", cache: "no-store", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (answer) {
        if (!answer.ok) {
          say(answer.body.state);
          later(refresh, RETRY_MS);
          return;
        }
        var data = answer.body;
        var current = data.codes[0];
        var next = data.codes[1];
        offset = Date.parse(data.now) - Date.now();
        document.getElementById("station-name").textContent = data.station;
        show(current);
        clearTimeout(swapTimer);
        swapTimer = setTimeout(function () { show(next); }, Math.max(0, localMs(next.starts_at) - Date.now()));
        var lead = Math.min(3000, data.step_seconds * 250);
        later(refresh, localMs(next.expires_at) - lead - Date.now());
      })
      .catch(function () {
        if (root.dataset.state !== "showing" || localMs(root.dataset.expiresAt) <= Date.now()) {
          say("offline");
        }
        later(refresh, RETRY_MS);
      });
  }

  function pair(secret) {
    fetch(root.dataset.pairUrl, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: secret})
    }).then(function (response) {
      if (response.ok) {
        refresh();
      } else {
        say("display_pairing_invalid");
      }
    }).catch(function () { say("offline"); later(function () { pair(secret); }, RETRY_MS); });
  }

  tick();
  setInterval(tick, 1000);
  var secret = window.location.hash.slice(1);
  if (secret) {
    // The secret leaves the address bar (and the history) before anything else happens.
    window.history.replaceState(null, "", window.location.pathname);
    pair(secret);
  } else {
    refresh();
  }
}());
