"""The paper experiments: one module per experiment, one config file per documented run, one driver.

    python -m experiments                                  # list the experiments and the configs
    python -m experiments holdout_lite_600                 # a config: experiments/configs/holdout_lite_600.toml
    python -m experiments configs/my_run.toml --steps 50   # a config file; options after it are added at the end
    python -m experiments holdout --out runs/h --steps 50  # an experiment by name, with its own options only
    python -m experiments --dry-run holdout_lite_600       # print what a config runs, run nothing

Run from the repository root (``-m`` puts it on the import path). An experiment is a module here with
``main(argv)`` and its own ``argparse`` options (``python -m experiments NAME --help``). A config names the
experiment and the options of one run, so a documented run is a file, not a command line copied from a page::

    experiment = "holdout"                     # a module of this package
    args = []                                  # positional arguments, if the experiment takes any
    [env]                                      # set before the experiment is imported; an exported value wins
    OMP_NUM_THREADS = "1"
    [options]                                  # key = value -> --key value; true -> --key; a list -> --key a b
    out = "runs/holdout"
    eval-every = 100

Options given after the config are appended, so for a single-valued option the command line wins
(``--steps 50``). Timing benchmarks are not here: they are in ``bench/`` (``python -m bench``); the tooling
that makes and ships checkpoints is in ``tools/``.
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"


def experiments() -> dict[str, str]:
    """``{name: its docstring's first paragraph}`` for every experiment module (read, not imported)."""
    out = {}
    for p in sorted(HERE.glob("*.py")):
        if not p.name.startswith("_"):
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
            out[p.stem] = " ".join(doc.split("\n\n")[0].split())  # its first paragraph, on one line
    return out


def _toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def config_path(target: str) -> Path | None:
    """The config ``target`` names (a ``.toml`` path, or a name in ``experiments/configs/``), or None."""
    p = Path(target)
    if p.suffix == ".toml":
        return p
    named = CONFIGS / f"{target}.toml"
    return named if named.is_file() else None


def load_config(path: Path) -> dict:
    """A config as ``{"experiment", "argv", "env", "description"}``; raises ``ValueError`` if it is not one."""
    raw = _toml(path)
    unknown = set(raw) - {"experiment", "description", "args", "env", "options"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    name = raw.get("experiment")
    if name not in experiments():
        raise ValueError(f"{path}: experiment = {name!r} is not one of {sorted(experiments())}")
    argv = [str(a) for a in raw.get("args", [])]
    for key, value in raw.get("options", {}).items():
        flag = f"--{key}"
        if value is True:
            argv.append(flag)
        elif value is False:
            continue
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    env = {k: str(v) for k, v in raw.get("env", {}).items()}
    return {"experiment": name, "argv": argv, "env": env, "description": raw.get("description", "")}


def configs() -> dict[str, dict]:
    return {p.stem: load_config(p) for p in sorted(CONFIGS.glob("*.toml"))}


def command(name: str, argv: list[str], env: dict[str, str]) -> str:
    prefix = "".join(f"{k}={v} " for k, v in env.items())
    return " ".join([f"{prefix}python -m experiments {name}", *argv])


def run(name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    """Import experiment ``name`` (after setting ``env``, where not already exported) and call its ``main``."""
    for k, v in (env or {}).items():
        os.environ.setdefault(k, v)
    module = importlib.import_module(f"{__name__}.{name}")
    sys.argv = [f"python -m experiments {name}", *argv]  # argparse's prog, in usage and error lines
    return int(module.main(argv) or 0)


def usage() -> str:
    exps, cfgs = experiments(), configs()
    lines = [(__doc__ or "").split("\n\n")[1].rstrip(), "", "experiments (python -m experiments NAME --help):"]
    lines += [f"  {n:{max(map(len, exps))}}  {d}" for n, d in exps.items()]
    lines += ["", f"configs ({CONFIGS.relative_to(HERE.parent)}/NAME.toml; --dry-run NAME shows the command):"]
    lines += [f"  {n:{max(map(len, cfgs))}}  {c['description']}" for n, c in cfgs.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    dry = "--dry-run" in argv[:1]
    if dry:
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(usage())
        return 0
    target, rest = argv[0], argv[1:]
    path = config_path(target)
    if path is not None:
        cfg = load_config(path)
        name, args, env = cfg["experiment"], cfg["argv"] + rest, cfg["env"]
    elif target in experiments():
        name, args, env = target, rest, {}
    else:
        print(f"python -m experiments: {target!r} is neither a config nor an experiment\n\n{usage()}", file=sys.stderr)
        return 2
    if path is not None or dry:
        print(command(name, args, env), file=sys.stderr, flush=True)
    return 0 if dry else run(name, args, env)
