"""asr: infrastructure-as-code for Azure Site Recovery (Hyper-V / VMM to Azure)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
