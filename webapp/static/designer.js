// Process designer pages.
//  - Read-only diagrams ([data-viewer-src], version and compare pages): drawn with
//    the viewer bundle (BranchViewer); ids in data-active are marked as changed.
//  - The modeler (#designer, edit and new pages): the modeler bundle (BranchModeler),
//    with Validate and Deploy posting {"xml": ...} as JSON with the CSRF token.
//    A refusal names the element; the element is selected and marked on the canvas.
(function () {
  'use strict';

  var split = function (s) { return s ? s.split(',').filter(Boolean) : []; };

  // --- read-only diagrams --------------------------------------------------------------------
  if (window.BranchViewer) {
    document.querySelectorAll('[data-viewer-src]').forEach(function (el) {
      fetch(el.dataset.viewerSrc, { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text(); })
        .then(function (xml) { return window.BranchViewer.render(el, xml, { completed: [], active: split(el.dataset.active) }); })
        .catch(function () { el.textContent = ''; el.style.display = 'none'; });
    });
  }

  // --- the modeler ---------------------------------------------------------------------------
  var root = document.getElementById('designer');
  if (!root || !window.BranchModeler || !window.DesignerCommon) { return; }

  var NEW_DIAGRAM = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
    '    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"',
    '    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_new_process"',
    '    targetNamespace="http://branch.example/bpmn">',
    '  <bpmn:process id="new_process" name="New process" isExecutable="true">',
    '    <bpmn:startEvent id="StartEvent_1" name="Start" />',
    '  </bpmn:process>',
    '  <bpmndi:BPMNDiagram id="BPMNDiagram_new_process">',
    '    <bpmndi:BPMNPlane id="BPMNPlane_new_process" bpmnElement="new_process">',
    '      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">',
    '        <dc:Bounds x="180" y="160" width="36" height="36" />',
    '      </bpmndi:BPMNShape>',
    '    </bpmndi:BPMNPlane>',
    '  </bpmndi:BPMNDiagram>',
    '</bpmn:definitions>',
  ].join('\n');
  var ERROR_MARKER = 'designer-error';

  var canvasEl = document.getElementById('designer-canvas');
  var panelEl = document.getElementById('designer-properties');
  var resultEl = document.getElementById('designer-result');
  var validateBtn = document.getElementById('designer-validate');
  var deployBtn = document.getElementById('designer-deploy');  // absent unless the user may deploy
  var modeler = null;
  var marked = null;

  var msg = window.DesignerCommon.messages(root);

  var show = window.DesignerCommon.resultLine(resultEl, 'designer-result-link');

  function busy(on) {
    [validateBtn, deployBtn].forEach(function (b) { if (b) { b.disabled = on || !modeler; } });
  }

  function unmark() {
    if (modeler && marked) {
      var canvas = modeler.get('canvas');
      if (modeler.get('elementRegistry').get(marked)) { canvas.removeMarker(marked, ERROR_MARKER); }
    }
    marked = null;
  }

  // "Task_X (Review)" -> "Task_X"; a label that is no element id ("start event") -> null.
  function idFromLabel(label) {
    var m = /^\s*([^\s()]+)(?:\s+\(.*\))?\s*$/.exec(label || '');
    return m ? m[1] : null;
  }

  function highlight(id) {
    if (!modeler || !id) { return; }
    var element = modeler.get('elementRegistry').get(id);
    if (!element) { return; }
    modeler.get('selection').select(element);
    var canvas = modeler.get('canvas');
    canvas.addMarker(id, ERROR_MARKER);
    marked = id;
    if (typeof canvas.scrollToElement === 'function' && element.type !== 'bpmn:Process'
        && element.type !== 'bpmn:Collaboration') {
      try { canvas.scrollToElement(element); } catch (e) { /* an element without a shape */ }
    }
  }

  async function post(url) {
    var xml = await window.BranchModeler.getXml(modeler);
    return window.DesignerCommon.postJson(url, { xml: xml, filename: root.dataset.filename });
  }

  function refused(result) {
    var data = result.data;
    if (result.status === 422 && data.message) {
      show('error', msg('Refused', { message: data.message }));
      highlight(data.element_id || idFromLabel(data.element));
    } else {
      show('error', msg('Failed', { status: result.status, message: data.message || '' }));
    }
  }

  async function run(action) {
    if (!modeler) { return; }
    busy(true);
    unmark();
    show('', msg('Checking'));
    try {
      var result = await post(action === 'deploy' ? root.dataset.deployUrl : root.dataset.validateUrl);
      var data = result.data;
      if (result.status !== 200 || !data.ok) {
        refused(result);
      } else if (action === 'validate') {
        show('success', msg('Valid', { name: data.name, key: data.key }));
      } else {
        var text = data.created ? msg('Deployed', { key: data.key, version: data.version })
          : msg('Unchanged', { key: data.key, version: data.version });
        show('success', text, data.url ? { href: data.url, text: msg('View') } : null);
      }
    } catch (err) {
      show('error', msg('Failed', { status: 0, message: err && err.message ? err.message : String(err) }));
    } finally {
      busy(false);
    }
  }

  async function load() {
    busy(true);
    show('', msg('Loading'));
    try {
      var xml = NEW_DIAGRAM;
      if (root.dataset.xmlSrc) {
        var response = await fetch(root.dataset.xmlSrc, { credentials: 'same-origin' });
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        xml = await response.text();
      }
      modeler = await window.BranchModeler.open(canvasEl, panelEl, xml);
      window.designerModeler = modeler;  // for the browser console and tests
      resultEl.hidden = true;
    } catch (err) {
      show('error', msg('LoadFailed', { error: err && err.message ? err.message : String(err) }));
    } finally {
      busy(false);
    }
  }

  if (validateBtn) { validateBtn.addEventListener('click', function () { run('validate'); }); }
  if (deployBtn) { deployBtn.addEventListener('click', function () { run('deploy'); }); }
  load();
})();
