// A search box above every <select data-searchable>: typing keeps the options whose text contains it.
// Plain DOM, no library (served from this origin under the CSP).
(function () {
  document.querySelectorAll("select[data-searchable]").forEach(function (select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = document.documentElement.lang === "en" ? "Search by name" : "输入名称搜索";
    box.setAttribute("aria-label", box.placeholder);
    box.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (o) {
        var show = !o.value || o.text.toLowerCase().indexOf(q) !== -1;
        o.hidden = !show;
        if (show && o.value && first === null) first = o;
      });
      if (q && first && select.selectedOptions[0] && select.selectedOptions[0].hidden) first.selected = true;
    });
  });
})();
