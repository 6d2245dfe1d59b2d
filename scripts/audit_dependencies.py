"""pip-audit for `make test`: fail on a known vulnerability; say so plainly when nothing
could be looked up (no network, or an index without PyPI's vulnerability data) instead of
reporting a clean bill of health that was never checked."""

import json
import subprocess
import sys

# Known vulnerabilities accepted, each with its reason (none today).
IGNORED: dict[str, str] = {}


def main() -> int:
    command = [sys.executable, "-m", "pip_audit", "--local", "--format", "json"]
    command += [arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        dependencies = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: NOT AUDITED, the vulnerability service is unreachable ({reason}).")
        return 0
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unaudited = [d["name"] for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"pip-audit: {dependency['name']} {dependency['version']} is vulnerable: {ids}")
    audited = len(dependencies) - len(unaudited)
    print(f"pip-audit: {audited} packages audited, {len(vulnerable)} vulnerable.")
    if unaudited:
        print(
            f"pip-audit: NOT AUDITED: {len(unaudited)} packages could not be looked up "
            "(no network, or a package index without vulnerability data). "
            "Run `make deps-audit` where PyPI is reachable."
        )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
