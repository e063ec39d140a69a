"""kakaoauth's local AWS: moto_server with the patches in this directory.

moto lacks Cognito behaviours the stack relies on (Lambda triggers, the
custom authentication flow, AdminLinkProviderForUser, RevokeToken, ...).
They are added here, around moto, in one module per patched service named
<service>_ext.py; each patches moto when imported. This runner checks that
the installed moto is the version the patches were written for, imports
every *_ext.py beside it (sorted by name), puts the layer's own HTTP routes
(motoext.route) in front of moto's, and starts moto's server with the
arguments it was given (-H host -p port).

    python3 runner.py -H 127.0.0.1 -p 5000

infra/moto (Go) starts it; see docs/local-stack.md, "What differs from AWS".
"""

import importlib
import importlib.metadata
import os
import sys

# The moto release the patches were written for: they replace and wrap
# moto's internals, which change between releases.
REQUIRED_MOTO = "5.2.1"

# Exit statuses infra/moto reads: moto is missing (it may install it), or
# another version is installed (it says so and stops).
EXIT_NO_MOTO = 3
EXIT_WRONG_MOTO = 4


def _check_moto() -> None:
    try:
        have = importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        sys.stderr.write(
            f"kakaoauth moto layer: moto is not installed for {sys.executable}; "
            f'install it with: {sys.executable} -m pip install "moto[server]=={REQUIRED_MOTO}" (or run make tools)\n'
        )
        sys.exit(EXIT_NO_MOTO)
    if have != REQUIRED_MOTO:
        sys.stderr.write(
            f"kakaoauth moto layer: moto {have} is installed for {sys.executable}, but the layer's patches "
            f"(infra/moto/ext) were written for moto {REQUIRED_MOTO}; install that version with: "
            f'{sys.executable} -m pip install "moto[server]=={REQUIRED_MOTO}" (or run make tools)\n'
        )
        sys.exit(EXIT_WRONG_MOTO)


def _load_modules(here: str) -> list[str]:
    names = sorted(f[: -len(".py")] for f in os.listdir(here) if f.endswith("_ext.py"))
    for name in names:
        importlib.import_module(name)
    return names


def main() -> None:
    _check_moto()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)

    import moto.server

    import motoext

    motoext.MODULES.extend(_load_modules(here))
    moto.server.DomainDispatcherApplication = motoext.wrap_dispatcher(
        moto.server.DomainDispatcherApplication
    )
    moto.server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
