"""Process bring-up pieces: ELF load plans, the initial user stack, futex wait queues."""
