// Pixie's window: renders the View the Rust core sends. It never talks to the network and
// never sees a token; every provider string is inserted as text, never as HTML.
"use strict";

(() => {
  const tauri = window.__TAURI__;
  const $ = (id) => document.getElementById(id);
  const PANELS = ["signed-out", "starting", "authorizing", "device", "exchanging", "signed-in", "failed"];
  const PANEL_OF = {
    signed_out: "signed-out",
    starting: "starting",
    authorizing: "authorizing",
    device: "device",
    exchanging: "exchanging",
    signed_in: "signed-in",
    failed: "failed",
  };
  const STATUS = {
    signed_out: "Signed out",
    starting: "Contacting the provider…",
    authorizing: "Waiting for your browser…",
    device: "Waiting for your other device…",
    exchanging: "Signing in…",
    signed_in: "Signed in",
    failed: "Sign-in failed",
  };
  // The sign-in in progress expires at this time (ms), counted down on screen.
  let deadline = null;
  let countdown = null;
  let lastPhase = null;
  let shownNotice = 0;
  // Views come as command replies and on the channel; only a newer one is drawn.
  let drawn = 0;
  let lastView = null;
  // "Add another account": the sign-in panel is shown while an account stays signed in.
  let adding = false;
  // A button that started something stays disabled until a view answers it.
  function busy(button, on) {
    if (button) button.disabled = on;
  }

  function initials(name) {
    const words = String(name || "").trim().split(/\s+/).filter(Boolean);
    const letters = words.slice(0, 2).map((w) => Array.from(w)[0].toUpperCase());
    return letters.join("") || "?";
  }

  // The panel's main action (else its first) among the buttons actually drawn: a button in a
  // hidden part of the panel cannot take the focus, which would leave it on the page itself.
  function focusFirst(panel) {
    const drawn = [...panel.querySelectorAll("button")].filter((b) => b.getClientRects().length > 0);
    const target = drawn.find((b) => b.classList.contains("primary")) || drawn[0];
    if (target) target.focus({ preventScroll: true });
  }

  function showNotice(on) {
    $("notice").hidden = !on;
    $("app").classList.toggle("has-notice", on);
  }

  // One radio button per provider, when there is a choice; rebuilt only when the list changes.
  let pickerKey = "";
  function renderPicker(view) {
    const providers = view.providers || [];
    const many = providers.length > 1;
    $("picker").hidden = !many;
    $("single-provider").hidden = many;
    $("sign-in").textContent = many ? `Sign in with ${view.provider_name}` : "Sign in";
    const key = JSON.stringify(providers);
    if (key !== pickerKey) {
      pickerKey = key;
      const box = $("picker-options");
      box.replaceChildren();
      box.classList.toggle("many", providers.length > 3);
      for (const p of providers) {
        const label = document.createElement("label");
        label.className = "choice";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "provider";
        input.value = p.id;
        input.dataset.testid = `provider-option-${p.id}`;
        input.addEventListener("change", () => {
          if (input.checked) call("select_provider", { id: p.id });
        });
        const name = document.createElement("span");
        name.textContent = p.name;
        label.append(input, name);
        box.append(label);
      }
    }
    for (const input of $("picker-options").querySelectorAll("input")) {
      input.checked = input.value === view.provider_id;
    }
  }

  function render(view) {
    if (!view || typeof view.revision !== "number" || view.revision <= drawn) return;
    drawn = view.revision;
    lastView = view;
    draw(view);
  }

  function draw(view) {
    for (const b of document.querySelectorAll("button[data-busy]")) {
      b.disabled = false;
      delete b.dataset.busy;
    }
    let phase = view.phase;
    // "Add another account" shows the sign-in panel while an account stays signed in.
    if (phase !== "signed_in") adding = false;
    const shown = adding ? "signed_out" : phase;
    const status = $("status") || document.querySelector("[data-testid=status]");
    status.textContent = adding
      ? "Add another account"
      : phase === "signed_in" && view.profile
        ? `Signed in as ${view.profile.name}`
        : STATUS[phase] || phase;
    status.dataset.phase = phase;
    $("provider-name").textContent = view.provider_name || "";
    $("starting-provider").textContent = view.provider_name || "the provider";
    renderPicker(view);
    $("config-error").hidden = !view.config_error;
    $("config-error-text").textContent = view.config_error || "";
    $("hint-deep-link").hidden = !!view.loopback;
    $("hint-loopback").hidden = !view.loopback;
    $("paste-url").placeholder = view.loopback
      ? "http://127.0.0.1:…/oauth/callback?…"
      : "dev.pixie.app:/oauth/callback/…";

    for (const id of PANELS) $(id).hidden = id !== PANEL_OF[shown];
    $("add-back").hidden = !adding;
    renderAccounts(view);

    if (phase === "signed_in" && view.profile) {
      const p = view.profile;
      $("profile-name").textContent = p.name;
      $("profile-email").textContent = p.email || "";
      $("profile-email").hidden = !p.email;
      const active = (view.accounts || []).find((a) => a.active);
      $("profile-provider").textContent = (active && active.provider_name) || p.issuer;
      $("initials").textContent = initials(p.name);
      const img = $("profile-picture");
      if (p.picture_data_url && p.picture_data_url.startsWith("data:image/")) {
        img.src = p.picture_data_url;
        img.alt = `Picture of ${p.name}`;
        img.hidden = false;
        $("initials").hidden = true;
      } else {
        img.removeAttribute("src");
        img.hidden = true;
        $("initials").hidden = false;
      }
    }

    if (phase === "failed" && view.error) {
      $("error").textContent = view.error.message;
      $("error-code").textContent = view.error.code;
      $("error-detail").textContent = view.error.detail;
    }

    if (phase === "authorizing" && lastPhase !== "authorizing") {
      $("paste").open = false;
      $("paste-url").value = "";
      $("link-text").hidden = true;
      $("copy-link").textContent = "Copy the sign-in link";
    }
    $("try-loopback").hidden = !view.loopback_fallback;
    $("device-instead").hidden = !view.device_flow;
    $("device-start").hidden = !view.device_flow;
    // A browser that will not start: the other device is the way forward.
    const noBrowser = phase === "failed" && view.error && view.error.code === "browser";
    $("device-failed").hidden = !(view.device_flow && view.error);
    $("device-failed").classList.toggle("primary", noBrowser);
    $("try-again").classList.toggle("primary", !(noBrowser && view.device_flow));
    if (view.device) {
      $("device-code").textContent = view.device.user_code;
      $("device-uri").textContent = view.device.verification_uri;
      const qr = view.device.qr_code;
      $("device-qr").hidden = !(qr && qr.startsWith("data:image/png;"));
      if (qr && qr.startsWith("data:image/png;")) $("device-qr").src = qr;
    }
    deadline = typeof view.expires_in_secs === "number" ? Date.now() + view.expires_in_secs * 1000 : null;
    tick();

    $("show-flow").hidden = !view.has_flow;
    $("show-flow-failed").hidden = !view.has_flow;

    const notice = view.notice;
    if (notice && notice.id !== shownNotice) {
      shownNotice = notice.id;
      $("notice-text").textContent = notice.text;
      showNotice(true);
    } else if (!notice) {
      showNotice(false);
    }

    if (shown !== lastPhase) {
      lastPhase = shown;
      focusFirst($(PANEL_OF[shown]));
    }
    $("app").setAttribute("aria-busy", String(phase === "exchanging"));
  }

  // The switcher: a list of buttons (name, email, provider), the active one marked with
  // aria-current; an ended session says "Sign in again". Provider text is inserted as text.
  function renderAccounts(view) {
    const accounts = view.accounts || [];
    $("accounts").hidden = accounts.length < 2 && !accounts.some((a) => a.needs_sign_in);
    $("sign-out-all").hidden = accounts.length < 2;
    $("signed-in").classList.toggle("compact", accounts.length > 1);
    const list = $("account-list");
    list.replaceChildren();
    accounts.forEach((a, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = `account-${i}`;
      button.dataset.key = a.key;
      if (a.active) button.setAttribute("aria-current", "true");
      let pic;
      if (a.picture_data_url && a.picture_data_url.startsWith("data:image/")) {
        pic = document.createElement("img");
        pic.src = a.picture_data_url;
        pic.alt = "";
      } else {
        pic = document.createElement("span");
        pic.textContent = initials(a.name);
        pic.setAttribute("aria-hidden", "true");
      }
      pic.className = "account-pic";
      const text = document.createElement("span");
      text.className = "account-text";
      const name = document.createElement("span");
      name.textContent = a.name;
      const sub = document.createElement("span");
      sub.className = "account-sub";
      sub.textContent = [a.email, a.provider_name].filter(Boolean).join(" · ");
      text.append(name, sub);
      const badge = document.createElement("span");
      badge.className = "account-badge";
      badge.textContent = a.needs_sign_in ? "Sign in again" : a.active ? "Active" : "";
      button.setAttribute("aria-label", `${a.name}, ${a.provider_name}${a.needs_sign_in ? ", sign in again" : a.active ? ", active" : ""}`);
      button.append(pic, text, badge);
      button.addEventListener("click", () => {
        if (a.needs_sign_in) call("sign_in", { again: a.key }, button);
        else if (!a.active) call("switch_account", { key: a.key }, button);
      });
      item.append(button);
      list.append(item);
    });
  }

  // "Expires in 4:59": the time left before the sign-in in progress gives up.
  function tick() {
    clearTimeout(countdown);
    const text = deadline === null ? "" : (() => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      return `This sign-in expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}.`;
    })();
    $("time-left").textContent = text;
    $("device-time-left").textContent = text;
    if (deadline !== null) countdown = setTimeout(tick, 1000);
  }

  async function call(command, args, button) {
    if (button) {
      button.disabled = true;
      button.dataset.busy = "1";
    }
    try {
      render(await tauri.core.invoke(command, args));
    } catch (e) {
      console.error(command, e);
      busy(button, false);
    }
  }

  async function openFlow() {
    let steps = [];
    try {
      steps = await tauri.core.invoke("flow");
    } catch (e) {
      console.error("flow", e);
    }
    const box = $("flow-diagram");
    box.replaceChildren(window.PixieFlow.draw(steps));
    $("flow-status").textContent = steps.length ? "" : "No sign-in has been made yet.";
    $("flow-text").hidden = true;
    $("flow").hidden = false;
    $("app").classList.add("flow-open");
    $("flow-close").focus();
  }

  function closeFlow() {
    $("flow").hidden = true;
    $("app").classList.remove("flow-open");
    focusFirst($(PANEL_OF[lastPhase] || "signed-out"));
  }

  async function copyText(text, what) {
    const area = $("flow-text");
    area.value = text;
    try {
      await navigator.clipboard.writeText(text);
      $("flow-status").textContent = `${what} copied to the clipboard.`;
      area.hidden = true;
    } catch (_e) {
      // No clipboard access here: show the text, selected, to copy by hand.
      area.hidden = false;
      area.focus();
      area.select();
      $("flow-status").textContent = `${what} is below, selected: press Ctrl+C to copy it.`;
    }
  }

  async function exportFlow(format, what) {
    try {
      copyText(await tauri.core.invoke("flow_export", { format }), what);
    } catch (e) {
      $("flow-status").textContent = String(e);
    }
  }

  $("show-flow").addEventListener("click", openFlow);
  $("show-flow-failed").addEventListener("click", openFlow);
  $("flow-close").addEventListener("click", closeFlow);
  $("flow-mermaid").addEventListener("click", () => exportFlow("mermaid", "The Mermaid diagram"));
  $("flow-json").addEventListener("click", () => exportFlow("json", "The event log"));
  $("flow-svg").addEventListener("click", async () => {
    try {
      const path = await tauri.core.invoke("save_flow_svg");
      $("flow-status").textContent = `Saved to ${path}`;
    } catch (e) {
      $("flow-status").textContent = `Could not save: ${e}`;
    }
  });

  $("sign-in").addEventListener("click", () => call("sign_in", undefined, $("sign-in")));
  $("try-again").addEventListener("click", () => call("sign_in", undefined, $("try-again")));
  $("back").addEventListener("click", () => call("cancel_sign_in"));
  for (const id of ["device-start", "device-instead", "device-failed"]) {
    $(id).addEventListener("click", () => call("sign_in_on_device", undefined, $(id)));
  }
  $("reopen").addEventListener("click", () => call("reopen_browser", undefined, $("reopen")));
  $("try-loopback").addEventListener("click", () => call("try_loopback", undefined, $("try-loopback")));
  $("copy-link").addEventListener("click", async () => {
    let link = "";
    try {
      link = await tauri.core.invoke("sign_in_link");
    } catch (e) {
      console.error("sign_in_link", e);
      return;
    }
    const field = $("link-text");
    field.value = link;
    field.hidden = false;
    try {
      await navigator.clipboard.writeText(link);
      $("copy-link").textContent = "Link copied";
    } catch (_e) {
      // No clipboard here: the link is shown, selected, to copy by hand.
      field.focus();
      field.select();
    }
  });
  for (const id of ["cancel", "cancel-starting", "cancel-exchanging", "cancel-device"]) {
    $(id).addEventListener("click", () => call("cancel_sign_in"));
  }
  $("sign-out").addEventListener("click", () =>
    call("sign_out", { alsoInBrowser: $("sign-out-browser").checked }, $("sign-out")));
  $("sign-out-all").addEventListener("click", () =>
    call("sign_out", { all: true, alsoInBrowser: $("sign-out-browser").checked }, $("sign-out-all")));
  function setAdding(on) {
    adding = on;
    if (lastView) draw(lastView);
  }
  $("add-account").addEventListener("click", () => setAdding(true));
  $("add-back").addEventListener("click", () => setAdding(false));
  $("notice-close").addEventListener("click", () => showNotice(false));
  $("paste-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const url = $("paste-url").value.trim();
    if (url) call("submit_redirect", { url });
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      if (!$("flow").hidden) closeFlow();
      else if (adding) setAdding(false);
      else if (["starting", "authorizing", "device", "exchanging", "failed"].includes(lastPhase)) call("cancel_sign_in");
      else showNotice(false);
    }
  });

  // For the real-window tests: draw a view as if it had arrived (an old one must not be).
  window.PixieView = Object.freeze({ render });

  // The one way views arrive: a channel this page opens. The page may not listen to events
  // (see capabilities/main.json), so no plugin's event can reach it.
  const channel = new tauri.core.Channel();
  channel.onmessage = render;
  call("subscribe", { onView: channel });
})();
