// The DMN designer's edit page: dmn-js's decision table editor (BranchDmn), Validate (the
// problems, each naming rule and column, marked on their cells; and the what-if replay of past
// decisions) and Deploy, posting {"xml": ...} as JSON with the CSRF token. Text only: every
// value from the server goes in with textContent.
(function () {
  'use strict';

  var root = document.getElementById('dmn-designer');
  if (!root || !window.BranchDmn || !window.DesignerCommon) { return; }

  var editorEl = document.getElementById('dmn-editor');
  var resultEl = document.getElementById('dmn-result');
  var problemsEl = document.getElementById('dmn-problems');
  var replayEl = document.getElementById('dmn-replay');
  var validateBtn = document.getElementById('dmn-validate');
  var deployBtn = document.getElementById('dmn-deploy');  // absent unless the user may deploy
  var editor = null;

  var msg = window.DesignerCommon.messages(root);

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  var show = window.DesignerCommon.resultLine(resultEl, 'dmn-result-link');

  function busy(on) {
    [validateBtn, deployBtn].forEach(function (b) { if (b) { b.disabled = on || !editor; } });
  }

  function problemIds(p) { return [p.element_id, p.rule_id, p.other_rule_id].filter(Boolean); }

  function showProblems(problems) {
    problemsEl.textContent = '';
    problemsEl.hidden = !problems.length;
    var marked = [];
    problems.forEach(function (p) {
      var li = el('li', null, p.severity === 'warning' ? 'warning' : 'error');
      li.dataset.code = p.code;
      if (p.row) { li.dataset.row = p.row; }
      if (p.column) { li.dataset.column = p.column; }
      var b = el('button', (p.severity === 'warning' ? msg('Warning') + ': ' : '') + p.message, 'link');
      b.type = 'button';
      b.addEventListener('click', function () { window.BranchDmn.mark(editor, problemIds(p)); });
      li.appendChild(b);
      problemsEl.appendChild(li);
      if (p.severity !== 'warning') { marked = marked.concat(problemIds(p)); }
    });
    if (editor) { window.BranchDmn.mark(editor, marked); }
  }

  function value(v) { return v === null || v === undefined ? msg('NoRule') : v; }

  function outcomeText(values) {
    return Object.keys(values).map(function (k) { return k + ' = ' + value(values[k]); }).join(', ');
  }

  function showReplay(r) {
    replayEl.hidden = !r;
    if (!r) { return; }
    document.getElementById('dmn-replay-summary').textContent = r.total ? msg('Summary', {
      total: r.total, unchanged: r.unchanged, changed: r.changed, skipped: r.not_replayable }) : msg('None');
    var changes = document.getElementById('dmn-replay-changes');
    changes.textContent = '';
    r.changes.forEach(function (c) {
      var li = el('li');
      li.dataset.output = c.output;
      li.dataset.old = c.old === null ? '' : c.old;
      li.dataset.new = c.new === null ? '' : c.new;
      li.appendChild(el('span', c.count, 'change-count'));
      li.appendChild(document.createTextNode(' ' + value(c.old) + ' → ' + value(c.new) + ' (' + c.output + ')'));
      changes.appendChild(li);
    });
    if (r.total && !r.changes.length) { changes.appendChild(el('li', msg('NoChange'))); }
    var failures = document.getElementById('dmn-replay-failures');
    failures.hidden = !r.failures.length;
    failures.textContent = r.failures.map(function (f) { return f.count + ' × ' + f.reason; }).join('; ');
    var table = document.getElementById('dmn-replay-cases');
    var body = table.querySelector('tbody');
    body.textContent = '';
    table.hidden = !r.affected.length;
    r.affected.forEach(function (a) {
      var tr = el('tr');
      tr.dataset.instance = a.instance_id;
      var idCell = el('td');
      var link = el('a', '#' + a.instance_id);
      link.href = a.url;
      idCell.appendChild(link);
      tr.appendChild(idCell);
      tr.appendChild(el('td', a.title));
      tr.appendChild(el('td', a.at_shown || a.at));
      tr.appendChild(el('td', outcomeText(a.old)));
      tr.appendChild(el('td', outcomeText(a.new)));
      tr.appendChild(el('td', a.old_rules.join(', ') + ' → ' + (a.new_rules.join(', ') || '–')));
      body.appendChild(tr);
    });
    var truncated = document.getElementById('dmn-replay-truncated');
    truncated.hidden = !r.truncated;
    truncated.textContent = r.truncated ? msg('Truncated', { count: r.affected.length }) : '';
  }

  async function post(url) {
    return window.DesignerCommon.postJson(url, { xml: await window.BranchDmn.getXml(editor) });
  }

  async function run(action) {
    if (!editor) { return; }
    busy(true);
    show('', msg('Checking'));
    try {
      var result = await post(action === 'deploy' ? root.dataset.deployUrl : root.dataset.validateUrl);
      var data = result.data;
      showProblems(data.problems || []);
      if (action === 'validate') { showReplay(data.replay || null); }
      if (result.status === 200 && data.ok) {
        if (action === 'validate') {
          show('success', msg('Valid'));
        } else {
          var text = data.message || '';
          if (data.processes && data.processes.length) {
            text += ' ' + msg('NewVersions') + ' ' + data.processes.map(function (p) {
              return p.key + ' v' + p.version; }).join(', ');
          }
          show('success', text, data.url ? { href: data.url, text: msg('View') } : null);
        }
      } else if (result.status === 422 && data.problems) {
        show('error', data.message || msg('Invalid'));
      } else {
        show('error', msg('Failed', { status: result.status, message: data.message || '' }));
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
      var response = await fetch(root.dataset.xmlSrc, { credentials: 'same-origin' });
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      editor = await window.BranchDmn.open(editorEl, await response.text());
      window.dmnEditor = editor;  // for the browser console and tests
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
