"""The OCI features document (`pyoci features`): exactly what this build
implements and this host supports. Callers switch features on from it, so
nothing is listed that does not work."""
from pyoci.runtime import SPEC_VERSION, __version__
from pyoci.runtime.linux import procfs
from pyoci.runtime.linux.namespaces import CLONE_FLAGS
from pyoci.runtime.linux.process import CAPABILITIES
from pyoci.runtime.linux.rootfs import (MOUNT_FLAGS, PROPAGATION_FLAGS,
                                        RECURSIVE_ATTRS)

HOOKS = ("prestart", "createRuntime", "createContainer", "startContainer",
         "poststart", "poststop")


def features():
    from pyoci.runtime.linux import cgroups, idmap, seccomp
    last_cap = procfs.last_capability()
    idmapped = idmap.supported()
    mount_options = set(MOUNT_FLAGS) | set(PROPAGATION_FLAGS) | set(RECURSIVE_ATTRS)
    if idmapped:
        mount_options |= set(idmap.IDMAP_OPTIONS)
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": list(HOOKS),
        "mountOptions": sorted(mount_options),
        "linux": {
            "namespaces": sorted(CLONE_FLAGS),
            "capabilities": list(CAPABILITIES[:last_cap + 1]),
            "cgroup": cgroups.features(),
            "seccomp": seccomp.features(),
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "intelRdt": _intel_rdt(),
            "mountExtensions": {"idmap": {"enabled": idmapped}},
            "netDevices": {"enabled": True},
        },
        "annotations": {"org.pyoci.version": __version__},
    }


def _intel_rdt():
    """Enabled only where a resctrl filesystem is mounted: elsewhere a
    config that asks for it is refused (intelrdt.check)."""
    from pyoci.runtime.linux.intelrdt import resctrl_root
    if resctrl_root() is None:
        return {"enabled": False}
    return {"enabled": True, "schemata": True, "monitoring": True}
