/* Passkeys: the two WebAuthn ceremonies of the identity pages (no inline script: strict CSP).
 *
 * Each [data-passkey-ceremony] block has a button. "create" asks the server for options,
 * calls navigator.credentials.create() and posts the result (with the name typed) back;
 * "get" does the same with navigator.credentials.get() to sign in or to prove this session.
 * The server (the webauthn package) verifies everything; this file only carries bytes.
 * Without WebAuthn in the browser the block says so; without JavaScript, its <noscript> does.
 */
(function () {
  "use strict";

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var binary = window.atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken(block) {
    var input = block.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(block, url, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(block)
      },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          // {"error": code, "detail": the localised sentence to show}
          var error = new Error(data.detail || "");
          error.fromServer = Boolean(data.detail);
          throw error;
        }
        return data;
      });
    });
  }

  function creationOptions(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBuffer(options.challenge);
    publicKey.user = Object.assign({}, options.user, { id: toBuffer(options.user.id) });
    publicKey.excludeCredentials = (options.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBuffer(c.id) });
    });
    return { publicKey: publicKey };
  }

  function requestOptions(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBuffer(options.challenge);
    publicKey.allowCredentials = (options.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBuffer(c.id) });
    });
    return { publicKey: publicKey };
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) { out.authenticatorAttachment = credential.authenticatorAttachment; }
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = toText(response.userHandle);
    }
    return out;
  }

  function setUp(block) {
    var kind = block.getAttribute("data-passkey-ceremony");
    var button = block.querySelector("[data-passkey-action]");
    var errorBox = block.querySelector("[data-passkey-error]");
    var status = block.querySelector("[data-passkey-status]");
    var supported = Boolean(window.PublicKeyCredential && navigator.credentials &&
      window.fetch && (kind === "create" ? navigator.credentials.create : navigator.credentials.get));
    if (!supported) {
      block.querySelector("[data-passkey-unsupported]").hidden = false;
      return;
    }
    button.hidden = false;

    function fail(message) {
      status.textContent = "";
      errorBox.querySelector("[data-passkey-message]").textContent = message;
      errorBox.hidden = false;
      errorBox.focus();
      button.disabled = false;
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      errorBox.hidden = true;
      status.textContent = block.getAttribute("data-msg-working");
      var next = block.getAttribute("data-next") || "";
      var nameInput = block.querySelector("[data-passkey-name]");
      var mode = block.getAttribute("data-mode") || "";
      post(block, block.getAttribute("data-options-url"), { next: next, mode: mode })
        .then(function (options) {
          if (kind === "create") {
            return navigator.credentials.create(creationOptions(options));
          }
          return navigator.credentials.get(requestOptions(options));
        })
        .then(function (credential) {
          if (!credential) { throw new DOMException("", "NotAllowedError"); }
          var body = { credential: credentialJSON(credential), next: next };
          if (nameInput) { body.name = nameInput.value; }
          return post(block, block.getAttribute("data-verify-url"), body);
        })
        .then(function (data) {
          window.location.assign(data.redirect || window.location.href);
        })
        .catch(function (error) {
          if (error && error.fromServer) {
            fail(error.message);
          } else if (error && error.name === "InvalidStateError" && block.hasAttribute("data-msg-exists")) {
            fail(block.getAttribute("data-msg-exists"));
          } else if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
            fail(block.getAttribute("data-msg-cancelled"));
          } else {
            fail(block.getAttribute("data-msg-failed"));
          }
        });
    });
  }

  function start() {
    var blocks = document.querySelectorAll("[data-passkey-ceremony]");
    for (var i = 0; i < blocks.length; i++) {
      if (!blocks[i].hasAttribute("data-passkey-ready")) {
        blocks[i].setAttribute("data-passkey-ready", "");
        setUp(blocks[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
