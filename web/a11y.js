"use strict";
// rasa-webchat 1.0.1 (unmaintained) renders its launcher and send button without accessible names, its
// header buttons with English alt texts, and quick replies as <div>s a keyboard cannot reach. React
// re-renders these elements often, so a MutationObserver re-applies Dutch labels, roles and tab stops.

(function () {
  const LABELS = [
    [".rw-launcher", (el) => (el.querySelector(".rw-close-launcher") ? "Sluit de chat" : "Open de chat met de ZonWarmte assistent")],
    [".rw-new-message", () => "Typ je vraag"],
    [".rw-send", () => "Verstuur je bericht"],
    [".rw-close-button", () => "Sluit de chat"],
    [".rw-toggle-fullscreen-button", () => "Volledig scherm aan of uit"],
  ];

  function label(root) {
    for (const [selector, text] of LABELS) {
      for (const element of root.querySelectorAll(selector)) {
        const wanted = text(element);
        if (element.getAttribute("aria-label") !== wanted) {
          element.setAttribute("aria-label", wanted);
        }
      }
    }
    for (const reply of root.querySelectorAll("div.rw-reply:not([role])")) {
      reply.setAttribute("role", "button");
      reply.tabIndex = 0;
    }
    const log = root.querySelector(".rw-messages-container:not([role])");
    if (log) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", "Gesprek met de ZonWarmte assistent");
    }
  }

  // Enter or Space on a focused quick reply chooses it, like a real button.
  function chooseWithKeys(event) {
    const reply = event.target.closest ? event.target.closest("div.rw-reply") : null;
    if (reply && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      reply.click();
    }
  }

  window.zonwarmteAccessibility = function (root) {
    label(root);
    new MutationObserver(() => label(root)).observe(root, { childList: true, subtree: true });
    root.addEventListener("keydown", chooseWithKeys);
  };
})();
