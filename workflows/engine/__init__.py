"""SpiffWorkflow and the BPMN dialect: specs, the expression sandbox, deploy checks, the clock.
Imports nothing of the branch or of any process family."""
