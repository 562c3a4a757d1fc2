"""Static musl test programs (the Linux-ABI differential suite) and their build helper."""
