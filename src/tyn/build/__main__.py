"""python -m tyn.build {kernel,image} ..."""

import sys

USAGE = "usage: python -m tyn.build {kernel,image} [options]  (--help on each)"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "kernel":
        from tyn.build import kernel
        return kernel.main(rest)
    if command == "image":
        from tyn.build import image
        return image.main(rest)
    print(f"tyn.build: unknown command {command!r}; {USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
