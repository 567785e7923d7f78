"""dcctl: provisioning and audit toolkit for the Quang Ngai provincial cloud data center."""

__version__ = "0.1.0"
