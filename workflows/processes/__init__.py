"""Process families, one package each."""

from workflows.processes import ownership  # noqa: F401 - registers its tables
