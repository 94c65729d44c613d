"""calib's version (one place; the package, frozen files and manifests read it)."""

__version__ = "0.1.0"
