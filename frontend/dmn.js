// DMN designer: dmn-js's decision table editor alone (no DRD, no literal expressions), the
// editor a designer uses to change a table's rows and cells.
//
// Bundled by frontend/build.mjs into webapp/static/build/dmn.js as the global `BranchDmn`;
// its stylesheet is /static/build/dmn.css.
//
//   const editor = await BranchDmn.open(containerEl, dmnXml);
//   const xml = await BranchDmn.getXml(editor);
//   BranchDmn.mark(editor, ['Entry_1']);   // cells (entry ids) to show as wrong
import EditingManager from 'dmn-js-shared/lib/base/EditingManager';
import DecisionTableEditor from 'dmn-js-decision-table/lib/Editor';
import { is } from 'dmn-js-shared/lib/util/ModelUtil';

const MARK = 'dmn-problem';

class TableEditor extends EditingManager {
  _getViewProviders() {
    return [{
      id: 'decisionTable',
      constructor: DecisionTableEditor,
      opens(element) {
        return is(element, 'dmn:Decision') && is(element.decisionLogic, 'dmn:DecisionTable');
      },
    }];
  }
}

/**
 * Open `dmnXml` in the decision table editor.
 *
 * @param {HTMLElement} containerEl
 * @param {string} dmnXml
 * @returns {Promise<TableEditor>}
 */
export async function open(containerEl, dmnXml) {
  const editor = new TableEditor({ container: containerEl, common: { keyboard: { bindTo: window } } });
  try {
    await editor.importXML(dmnXml);
  } catch (err) {
    editor.destroy();
    throw err;
  }
  return editor;
}

/**
 * The edited document as DMN XML.
 *
 * @param {TableEditor} editor
 * @returns {Promise<string>}
 */
export async function getXml(editor) {
  const { xml } = await editor.saveXML({ format: true });
  return xml;
}

/**
 * Mark the cells (input/output entries), rules (their row) or columns named by `ids` as wrong;
 * an empty list clears every mark.
 *
 * @param {TableEditor} editor
 * @param {string[]} ids
 */
export function mark(editor, ids) {
  const root = editor._container;
  root.querySelectorAll('.' + MARK).forEach((el) => el.classList.remove(MARK));
  (ids || []).forEach((id) => {
    if (!id) { return; }
    const safe = window.CSS && CSS.escape ? CSS.escape(id) : id;
    root.querySelectorAll(`[data-element-id="${safe}"], [data-row-id="${safe}"], [data-col-id="${safe}"]`)
      .forEach((el) => el.classList.add(MARK));
  });
}
