// Drag the rows of the agenda inline to reorder them; the "No." fields are
// renumbered 1..n and the server puts the agenda in that order on save.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".agenda-inline tbody").forEach(function (body) {
    var dragged = null;
    function rows() { return Array.from(body.querySelectorAll("tr.form-row.has_original")); }
    function renumber() {
      rows().forEach(function (row, index) {
        var input = row.querySelector("input.agenda-order");
        if (input) { input.value = index + 1; }
      });
    }
    rows().forEach(function (row) {
      row.draggable = true;
      row.addEventListener("dragstart", function () { dragged = row; row.classList.add("dragging"); });
      row.addEventListener("dragend", function () { row.classList.remove("dragging"); dragged = null; renumber(); });
      row.addEventListener("dragover", function (event) {
        event.preventDefault();
        if (!dragged || dragged === row) { return; }
        var box = row.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        body.insertBefore(dragged, after ? row.nextSibling : row);
      });
    });
  });
});
