"""unkey-deploy: take an application from source or a pre-built image to a running Unkey deployment."""

__version__ = "0.1.0"
