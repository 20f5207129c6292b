"""bombe: find programs that provably meet a specification, and measure program generators."""

__version__ = "0.1.0"
