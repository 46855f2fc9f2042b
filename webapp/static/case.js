// Draws the case's diagram with the path taken so far (bpmn-js viewer bundle).
(function () {
  var el = document.getElementById('diagram');
  if (!el || !window.BranchViewer) { if (el) { el.style.display = 'none'; } return; }
  var split = function (s) { return s ? s.split(',') : []; };
  fetch(el.dataset.src, { credentials: 'same-origin' })
    .then(function (r) { return r.text(); })
    .then(function (xml) {
      return window.BranchViewer.render(el, xml, { completed: split(el.dataset.completed), active: split(el.dataset.active) });
    })
    .catch(function () { el.textContent = ''; el.style.display = 'none'; });
})();
