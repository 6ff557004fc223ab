"""Forms declared with the diagram: bpmn.io form-js JSON (``bpmn/*.form``), checked, localised and validated here.

- :mod:`app.formjs.schema`   what a form may contain (an allow-list of component types and properties),
  its fields, and the schema in the reader's language (the i18n convention);
- :mod:`app.formjs.validate` the server's check of a submission against the same schema;
- :mod:`app.formjs.models`   the deployed, versioned form files (``form_artifacts``);
- :mod:`app.formjs.operations` submitting a form-js task; :mod:`app.formjs.views` its generic page.

Deployment and the version pinned on each task live in :mod:`app.workflow.forms`.
"""
