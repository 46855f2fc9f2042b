"""SpiffWorkflow behind one façade (``instance.Engine`` / ``Instance``), the typed BPMN dialect,
safe XML reading, spec building, the expression sandbox, deploy checks and the clock.
Imports nothing of the branch or of any process family."""
