"""Build tooling: the freestanding kernel (`kernel`) and bootable images (`image`)."""
