"""The state document of runtime.md, as `pyoci state` prints it and hooks
read it on stdin."""
from pyoci.spec import OCI_VERSION
from pyoci.spec.errors import InvalidSpec
from pyoci.spec.validate import state_problems


def state_document(id, status, pid, bundle, annotations=None):
    """The state of a container. `pid` is left out once the container is
    stopped (the spec requires it only while created or running, and a stopped
    container's pid may already belong to another process); empty annotations
    are left out, as runc does."""
    doc = {"ociVersion": OCI_VERSION, "id": id, "status": status}
    if pid is not None and status != "stopped":
        doc["pid"] = pid
    doc["bundle"] = bundle
    if annotations:
        doc["annotations"] = dict(annotations)
    found = state_problems(doc)
    if found:
        raise InvalidSpec("invalid state", found)
    return doc
