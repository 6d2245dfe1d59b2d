/* Vigil pages: action dialogs and keyboard shortcuts (`?` shows them). No inline script. */
(function () {
  "use strict";

  function openDialog(dialog) {
    if (!dialog.open) dialog.showModal();
    var first = dialog.querySelector("[aria-invalid=true], select, textarea, input:not([type=hidden])");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      openDialog(document.getElementById(opener.dataset.openDialog));
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  // A dialog whose form came back with errors opens again, showing them.
  document.querySelectorAll("dialog[data-open-on-load]").forEach(openDialog);

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  var pendingG = false;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]:not(#shortcut-help)")) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "h") { window.location.href = "/"; }
      if (key === "i") { window.location.href = "/incidents/"; }
      return;
    }
    if (key === "?") {
      var help = document.getElementById("shortcut-help");
      if (help) { if (help.open) { help.close(); } else { help.showModal(); } }
      event.preventDefault();
      return;
    }
    if (key === "g") { pendingG = true; return; }
    var target = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
    if (!target) return;
    event.preventDefault();
    if (typing(target)) {
      target.focus();
      if (target.scrollIntoView) target.scrollIntoView({block: "center"});
    } else {
      target.click();
    }
  });
})();
