// Process designer: bpmn-js Modeler with the properties panel and the Camunda
// Platform extensions (camunda:formData, camunda:candidateGroups,
// camunda:decisionRef, camunda:properties) that our CamundaParser reads.
//
// Bundled by frontend/build.mjs into webapp/static/build/modeler.js as the
// global `BranchModeler`; its stylesheet is /static/build/modeler.css.
//
//   const modeler = await BranchModeler.open(canvasEl, panelEl, xml);
//   const xml = await BranchModeler.getXml(modeler);
import Modeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdleDescriptor from 'camunda-bpmn-moddle/resources/camunda.json';

/**
 * Open `bpmnXml` for editing (a new empty diagram when it is empty).
 *
 * @param {HTMLElement} containerEl  the canvas; needs a height
 * @param {HTMLElement} propertiesEl  where the properties panel goes
 * @param {string} [bpmnXml]
 * @returns {Promise<Modeler>}
 */
export async function open(containerEl, propertiesEl, bpmnXml) {
  const modeler = new Modeler({
    container: containerEl,
    propertiesPanel: { parent: propertiesEl },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
    ],
    moddleExtensions: { camunda: camundaModdleDescriptor },
  });
  try {
    if (bpmnXml && bpmnXml.trim()) {
      await modeler.importXML(bpmnXml);
    } else {
      await modeler.createDiagram();
    }
  } catch (err) {
    modeler.destroy();
    throw err;
  }
  modeler.get('canvas').zoom('fit-viewport', 'auto');
  return modeler;
}

/**
 * The diagram as BPMN 2.0 XML, ready to POST for deployment.
 *
 * @param {Modeler} modeler
 * @returns {Promise<string>}
 */
export async function getXml(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}
