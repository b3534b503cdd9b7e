// Slate's few lines of glue. Everything else is htmx attributes in the templates.
(function () {
  "use strict";

  // Mark live regions whose socket is up (tests and the status dot read it).
  document.addEventListener("htmx:wsOpen", function (event) {
    event.target.setAttribute("data-live", "open");
  });
  document.addEventListener("htmx:wsClose", function (event) {
    event.target.setAttribute("data-live", "closed");
  });

  // A request that failed must not fail silently.
  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    toast(status === 403 ? "You don't have permission to do that in this workspace."
      : status === 404 ? "That no longer exists (or isn't yours to see)."
      : "Something went wrong on the server (" + status + "). Nothing was changed; try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Can't reach Slate. Check that it is still running, then try again.");
  });
})();

// Websocket pushes are page-agnostic (studio/live.py): each element replaces the
// element with its id. Keep the ones this page shows; a card this page doesn't show
// yet joins the list it names (data-list), newest first; drop the rest, which htmx
// would otherwise report as swaps without a target.
htmx.defineExtension("slate-live", {
  transformResponse: function (text, xhr) {
    if (xhr) return text; // an ordinary htmx request: its response is for its target
    var template = document.createElement("template");
    template.innerHTML = text;
    Array.from(template.content.children).forEach(function (element) {
      if (element.id && document.getElementById(element.id)) return;
      var list = element.dataset.list;
      if (element.id && list && document.getElementById(list)) {
        var joining = document.createElement("div");
        joining.setAttribute("hx-swap-oob", "afterbegin:#" + list);
        element.replaceWith(joining);
        joining.appendChild(element);
      } else {
        element.remove();
      }
    });
    return template.innerHTML;
  }
});

// A card a response adds to a list (the take just queued) may be there already: the
// websocket push can come first. Keep the one on the page rather than add a second.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var card = event.detail.fragment && event.detail.fragment.firstElementChild;
  if (card && card.id && card.id !== event.detail.target.id && document.getElementById(card.id)) {
    event.detail.shouldSwap = false;
  }
});

// On a phone the composer folds once there are takes, so they are in reach; with none
// yet (a newcomer) it stays open, as it does on wide screens.
// Panels marked data-fold-narrow (the library's folders, filters and bulk bar) do the same,
// as the page loads and as htmx swaps them in, so the first take is near the top.
(function () {
  var narrow = window.matchMedia("(max-width: 700px)");
  function fold(root) {
    root.querySelectorAll("details[data-fold-narrow]").forEach(function (panel) {
      panel.open = !narrow.matches;
    });
  }
  function fit() {
    var pane = document.getElementById("composer-pane");
    if (pane) pane.open = !narrow.matches || !document.querySelector("#take-list .take-card");
    fold(document);
  }
  document.addEventListener("DOMContentLoaded", fit);
  document.addEventListener("htmx:load", function (event) {
    if (narrow.matches && event.target.querySelectorAll) fold(event.target);
  });
  narrow.addEventListener("change", fit);
})();

// Lint suggestions apply with one click: the field gets the suggested text and
// the preview (and lint) follow, as if it had been typed.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.apply[data-field]");
  if (!button) return;
  var field = document.getElementById("id_" + button.dataset.field);
  if (!field) return;
  field.value = button.dataset.value;
  field.dispatchEvent(new Event("input", { bubbles: true }));
  field.focus();
});

// Enter in the preset name saves the preset; it must not submit (generate) the shot.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Enter" || event.target.name !== "preset_name") return;
  event.preventDefault();
  var save = event.target.closest(".save-preset-row").querySelector("button");
  if (save) save.click();
});

// Reference images: drop a file on the drop zone (the picker's change does the upload),
// and click the preview to choose the point the crop keeps in view.
document.addEventListener("dragover", function (event) {
  var zone = event.target.closest("[data-dropzone]");
  if (!zone) return;
  event.preventDefault();
  zone.classList.add("dragging");
});
document.addEventListener("dragleave", function (event) {
  var zone = event.target.closest("[data-dropzone]");
  if (zone) zone.classList.remove("dragging");
});
document.addEventListener("drop", function (event) {
  var zone = event.target.closest("[data-dropzone]");
  if (!zone) return;
  event.preventDefault();
  zone.classList.remove("dragging");
  var input = zone.querySelector("input[type=file]");
  if (!input || !event.dataTransfer.files.length) return;
  input.files = event.dataTransfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});
document.addEventListener("click", function (event) {
  var picker = event.target.closest("[data-focus-picker]");
  if (!picker) return;
  var box = picker.querySelector("img").getBoundingClientRect();
  var panel = picker.closest("#reference-panel");
  panel.querySelector("[data-focus-x]").value = ((event.clientX - box.left) / box.width).toFixed(3);
  panel.querySelector("[data-focus-y]").value = ((event.clientY - box.top) / box.height).toFixed(3);
  panel.dispatchEvent(new Event("change", { bubbles: true }));
});

// Hover a finished take's card to scrub through it: the spritesheet holds ten
// frames side by side, and the pointer's position picks one. The frames show in
// a box of the video's own shape, centred like the poster.
document.addEventListener("pointermove", function (event) {
  var thumb = event.target.closest(".thumb[data-sprites]");
  if (!thumb) return;
  var scrub = thumb.querySelector(".scrub");
  if (!scrub) {
    scrub = document.createElement("span");
    scrub.className = "scrub";
    scrub.style.backgroundImage = "url(" + JSON.stringify(thumb.dataset.sprites) + ")";
    scrub.style.aspectRatio = thumb.dataset.ratio;
    thumb.appendChild(scrub);
  }
  var box = thumb.getBoundingClientRect();
  var frame = Math.min(9, Math.max(0, Math.floor((event.clientX - box.left) / box.width * 10)));
  scrub.style.backgroundPosition = (frame * 100 / 9) + "% 0";
  thumb.dataset.frame = frame;
  thumb.classList.add("scrubbing");
});
document.addEventListener("pointerout", function (event) {
  var thumb = event.target.closest(".thumb.scrubbing");
  if (thumb && !thumb.contains(event.relatedTarget)) thumb.classList.remove("scrubbing");
});

// Elapsed clocks of takes without a percentage tick here between server pushes.
function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? h + ":" + pad(m) + ":" + pad(r) : m + ":" + pad(r);
}
setInterval(function () {
  document.querySelectorAll("time.elapsed[data-since]").forEach(function (el) {
    const since = Date.parse(el.dataset.since);
    if (!Number.isNaN(since)) el.textContent = clockText((Date.now() - since) / 1000);
  });
}, 1000);

// The take tree (studio/take_tree.html) is pushed whole to every page of the tree: mark
// the path from the root down to this page's take again once it is swapped in.
(function () {
  "use strict";
  function markPath(tree) {
    var page = document.querySelector("[data-take-page]");
    if (!page || !tree.classList.contains("take-tree")) return;
    tree.querySelectorAll(".on-path").forEach(function (item) { item.classList.remove("on-path"); });
    var node = document.getElementById("tree-node-" + page.dataset.takePage);
    var item = node && node.closest(".tree-item");
    while (item && tree.contains(item)) {
      item.classList.add("on-path");
      item = item.parentElement && item.parentElement.closest(".tree-item");
    }
  }
  document.addEventListener("htmx:oobAfterSwap", function (event) { markPath(event.target); });
  document.addEventListener("htmx:afterSwap", function (event) {
    var tree = event.target.querySelector && event.target.querySelector(".take-tree");
    if (tree) markPath(tree);
  });
})();

// A redrawn tree has lost its ratings: the review panel (library) reloads and fills them in.
document.addEventListener("htmx:oobAfterSwap", function (event) {
  if (event.target.classList && event.target.classList.contains("take-tree")) {
    htmx.trigger(document.body, "slate:tree");
  }
});

// Compare (studio/compare.html): two players that play, pause and seek together.
// Keyboard: space plays or pauses both, ←/→ step one frame, J/K/L back, pause, forward.
(function () {
  "use strict";
  function setUp() {
    var box = document.querySelector("[data-compare]");
    if (!box) return;
    var players = Array.from(box.querySelectorAll("video"));
    if (players.length !== 2) return;
    var frame = 1 / (parseFloat(box.dataset.fps) || 24);
    var leading = false;
    function others(player) { return players.filter(function (p) { return p !== player; }); }
    players.forEach(function (player) {
      player.addEventListener("play", function () {
        if (leading) return;
        leading = true;
        others(player).forEach(function (p) { p.currentTime = player.currentTime; p.play(); });
        leading = false;
      });
      player.addEventListener("pause", function () {
        if (leading) return;
        leading = true;
        others(player).forEach(function (p) { p.pause(); p.currentTime = player.currentTime; });
        leading = false;
      });
      player.addEventListener("seeked", function () {
        others(player).forEach(function (p) {
          if (Math.abs(p.currentTime - player.currentTime) > frame / 2) p.currentTime = player.currentTime;
        });
      });
    });
    function step(seconds) {
      players.forEach(function (p) { p.pause(); });
      var at = Math.max(0, players[0].currentTime + seconds);
      players.forEach(function (p) { p.currentTime = at; });
    }
    document.addEventListener("keydown", function (event) {
      if (event.target.closest && event.target.closest("input, textarea, select, button")) return;
      var first = players[0];
      switch (event.key) {
        case " ": case "k": case "K":
          event.preventDefault();
          if (event.key !== " " || first.paused) { if (event.key === " ") first.play(); else first.pause(); }
          else first.pause();
          break;
        case "ArrowLeft": event.preventDefault(); step(-frame); break;
        case "ArrowRight": event.preventDefault(); step(frame); break;
        case "j": case "J": step(-1); break;
        case "l": case "L": players.forEach(function (p) { p.playbackRate = 1; }); first.play(); break;
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

// A take's panel was pushed (its state changed): parts of the page that depend on the state
// but aren't pushed (the operations on a finished take) fetch themselves again.
document.addEventListener("htmx:oobAfterSwap", function (event) {
  if (event.target.id && event.target.id.indexOf("take-live-") === 0) {
    htmx.trigger(document.body, "slate:take-changed");
  }
});

// The library: drag a take's card onto a folder in the tree to file it there (the bulk
// "Move to folder" does the same without a mouse).
document.addEventListener("dragstart", function (event) {
  var item = event.target.closest && event.target.closest(".gallery-item[data-take]");
  if (!item) return;
  event.dataTransfer.setData("text/x-slate-take", item.dataset.take);
  event.dataTransfer.effectAllowed = "move";
});
document.addEventListener("dragover", function (event) {
  var folder = event.target.closest && event.target.closest("[data-folder-drop]");
  if (!folder || !Array.from(event.dataTransfer.types).includes("text/x-slate-take")) return;
  event.preventDefault();
  folder.classList.add("dragging");
});
document.addEventListener("dragleave", function (event) {
  var folder = event.target.closest && event.target.closest("[data-folder-drop]");
  if (folder) folder.classList.remove("dragging");
});
document.addEventListener("drop", function (event) {
  var folder = event.target.closest && event.target.closest("[data-folder-drop]");
  if (!folder) return;
  var take = event.dataTransfer.getData("text/x-slate-take");
  if (!take) return;
  event.preventDefault();
  folder.classList.remove("dragging");
  htmx.ajax("POST", folder.dataset.folderDrop, {
    values: { action: "move", take: take, folder: folder.dataset.folder, back: location.search.slice(1) },
    target: "#gallery-results", select: "#gallery-results", swap: "outerHTML",
  });
});

// A control that redraws the part of the page it sits in (a card's Earlier and Later on a
// board) keeps the keyboard's place: its new copy, found by the same data-keep-focus key,
// takes the focus back; if that one is now disabled (the card reached an end), its
// neighbour with the same prefix does.
(function () {
  var kept = null;
  document.addEventListener("htmx:beforeRequest", function () {
    var active = document.activeElement;
    kept = active && active.dataset ? active.dataset.keepFocus || null : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!kept) return;
    var key = kept;
    kept = null;
    var same = document.querySelector('[data-keep-focus="' + key + '"]:not([disabled])');
    var prefix = key.slice(0, key.lastIndexOf("-") + 1);
    var next = same || document.querySelector('[data-keep-focus^="' + prefix + '"]:not([disabled])');
    if (next) next.focus();
  });
})();

// A take just queued: where its card is out of sight (on a phone the composer fills the
// screen), bring it into view, so the new card and its progress are what one sees.
document.addEventListener("slate:queued", function (event) {
  var card = document.getElementById(event.detail.card);
  if (!card) return;
  var box = card.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) card.scrollIntoView({block: "center"});
});

// Browser notifications (teams/bell.html): when the tab is hidden and a push brings the bell
// news, the browser shows it too — if the person wants them (data-browser on the bell, their
// preference) and allowed them. Permission is asked when they start a render, the first time
// (a generate, a board render: the jobs worth being told about).
(function () {
  if (!("Notification" in window)) return;
  var shown = {};
  function wanted() {
    var bell = document.getElementById("bell");
    return bell && bell.dataset.browser === "on";
  }
  var ASK = "slate:ask-notifications";
  function ask() {
    if (wanted() && Notification.permission === "default") Notification.requestPermission();
  }
  // A form htmx sends keeps the page: ask now. A plain form leaves it (a prompt would go
  // with it): ask on the page it leads to, where the job is shown running.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "composer" && !form.hasAttribute("data-long-job")) return;
    if (form.hasAttribute("hx-post")) ask();
    else sessionStorage.setItem(ASK, "1");
  }, true);
  function askIfLeftToAsk() {
    if (!sessionStorage.getItem(ASK)) return;
    sessionStorage.removeItem(ASK);
    ask();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", askIfLeftToAsk);
  else askIfLeftToAsk();
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var bell = event.target;
    if (!bell || bell.id !== "bell" || !bell.dataset.news || !wanted()) return;
    if (document.visibilityState !== "hidden" || Notification.permission !== "granted") return;
    if (shown[bell.dataset.news]) return;
    shown[bell.dataset.news] = true;
    var href = bell.dataset.newsHref;
    var note = new Notification(bell.dataset.newsTitle || "Slate", {
      body: bell.dataset.newsText, tag: "slate-" + bell.dataset.news
    });
    note.onclick = function () {
      window.focus();
      if (href) window.location.href = href;
      note.close();
    };
  });
})();
