"""The root of pyoci's one exception hierarchy, and the spec layer's own
error. It lives here, in the lowest layer, so that spec can raise it without
knowing anything of the runtime; pyoci.runtime.errors adds the rest."""


class PyociError(Exception):
    """Base of every error pyoci reports to its caller."""


class InvalidSpec(PyociError):
    """An OCI document is invalid; `problems` lists every finding, each
    starting with its JSON path (`linux.namespaces[2].type: ...`)."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)

    def __str__(self):
        if not self.problems:
            return self.args[0]
        return self.args[0] + ":\n" + "\n".join("  " + p for p in self.problems)
