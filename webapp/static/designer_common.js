// What the BPMN designer (designer.js) and the DMN designer (designer_dmn.js) share: messages from
// the page's data-msg-* attributes, the result line (text only: every server value goes in with
// textContent), and posting the editor's XML as JSON with the CSRF token.
(function () {
  'use strict';

  function messages(root) {
    return function msg(name, values) {
      var text = root.dataset['msg' + name] || '';
      Object.keys(values || {}).forEach(function (k) { text = text.split('{' + k + '}').join(String(values[k])); });
      return text;
    };
  }

  function resultLine(resultEl, linkId) {
    return function show(kind, text, link) {
      resultEl.hidden = false;
      resultEl.className = 'flash' + (kind ? ' ' + kind : '');
      resultEl.dataset.state = kind || 'info';
      resultEl.textContent = text;
      if (link) {
        var a = document.createElement('a');
        a.href = link.href;
        a.textContent = link.text;
        a.id = linkId;
        resultEl.appendChild(document.createTextNode(' '));
        resultEl.appendChild(a);
      }
    };
  }

  async function postJson(url, body) {
    var tokenMeta = document.querySelector('meta[name="csrf-token"]');
    var response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json',
                 'X-CSRFToken': tokenMeta ? tokenMeta.content : '' },
      body: JSON.stringify(body),
    });
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { status: response.status, data: data || {} };
  }

  window.DesignerCommon = { messages: messages, resultLine: resultLine, postJson: postJson };
})();
