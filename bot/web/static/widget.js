/* The chat widget: one <script> line an agency pastes into its portal,
 *   <script src="https://BOT-ADDRESS/widget.js" data-lang="vi" defer></script>
 * shows a button in the corner that opens the bot's chat page in a frame. The portal's
 * origin must be listed in the bot's WEB_WIDGET_ORIGINS, or the browser refuses the frame. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || document.getElementById("sipas-chat-widget")) return;
  var labels = __LABELS__;
  var base = new URL(script.src).origin;
  var lang = script.dataset.lang === "en" ? "en" : "vi";
  var text = labels[lang];

  var box = document.createElement("div");
  box.id = "sipas-chat-widget";
  box.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483000;" +
    "display:flex;flex-direction:column;align-items:flex-end;gap:8px;" +
    "font:600 18px/1.3 'Noto Sans','DejaVu Sans',Arial,sans-serif";

  var frame = null;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = text["web.widget_open"];
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "min-height:56px;padding:12px 20px;border:2px solid #ffffff;" +
    "border-radius:28px;background:#0b3d91;color:#ffffff;font:inherit;cursor:pointer;" +
    "box-shadow:0 2px 10px rgba(0,0,0,.35)";

  function toggle() {
    var open = button.getAttribute("aria-expanded") !== "true";
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/?embed=1&lang=" + lang;
      frame.title = text["web.widget_frame"];
      frame.style.cssText = "width:min(420px,calc(100vw - 32px));" +
        "height:min(640px,calc(100vh - 110px));border:2px solid #0b3d91;" +
        "border-radius:12px;background:#ffffff;box-shadow:0 4px 18px rgba(0,0,0,.35)";
      box.insertBefore(frame, button);
    }
    frame.hidden = !open;
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? text["web.widget_close"] : text["web.widget_open"];
    if (open) frame.focus();
  }

  button.addEventListener("click", toggle);
  box.appendChild(button);
  document.body.appendChild(box);
})();
