/* The web chat page: shows what the bot sent (an event stream that resumes after the last
 * message shown, so a reload or a lost connection loses nothing), posts what the visitor
 * types or presses, and in kiosk mode hands the tablet to the next citizen.
 * No dialogue rule lives here: the page only shows messages and buttons and sends back
 * what was typed or pressed. Every label comes from the server's label files. */
(function () {
  "use strict";

  var body = document.body;
  var mode = body.dataset.mode;
  var labels = JSON.parse(document.getElementById("labels").textContent);
  var lang = body.dataset.lang;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var log = document.getElementById("log");
  var statusLine = document.getElementById("status");
  var composer = document.getElementById("composer");
  var textBox = document.getElementById("text");
  var fileInput = document.getElementById("file");
  var messages = new Map();
  var lastId = 0;
  var source = null;
  var busy = false;
  var readySeen = false;
  var idleSeconds = parseInt(body.dataset.idle, 10) || 120;
  var lastActivity = Date.now();
  var finishTimer = null;

  function t(key, params) {
    var text = (labels[lang] && labels[lang][key]) || labels.vi[key] || "";
    Object.keys(params || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(params[name]);
    });
    return text;
  }

  function applyLabels() {
    document.documentElement.lang = lang;
    document.title = t("web.title");
    document.querySelectorAll("[data-label]").forEach(function (el) {
      el.textContent = t(el.dataset.label);
    });
    document.querySelectorAll("[data-label-aria]").forEach(function (el) {
      el.setAttribute("aria-label", t(el.dataset.labelAria));
    });
    document.querySelectorAll("[data-label-placeholder]").forEach(function (el) {
      el.setAttribute("placeholder", t(el.dataset.labelPlaceholder));
    });
    var switcher = document.getElementById("lang");
    if (switcher) switcher.setAttribute("lang", lang === "vi" ? "en" : "vi");
  }

  function say(key, params) {
    if (statusLine) statusLine.textContent = key ? t(key, params) : "";
  }

  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function reloadOnce() {
    // A fresh page brings a fresh token; but where the browser keeps no cookie for this
    // frame (a widget on a strict browser), reloading again would never end.
    try {
      var last = parseInt(sessionStorage.getItem("sipas-reloaded") || "0", 10);
      if (Date.now() - last < 30000) return;
      sessionStorage.setItem("sipas-reloaded", String(Date.now()));
    } catch (err) {
      return;
    }
    setTimeout(function () { location.reload(); }, 1500);
  }

  function pause(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  async function post(url, payload, headers, retried) {
    var response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: Object.assign({ "X-CSRF-Token": csrf }, headers || {}),
        body: payload,
      });
    } catch (err) {
      say("web.failed");
      return null;
    }
    var answer = null;
    try { answer = await response.json(); } catch (err) { answer = null; }
    if (response.ok) {
      say("");
      return answer || { ok: true };
    }
    var reason = (answer && answer.error) || "web.failed";
    var wait = parseInt(response.headers.get("Retry-After") || "0", 10);
    if (response.status === 429 && !retried && wait > 0 && wait <= 10) {
      // Too fast: said once, then sent again by itself (the same id: never twice).
      say(reason);
      await pause(wait * 1000);
      return post(url, payload, headers, true);
    }
    say(reason);
    if (reason === "web.expired" && mode !== "pin") reloadOnce();
    return null;
  }

  function track(answer) {
    if (!answer || typeof answer.busy !== "boolean") return;
    var finished = busy && !answer.busy;
    busy = answer.busy;
    if (finished && mode === "kiosk") kioskFinished();
  }

  async function send(payload) {
    payload.id = payload.id || newId();
    var answer = await post("/chat/send", JSON.stringify(payload), {
      "Content-Type": "application/json",
    });
    track(answer);
    return answer;
  }

  // --- messages ----------------------------------------------------------------------------

  function draw(entry) {
    var msg = entry.body;
    var el = entry.el;
    el.replaceChildren();
    var who = document.createElement("span");
    who.className = "who visually-hidden";
    who.textContent = entry.mine ? t("web.you") : t("web.bot_name");
    el.appendChild(who);
    if (msg.text) {
      var text = document.createElement("p");
      text.className = "text";
      text.textContent = msg.text;
      el.appendChild(text);
    }
    if (msg.kind === "image" && msg.src) {
      var img = document.createElement("img");
      img.src = msg.src;
      img.alt = msg.alt || t("web.chart");
      el.appendChild(img);
    }
    var choices = msg.choices || [];
    if (choices.length) {
      var box = document.createElement("div");
      box.className = "choices";
      box.setAttribute("role", "group");
      choices.forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = choice[1];
        button.dataset.choice = choice[0];
        button.addEventListener("click", function () { press(entry, choice[0], button); });
        box.appendChild(button);
      });
      el.appendChild(box);
    }
  }

  function enableNewestChoices() {
    var newest = null;
    messages.forEach(function (entry) {
      if ((entry.body.choices || []).length) newest = entry;
    });
    messages.forEach(function (entry) {
      entry.el.querySelectorAll(".choices button").forEach(function (button) {
        button.disabled = entry !== newest || entry.pressed;
      });
    });
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function show(msg) {
    lastActivity = Date.now();
    if (msg.kind === "edit") {
      var target = messages.get(msg.target);
      if (target) {
        target.body = Object.assign({}, target.body, { text: msg.text, choices: msg.choices });
        target.pressed = false;
        draw(target);
        enableNewestChoices();
      }
      return;
    }
    if (messages.has(msg.id)) return;
    var el = document.createElement("div");
    el.className = "msg bot";
    var entry = { el: el, body: msg, pressed: false, mine: false };
    messages.set(msg.id, entry);
    draw(entry);
    log.appendChild(el);
    enableNewestChoices();
    if (el.offsetHeight > log.clientHeight * 0.9) {
      // A question taller than the screen: show its beginning, the buttons follow.
      el.scrollIntoView({ block: "start" });
    } else {
      scrollDown();
    }
  }

  function showMine(text) {
    var el = document.createElement("div");
    el.className = "msg me";
    draw({ el: el, body: { text: text }, mine: true });
    log.appendChild(el);
    scrollDown();
  }

  async function press(entry, choiceId, button) {
    lastActivity = Date.now();
    entry.pressed = true;
    button.classList.add("picked");
    enableNewestChoices();
    var answer = await send({ choice: choiceId, message: messageIdOf(entry) });
    if (!answer) {
      entry.pressed = false;
      button.classList.remove("picked");
      enableNewestChoices();
    }
  }

  function messageIdOf(entry) {
    var found = null;
    messages.forEach(function (value, key) { if (value === entry) found = key; });
    return found;
  }

  // --- the event stream --------------------------------------------------------------------

  function connect() {
    if (source) source.close();
    say("web.connecting");
    source = new EventSource("/chat/events?after=" + lastId);
    source.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.id > lastId) lastId = msg.id;
      show(msg);
    };
    source.addEventListener("ready", function (event) {
      say("");
      var info = JSON.parse(event.data);
      if (readySeen) return;
      readySeen = true;
      busy = info.busy;
      onReady(info);
    });
    source.onopen = function () { say(""); };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, 3000);
      }
      say("web.offline");
    };
  }

  function receiptFromAddress() {
    var params = new URLSearchParams(location.search);
    var code = params.get("r") || params.get("start");
    if (params.has("r") || params.has("start")) {
      // The code is not left in the address bar (nor in the history, nor in a bookmark).
      params.delete("r");
      params.delete("start");
      var rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
    }
    return code && /^[A-Za-z0-9_-]{1,64}$/.test(code) ? code : null;
  }

  function onReady(info) {
    if (mode === "kiosk") return;
    var code = receiptFromAddress();
    if (code) {
      send({ text: "/start " + code });
    } else if (info.empty) {
      send({ text: lang === "vi" ? "/start" : "/ngonngu " + lang });
    }
  }

  // --- typing and files --------------------------------------------------------------------

  if (composer) {
    composer.addEventListener("submit", async function (event) {
      event.preventDefault();
      var text = textBox.value;
      if (!text.trim()) return;
      textBox.value = "";
      showMine(text);
      var answer = await send({ text: text });
      if (!answer) textBox.value = text;
      textBox.focus();
    });
    textBox.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
  }

  if (fileInput) {
    fileInput.addEventListener("change", async function () {
      var file = fileInput.files && fileInput.files[0];
      fileInput.value = "";
      if (!file) return;
      if (file.size > 10 * 1024 * 1024) { say("web.too_large"); return; }
      say("web.uploading", { name: file.name });
      var answer = await post("/chat/upload", file, {
        "Content-Type": "application/octet-stream",
        "X-File-Name": encodeURIComponent(file.name.slice(0, 200)),
        "X-Client-Id": newId(),
      });
      if (answer) {
        showMine(t("web.uploaded", { name: file.name }));
        track(answer);
      }
    });
  }

  var switcher = document.getElementById("lang");
  if (switcher) {
    switcher.addEventListener("click", function () {
      lang = lang === "vi" ? "en" : "vi";
      document.cookie = "sipas_lang=" + lang + "; path=/; max-age=31536000; SameSite=Lax";
      applyLabels();
      if (mode !== "pin" && !(mode === "kiosk" && body.classList.contains("kiosk-idle"))) {
        send({ text: "/ngonngu " + lang });
      }
    });
  }

  // --- the kiosk PIN page ------------------------------------------------------------------

  function pinForm(form, input, url, after) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var answer = await post(url, JSON.stringify({ pin: input.value.slice(0, 12) }), {
        "Content-Type": "application/json",
      });
      input.value = "";
      if (answer) after();
    });
  }

  if (mode === "pin") {
    pinForm(document.getElementById("pin-form"), document.getElementById("pin"),
      "/kiosk/unlock", function () { location.reload(); });
    return;
  }

  // --- the counter kiosk -------------------------------------------------------------------

  var scanStream = null;

  function kioskHome() {
    body.classList.remove("kiosk-done");
    body.classList.add("kiosk-idle");
    document.getElementById("start").hidden = false;
    document.getElementById("thanks").hidden = true;
    document.getElementById("code").value = "";
    stopScan();
  }

  async function kioskReset() {
    clearTimeout(finishTimer);
    finishTimer = null;
    var answer = await post("/kiosk/reset", "{}", { "Content-Type": "application/json" });
    if (answer && answer.csrf) csrf = answer.csrf;
    messages.clear();
    log.replaceChildren();
    lastId = 0;
    busy = false;
    lang = body.dataset.lang;
    applyLabels();
    connect();
    kioskHome();
  }

  async function kioskStart(code) {
    lastActivity = Date.now();
    body.classList.remove("kiosk-idle");
    document.getElementById("start").hidden = true;
    stopScan();
    await send({ text: code ? "/start " + code : "/khaosat" });
    if (lang !== body.dataset.lang) send({ text: "/ngonngu " + lang });
  }

  function kioskFinished() {
    body.classList.add("kiosk-done");
    document.getElementById("thanks").hidden = false;
    clearTimeout(finishTimer);
    finishTimer = setTimeout(kioskReset, Math.min(10, idleSeconds) * 1000);
  }

  function codeFromScan(text) {
    try {
      var url = new URL(text);
      var found = url.searchParams.get("r") || url.searchParams.get("start");
      if (found) return found;
    } catch (err) { /* not an address: the code itself */ }
    var match = /(?:send:\s*)?([A-Za-z0-9_-]{16,64})\s*$/.exec(text);
    return match ? match[1] : null;
  }

  function stopScan() {
    if (scanStream) scanStream.getTracks().forEach(function (track) { track.stop(); });
    scanStream = null;
    var scanner = document.getElementById("scanner");
    if (scanner) scanner.hidden = true;
  }

  async function startScan() {
    var video = document.getElementById("camera");
    try {
      scanStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (err) {
      say("web.kiosk_scan_failed");
      return;
    }
    document.getElementById("scanner").hidden = false;
    video.srcObject = scanStream;
    await video.play();
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var tick = async function () {
      if (!scanStream) return;
      lastActivity = Date.now();
      try {
        var codes = await detector.detect(video);
        var code = codes.length ? codeFromScan(codes[0].rawValue) : null;
        if (code) { kioskStart(code); return; }
      } catch (err) { /* the next frame */ }
      setTimeout(tick, 300);
    };
    tick();
  }

  if (mode === "kiosk") {
    kioskHome();
    document.getElementById("kiosk-start").addEventListener("click", function () { kioskStart(null); });
    document.getElementById("code-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var code = document.getElementById("code").value.trim();
      if (code) kioskStart(code.slice(0, 64));
    });
    document.getElementById("home").addEventListener("click", kioskReset);
    var scan = document.getElementById("scan");
    if ("BarcodeDetector" in window && navigator.mediaDevices && window.isSecureContext) {
      scan.hidden = false;
      scan.addEventListener("click", startScan);
      document.getElementById("scan-stop").addEventListener("click", stopScan);
    }
    var lockForm = document.getElementById("lock-form");
    document.getElementById("staff").addEventListener("click", function () {
      lockForm.hidden = false;
      document.getElementById("lock-pin").focus();
    });
    document.getElementById("lock-cancel").addEventListener("click", function () {
      lockForm.hidden = true;
    });
    pinForm(lockForm, document.getElementById("lock-pin"), "/kiosk/lock", function () {
      location.href = "/";
    });
    ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
      document.addEventListener(name, function () { lastActivity = Date.now(); }, { passive: true });
    });
    setInterval(function () {
      var away = Date.now() - lastActivity > idleSeconds * 1000;
      if (away && !body.classList.contains("kiosk-idle") && !finishTimer) kioskReset();
    }, 1000);
  }

  connect();
})();
