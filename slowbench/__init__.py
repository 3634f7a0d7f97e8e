"""slowbench: SlowOnly spatio-temporal action detection with custom RoIAlign3D ops."""

__version__ = "0.1.0"
