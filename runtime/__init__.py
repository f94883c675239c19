"""pyoci: an OCI low-level container runtime (the runtime layers: cli ->
lifecycle -> linux -> _native)."""

__version__ = "0.1.0"
SPEC_VERSION = "1.3.0"
