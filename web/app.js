"use strict";
// Starts the rasa-webchat widget (UMD bundle, window.WebChat) against Rasa's socket.io channel.

(function () {
  const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

  // The Rasa server: ?socket=<url> (this host or loopback only, so a crafted link cannot point the
  // widget at someone else's server), then the element's data-socket-url, else this host on port 5005.
  function socketUrl(root) {
    const requested = new URLSearchParams(window.location.search).get("socket");
    if (requested) {
      try {
        const url = new URL(requested);
        const sameOrLoopback = url.hostname === window.location.hostname || LOOPBACK.includes(url.hostname);
        if ((url.protocol === "http:" || url.protocol === "https:") && sameOrLoopback) {
          return url.origin;
        }
      } catch (error) {
        // not a URL: fall through to the configured server
      }
      console.warn("ZonWarmte chat: ?socket= ignored, it must be an http(s) URL on this host or loopback.");
    }
    if (root.dataset.socketUrl) {
      return root.dataset.socketUrl;
    }
    return window.location.protocol + "//" + window.location.hostname + ":5005";
  }

  // Typing indicator: the widget shows "..." for this many milliseconds before each bot message.
  function typingDelay(message) {
    return Math.min(1500, Math.max(400, message.length * 20));
  }

  function messageTime(timestamp) {
    return new Date(timestamp).toLocaleTimeString("nl-NL", { hour: "2-digit", minute: "2-digit" });
  }

  // With a JWT from the website (production: credentials.production.yml sets jwt_key), the socket
  // presents it as ?token= in the handshake: rasa-webchat 1.0.1 passes no socket.io `auth` option.
  function withToken(url, token) {
    return token ? url.replace(/\/+$/, "") + "/?token=" + encodeURIComponent(token) : url;
  }

  // data-token-url: the website's own endpoint that issues a short-lived token for this visitor
  // (same origin, cookie-bound; see docs/SECURITY-EDGE.md). Without it the widget connects unsigned.
  function fetchToken(root) {
    if (!root.dataset.tokenUrl) {
      return Promise.resolve(null);
    }
    return fetch(root.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(new Error("HTTP " + response.status));
      })
      .then(function (body) {
        return typeof body.token === "string" ? body.token : null;
      })
      .catch(function (error) {
        console.warn("ZonWarmte chat: no token from " + root.dataset.tokenUrl + " (" + error.message + ").");
        return null;
      });
  }

  function start(root, token) {
    window.WebChat.default(
      {
        socketUrl: withToken(socketUrl(root), token),
        socketPath: "/socket.io/",
        customData: { language: "nl" },
        initPayload: "/greet",
        params: { storage: "session" },
        title: "ZonWarmte assistent",
        subtitle: "Zonnepanelen, thuisbatterij en warmtepomp",
        inputTextFieldHint: "Typ je vraag...",
        connectingText: "Verbinden...",
        showMessageDate: messageTime,
        embedded: false,
        showFullScreenButton: true,
        displayUnreadCount: true,
        customMessageDelay: typingDelay,
        mainColor: "#0b5d3b",
        userBackgroundColor: "#0b5d3b",
        userTextColor: "#ffffff",
      },
      root
    );
    window.zonwarmteAccessibility(root);
  }

  const root = document.getElementById("webchat");
  fetchToken(root).then(function (token) {
    start(root, token);
  });
})();
