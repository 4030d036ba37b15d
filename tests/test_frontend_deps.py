"""The front end's Node.js requirement and lock file (js/package.json, js/package-lock.json,
js/check-node.mjs): the required Node is stated and checked, every locked package runs on it,
and the lock holds every platform's optional binaries, so `npm install` on any machine leaves
it as committed and `npm ci` accepts it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

JS = Path(__file__).resolve().parents[1] / "js"
CHECK = JS / "check-node.mjs"


def node(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], capture_output=True, text=True, timeout=30,
                          check=False)


def engines() -> str:
    return str(json.loads((JS / "package.json").read_text())["engines"]["node"])


def test_the_build_refuses_a_node_older_than_engines_node_with_what_to_do() -> None:
    assert engines() == "^20.19.0 || >=22.12.0"
    for old in ("20.18.3", "22.11.0", "18.20.0"):
        refused = node(str(CHECK), old)
        assert refused.returncode == 1, old
        assert f"needs Node.js {engines()}; this is Node.js {old}" in refused.stderr
        assert "Install a newer Node.js" in refused.stderr
    for fine in ("20.19.0", "22.12.0", "24.1.0"):
        assert node(str(CHECK), fine).returncode == 0, fine
    assert node(str(CHECK)).returncode == 0   # this machine's Node
    scripts = json.loads((JS / "package.json").read_text())["scripts"]
    assert scripts["prebuild"] == scripts["pretest"] == "node check-node.mjs"
    assert "engine-strict=true" in (JS / ".npmrc").read_text().splitlines()


def test_every_locked_package_runs_on_the_oldest_node_engines_node_admits() -> None:
    script = f"""
        import {{ readFileSync }} from "node:fs";
        import {{ satisfies, lowest }} from {json.dumps(CHECK.as_uri())};
        const lock = JSON.parse(readFileSync({json.dumps(str(JS / "package-lock.json"))}));
        const oldest = lowest(lock.packages[""].engines.node);
        const bad = [];
        for (const [name, pkg] of Object.entries(lock.packages)) {{
          const range = pkg.engines?.node;
          for (const v of oldest) if (range && !satisfies(v, range)) bad.push([name, range, v]);
        }}
        console.log(JSON.stringify({{ oldest, bad }}));
    """
    run = node("--input-type=module", "-e", script)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["oldest"] == ["20.19.0", "22.12.0"]
    assert result["bad"] == []


def test_the_lock_holds_every_platforms_optional_rollup_binary() -> None:
    # npm 11 writes them all; a lock holding only this machine's gets them added by every
    # `npm install` (345 lines), and `npm ci` calls such a lock out of sync.
    packages = json.loads((JS / "package-lock.json").read_text())["packages"]
    wanted = set(packages["node_modules/rollup"]["optionalDependencies"])
    locked = {name.removeprefix("node_modules/") for name in packages
              if name.startswith("node_modules/@rollup/rollup-")}
    assert len(wanted) > 20
    assert wanted - {"fsevents"} <= locked


def test_only_make_test_needs_chromium_and_a_missing_npm_says_what_to_install(
        tmp_path: Path) -> None:
    make = (JS.parent / "Makefile").read_text()
    install = make.split("$(STAMP): pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    assert "bash scripts/system-deps.sh build" in install   # serve, chat, lint: no browser
    test = make.split("\ntest: lint\n", 1)[1].split("\n\n", 1)[0]
    assert "bash scripts/system-deps.sh test" in test
    # A machine without npm (and without apt-get, like macOS): the PATH holds only what the
    # script needs besides them.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id", "dirname"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True,
                               text=True, check=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    run = subprocess.run([str(bin_dir / "bash"), str(JS.parent / "scripts/system-deps.sh"),
                          "build"], capture_output=True, text=True, timeout=30,
                         env={"PATH": str(bin_dir)}, check=False)
    assert run.returncode == 1
    assert "nbchat (build) needs these packages: nodejs npm." in run.stderr
    assert "chromium" not in run.stderr.split(".")[0]
