"""The process-agnostic case runtime: definitions, start / claim / complete, the task projection,
assignment, inbox, audit, timers."""
