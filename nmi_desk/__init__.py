"""nmi-desk: the counter app for NMI remigration consultants."""

__version__ = "0.1.0"
