// The library gallery from the keyboard, and its detail drawer (library/gallery.html).
// Takes are one roving tab stop: arrows move between them (by row in the grid), Space plays
// one in the drawer, Enter opens the drawer on its details, S stars, X selects; Escape closes
// the drawer (the <dialog>'s own) and focus goes back to the take it was opened from.
(function () {
  "use strict";
  var opener = null;   // the take the drawer was opened from
  var playing = false; // opened with Space: start the video once it is in

  function items() {
    return Array.from(document.querySelectorAll("#gallery-results [data-nav-item]"));
  }
  function drawer() {
    return document.getElementById("take-drawer");
  }

  // One take is the tab stop: the one last focused, else the first.
  function rove(current) {
    var all = items();
    if (!all.length) return;
    if (!current || all.indexOf(current) < 0) {
      current = all.find(function (item) { return item.tabIndex === 0; }) || all[0];
    }
    all.forEach(function (item) { item.tabIndex = item === current ? 0 : -1; });
  }
  function moveTo(item) {
    if (!item) return;
    rove(item);
    item.focus();
    item.scrollIntoView({ block: "nearest" });
  }

  // The take above or below in a grid: the nearest by centre in the next row that has one.
  function vertical(all, from, step) {
    var box = from.getBoundingClientRect();
    var centre = box.left + box.width / 2;
    var rows = all.filter(function (item) {
      var top = item.getBoundingClientRect().top;
      return step > 0 ? top > box.top + 1 : top < box.top - 1;
    });
    if (!rows.length) return null;
    var edge = step > 0
      ? Math.min.apply(null, rows.map(function (i) { return i.getBoundingClientRect().top; }))
      : Math.max.apply(null, rows.map(function (i) { return i.getBoundingClientRect().top; }));
    var row = rows.filter(function (i) { return Math.abs(i.getBoundingClientRect().top - edge) < 1; });
    return row.reduce(function (best, item) {
      var b = item.getBoundingClientRect();
      var d = Math.abs(b.left + b.width / 2 - centre);
      return best === null || d < best.d ? { item: item, d: d } : best;
    }, null).item;
  }

  function neighbour(item, key) {
    var all = items();
    var at = all.indexOf(item);
    var list = !!item.closest("[data-nav=list]");
    switch (key) {
      case "ArrowLeft": return list ? null : all[at - 1];
      case "ArrowRight": return list ? null : all[at + 1];
      case "ArrowUp": return list ? all[at - 1] : vertical(all, item, -1);
      case "ArrowDown": return list ? all[at + 1] : vertical(all, item, 1);
      case "Home": return all[0];
      case "End": return all[all.length - 1];
    }
    return null;
  }

  function openDrawer(item, play) {
    var control = item.querySelector("[data-drawer]");
    if (!control) return;
    opener = item;
    playing = play;
    control.click(); // htmx loads the partial into the drawer; see afterSwap below
  }

  function typing(target) {
    return target.isContentEditable || !!(target.closest && target.closest("input, textarea, select, video, audio"));
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (!target.closest || typing(target)) return;
    var dialog = drawer();
    if (dialog && dialog.open) return; // the drawer has the keyboard until it closes
    var item = target.closest("#gallery-results [data-nav-item]");
    if (!item) return;
    var onItem = target === item; // on a link or button inside, Space and Enter are theirs
    var key = event.key;
    if (key.indexOf("Arrow") === 0 || key === "Home" || key === "End") {
      var next = neighbour(item, key);
      event.preventDefault();
      moveTo(next);
    } else if ((key === " " || key === "Enter") && onItem) {
      event.preventDefault();
      openDrawer(item, key === " ");
    } else if (key === "s" || key === "S") {
      var star = item.querySelector("button.star");
      if (star) { event.preventDefault(); star.click(); }
    } else if (key === "x" || key === "X") {
      var box = item.querySelector("input[name=take]");
      if (box) { event.preventDefault(); box.click(); }
    }
  });

  // A take focused by pointer or Tab becomes the tab stop.
  document.addEventListener("focusin", function (event) {
    var item = event.target.closest && event.target.closest("#gallery-results [data-nav-item]");
    if (item) rove(item);
  });
  // Clicking "Details" by pointer: focus returns to its take too.
  document.addEventListener("click", function (event) {
    var control = event.target.closest && event.target.closest("[data-drawer]");
    if (!control || !event.isTrusted) return;
    opener = control.closest("[data-nav-item]");
    playing = false;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "take-drawer-body") {
      var dialog = drawer();
      if (!dialog.open) dialog.showModal();
      var video = dialog.querySelector("video");
      if (playing && video) {
        video.focus();
        // A browser may refuse to play with sound: the controls are there to press.
        var started = video.play();
        if (started) started.catch(function () {});
      } else {
        var close = dialog.querySelector(".drawer-close");
        if (close) close.focus();
      }
      playing = false;
    } else {
      rove(null); // results or a further page came in
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    rove(null);
    var dialog = drawer();
    if (!dialog) return;
    // Closed by Escape, the Close button or a click on the backdrop: stop the video, give
    // the focus back to the take it was opened from.
    dialog.addEventListener("close", function () {
      document.getElementById("take-drawer-body").replaceChildren();
      if (opener && document.contains(opener)) moveTo(opener);
      opener = null;
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close(); // the backdrop
    });
  });
})();
