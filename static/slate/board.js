// Storyboard: reorder cards by dragging them along the timeline. The Earlier and Later
// buttons do the same from the keyboard (and without JavaScript). The new order goes to
// the server with the revision this view was drawn at; a stale one is refused and the
// strip comes back as it is now.
(function () {
  "use strict";
  var dragged = null;

  function slots(list) {
    return Array.from(list.querySelectorAll("li.slot[data-card]"));
  }
  function clearMarks(list) {
    slots(list).forEach(function (slot) { slot.classList.remove("drop-before", "drop-after"); });
  }
  function after(slot, event) {
    var box = slot.getBoundingClientRect();
    return event.clientX > box.left + box.width / 2;
  }

  document.addEventListener("dragstart", function (event) {
    var slot = event.target.closest && event.target.closest("li.slot[draggable=true]");
    if (!slot) return;
    dragged = slot;
    slot.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", slot.dataset.card);
  });
  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("dragging");
      clearMarks(dragged.parentNode);
    }
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    var slot = event.target.closest && event.target.closest("li.slot[data-card]");
    if (!dragged || !slot || slot.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    clearMarks(slot.parentNode);
    if (slot !== dragged) slot.classList.add(after(slot, event) ? "drop-after" : "drop-before");
  });
  document.addEventListener("drop", function (event) {
    var slot = event.target.closest && event.target.closest("li.slot[data-card]");
    if (!dragged || !slot || slot === dragged || slot.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var list = slot.parentNode;
    clearMarks(list);
    list.insertBefore(dragged, after(slot, event) ? slot.nextSibling : slot);
    var strip = document.getElementById("board-strip");
    var order = slots(list).map(function (s) { return s.dataset.card; }).join(",");
    htmx.ajax("POST", strip.dataset.reorderUrl, {
      source: strip,
      target: "#board-strip",
      swap: "outerHTML",
      values: { order: order, revision: strip.dataset.revision }
    });
  });
})();
