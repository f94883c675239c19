"""pyoci's OCI data layer: loading, validating and modelling config.json,
state.json and the features document of runtime-spec 1.3.0."""

OCI_VERSION = "1.3.0"  # the runtime-spec version pyoci implements and writes
