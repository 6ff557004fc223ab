// Bundled by scripts/vendor.sh (esbuild) into app/static/vendor/bpmn-js/modeler.min.js, exposed as the global
// `ZxModeler`: bpmn-js's Modeler, its properties panel, bpmn-auto-layout and a panel group that edits the
// platform's `spiffworkflow:properties` on user tasks (formKey, assignTo, orgKind, dueWorkingDays).  Bundled
// together so that the panel and the modeler share one bpmn-js/diagram-js/preact (the CSP allows no CDN).
import Modeler from 'bpmn-js/lib/Modeler';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, useService } from 'bpmn-js-properties-panel';
import { TextFieldEntry, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { h } from '@bpmn-io/properties-panel/preact';
import { layoutProcess } from 'bpmn-auto-layout';
import spiffworkflowModdle from './spiffworkflow.json';

export const SPIFF_KEYS = ['formKey', 'assignTo', 'orgKind', 'dueWorkingDays'];

function propertiesOf(bo) {
  const ext = bo.get('extensionElements');
  return ext && ext.get('values').find((v) => is(v, 'spiffworkflow:Properties'));
}

export function getSpiffProperty(bo, name) {
  const container = propertiesOf(bo);
  const prop = container && container.get('values').find((v) => v.name === name);
  return prop ? (prop.value || '') : '';
}

// Set (or, with an empty value, remove) one spiffworkflow:property, creating the containers on the way.
export function setSpiffProperty(injector, element, name, value) {
  const modeling = injector.get('modeling');
  const factory = injector.get('bpmnFactory');
  const bo = element.businessObject;
  let ext = bo.get('extensionElements');
  let container = propertiesOf(bo);
  let prop = container && container.get('values').find((v) => v.name === name);
  value = (value || '').trim();
  if (!value) {
    if (prop) { modeling.updateModdleProperties(element, container, { values: container.get('values').filter((v) => v !== prop) }); }
    return;
  }
  if (prop) { modeling.updateModdleProperties(element, prop, { value }); return; }
  if (!ext) {
    ext = factory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  if (!container) {
    container = factory.create('spiffworkflow:Properties', { values: [] });
    container.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: ext.get('values').concat([container]) });
  }
  prop = factory.create('spiffworkflow:Property', { name, value });
  prop.$parent = container;
  modeling.updateModdleProperties(element, container, { values: container.get('values').concat([prop]) });
}

function SpiffEntry(props) {
  const { element, id, label, spiffName } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    id, element, label, debounce,
    getValue: () => getSpiffProperty(element.businessObject, spiffName),
    setValue: (value) => setSpiffProperty(injector, element, spiffName, value)
  });
}

function SpiffPropertiesProvider(propertiesPanel, config) {
  const labels = (config && config.labels) || {};
  this.getGroups = (element) => (groups) => {
    if (!is(element, 'bpmn:UserTask')) { return groups; }
    groups.splice(1, 0, {
      id: 'zx-spiffworkflow',
      label: labels.group || 'Platform',
      entries: SPIFF_KEYS.map((name) => ({
        id: 'zx-' + name, element, component: SpiffEntry, isEdited: isTextFieldEntryEdited,
        spiffName: name, label: labels[name] || name
      }))
    });
    return groups;
  };
  propertiesPanel.registerProvider(400, this);     // after getGroups exists: the panel checks for it
}
SpiffPropertiesProvider.$inject = ['propertiesPanel', 'config.zxSpiff'];

export const SpiffPropertiesModule = {
  __init__: ['zxSpiffPropertiesProvider'],
  zxSpiffPropertiesProvider: ['type', SpiffPropertiesProvider]
};

export { Modeler, BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, layoutProcess, spiffworkflowModdle };
