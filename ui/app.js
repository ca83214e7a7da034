// Pixie's window: renders the View the Rust core sends. It never talks to the network and
// never sees a token; every provider string is inserted as text, never as HTML.
"use strict";

(() => {
  const tauri = window.__TAURI__;
  const $ = (id) => document.getElementById(id);
  const PANELS = ["signed-out", "authorizing", "exchanging", "signed-in", "failed"];
  const PANEL_OF = {
    signed_out: "signed-out",
    authorizing: "authorizing",
    exchanging: "exchanging",
    signed_in: "signed-in",
    failed: "failed",
  };
  const STATUS = {
    signed_out: "Signed out",
    authorizing: "Waiting for your browser…",
    exchanging: "Signing in…",
    signed_in: "Signed in",
    failed: "Sign-in failed",
  };
  const PASTE_AFTER_MS = 15000;
  let pasteTimer = null;
  let lastPhase = null;
  let shownNotice = 0;

  function initials(name) {
    const words = String(name || "").trim().split(/\s+/).filter(Boolean);
    const letters = words.slice(0, 2).map((w) => Array.from(w)[0].toUpperCase());
    return letters.join("") || "?";
  }

  function focusFirst(panel) {
    const target = panel.querySelector("button.primary:not([hidden]), button:not([hidden])");
    if (target) target.focus({ preventScroll: true });
  }

  function showNotice(on) {
    $("notice").hidden = !on;
    $("app").classList.toggle("has-notice", on);
  }

  function render(view) {
    const phase = view.phase;
    const status = $("status") || document.querySelector("[data-testid=status]");
    status.textContent = STATUS[phase] || phase;
    status.dataset.phase = phase;
    $("provider-name").textContent = view.provider_name || "";

    for (const id of PANELS) $(id).hidden = id !== PANEL_OF[phase];

    if (phase === "signed_in" && view.profile) {
      const p = view.profile;
      $("profile-name").textContent = p.name;
      $("profile-email").textContent = p.email || "";
      $("profile-email").hidden = !p.email;
      $("profile-provider").textContent = view.provider_name || p.issuer;
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

    clearTimeout(pasteTimer);
    if (phase === "authorizing") {
      if (lastPhase !== "authorizing") {
        $("paste").hidden = true;
        $("paste").open = false;
        $("paste-url").value = "";
      }
      pasteTimer = setTimeout(() => { $("paste").hidden = false; }, PASTE_AFTER_MS);
    }

    const notice = view.notice;
    if (notice && notice.id !== shownNotice) {
      shownNotice = notice.id;
      $("notice-text").textContent = notice.text;
      showNotice(true);
    } else if (!notice) {
      showNotice(false);
    }

    if (phase !== lastPhase) {
      lastPhase = phase;
      focusFirst($(PANEL_OF[phase]));
    }
    $("app").setAttribute("aria-busy", String(phase === "exchanging"));
  }

  async function call(command, args) {
    try {
      const view = await tauri.core.invoke(command, args);
      if (view) render(view);
    } catch (e) {
      console.error(command, e);
    }
  }

  $("sign-in").addEventListener("click", () => call("sign_in"));
  $("try-again").addEventListener("click", () => call("sign_in"));
  $("back").addEventListener("click", () => call("cancel_sign_in"));
  $("cancel").addEventListener("click", () => call("cancel_sign_in"));
  $("sign-out").addEventListener("click", () =>
    call("sign_out", { alsoInBrowser: $("sign-out-browser").checked }));
  $("notice-close").addEventListener("click", () => showNotice(false));
  $("paste-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const url = $("paste-url").value.trim();
    if (url) call("submit_redirect", { url });
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      if (lastPhase === "authorizing" || lastPhase === "failed") call("cancel_sign_in");
      else showNotice(false);
    }
  });

  tauri.event.listen("pixie://state", (event) => render(event.payload)).then(() => call("session"));
})();
