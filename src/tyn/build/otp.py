"""OTP and Elixir applications available in the ERTS cache, and their dependencies.

The .beam trees come from Debian trixie's binary packages (erts-build/fetch-beams.sh
checks each .deb against the SHA-256 in apt's Packages index).  An application that is not
fetched yet is looked up in its Debian package (erlang-<name with - for _>, or erlang-base).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tyn.build import erts

# Applications that always go into a BEAM image: the two that OTP's start_clean boot script
# (and every release) loads.  Anything else comes in through --otp-app, --elixir or a release.
BASE_APPS = ("kernel", "stdlib")
BASE_REASON = "boot (start_clean)"
ELIXIR_APPS = ("elixir", "logger")
IEX_APPS = ("iex",)                 # --elixir --shell
# OTP applications shipped in erlang-base rather than in an erlang-<name> package.
IN_ERLANG_BASE = {"kernel", "stdlib", "compiler", "sasl", "erts", "erl_interface"}

_APP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_APP_LIST = re.compile(r"\{\s*(applications|included_applications)\s*,\s*\[([^\]]*)\]\s*\}")
_APP_VSN = re.compile(r"\{\s*vsn\s*,\s*\"([^\"]*)\"\s*\}")


class AppError(Exception):
    pass


@dataclass(frozen=True)
class App:
    name: str
    vsn: str
    path: Path          # the host directory holding ebin/ (and maybe priv/)

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.vsn}"


def read_app_file(app_file: Path) -> tuple[str, list[str]]:
    """(vsn, required applications) from a .app resource file."""
    text = app_file.read_text(errors="replace")
    text = re.sub(r"%[^\n]*", "", text)
    m = _APP_VSN.search(text)
    if not m:
        raise AppError(f"{app_file}: no vsn")
    deps = []
    for _, body in _APP_LIST.findall(text):
        deps += [d.strip().strip("'") for d in body.split(",") if d.strip()]
    return m.group(1), deps


def debian_package(app: str) -> str:
    return "erlang-base" if app in IN_ERLANG_BASE else "erlang-" + app.replace("_", "-")


class AppCatalog:
    """Applications of the cached OTP and Elixir trees, fetching more packages on demand."""

    def __init__(self, erts_dir: Path):
        self.erts_dir = erts_dir
        self._scan()

    def _scan(self) -> None:
        self.apps: dict[str, App] = {}
        for d in sorted((self.erts_dir / "otp" / "lib").iterdir()):
            name, _, vsn = d.name.partition("-")
            if (d / "ebin" / f"{name}.app").exists():
                self.apps[name] = App(name, vsn, d)
        for d in sorted((self.erts_dir / "elixir" / "lib").iterdir()):
            app_file = d / "ebin" / f"{d.name}.app"
            if app_file.exists():
                self.apps[d.name] = App(d.name, read_app_file(app_file)[0], d)

    def get(self, name: str) -> App:
        if not _APP_NAME.match(name):
            raise AppError(f"{name!r} is not an OTP application name")
        if name not in self.apps:
            try:
                erts.ensure_debian_packages([debian_package(name)])
            except erts.ErtsError:
                raise AppError(f"no OTP application {name!r} for OTP {erts.manifest(self.erts_dir)['otp_version']}"
                               f" (Debian package {debian_package(name)} could not be fetched)") from None
            self._scan()
            if name not in self.apps:
                raise AppError(f"Debian package {debian_package(name)} has no application {name!r}")
        return self.apps[name]

    def closure(self, names) -> list[App]:
        """The named applications and everything their .app files require, sorted by name."""
        return [app for app, _ in self.closure_why([(n, "named") for n in names])]

    def closure_why(self, wanted: list[tuple[str, str]], have: dict[str, str] = {}) -> list[tuple[App, str]]:
        """(application, why it is in) for each (name, reason) wanted and everything their .app
        files require (`applications` and `included_applications`), sorted by name; the first
        reason given for a name wins, a dependency's reason is "required by <app>".  Names in
        `have` (name -> reason) are supplied elsewhere (a release's own lib/): not looked up,
        and their dependencies are the supplier's business."""
        out: dict[str, tuple[App, str]] = {}
        todo = list(reversed(wanted))
        while todo:
            name, why = todo.pop()
            if name in out or name in have:
                continue
            app = self.get(name)
            out[name] = (app, why)
            todo += [(d, f"required by {name}") for d in reversed(read_app_file(app.path / "ebin" / f"{name}.app")[1])]
        return [out[n] for n in sorted(out)]
