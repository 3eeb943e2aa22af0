"""jixiao: the public portal for Chinese budget performance-target disclosures (绩效目标表)."""

__version__ = "0.1.0"
