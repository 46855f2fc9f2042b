// Read-only process diagram for a case page: shows where the case has been
// ("path-done") and where it is waiting ("path-active").
//
// Bundled by frontend/build.mjs into webapp/static/build/viewer.js as the
// global `BranchViewer`; its stylesheet is /static/build/viewer.css.
//
//   const viewer = await BranchViewer.render(el, xml, {completed: [...], active: [...]});
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

export const MARKER_DONE = 'path-done';
export const MARKER_ACTIVE = 'path-active';

function addMarkers(viewer, ids, marker) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const id of ids || []) {
    // A case may name elements that a later diagram version no longer has.
    if (registry.get(id)) {
      canvas.addMarker(id, marker);
    }
  }
}

/**
 * Draw `bpmnXml` into `containerEl` and mark the case's path.
 *
 * @param {HTMLElement} containerEl  an element with a height
 * @param {string} bpmnXml
 * @param {{completed?: string[], active?: string[]}} [path]  BPMN element ids
 * @returns {Promise<NavigatedViewer>}  call .destroy() before drawing again
 */
export async function render(containerEl, bpmnXml, path = {}) {
  const viewer = new NavigatedViewer({ container: containerEl });
  try {
    await viewer.importXML(bpmnXml);
  } catch (err) {
    viewer.destroy();
    throw err;
  }
  viewer.get('canvas').zoom('fit-viewport', 'auto');
  addMarkers(viewer, path.completed, MARKER_DONE);
  addMarkers(viewer, path.active, MARKER_ACTIVE);
  return viewer;
}
