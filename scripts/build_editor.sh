#!/usr/bin/env bash
# Rebuild the vendored code editor, static/vendor/codemirror/editor.min.js, from
# ops/editor/ (CodeMirror 6 at the versions pinned in its package-lock.json,
# bundled by esbuild). Needs Node.js and npm; `make run` and `make test` do not:
# they use the checked-in bundle. Run it after changing ops/editor/src/ or
# upgrading a package there (npm install --save-exact <pkg>@<version>).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT/ops/editor"
out="$ROOT/static/vendor/codemirror"
log "installing the pinned packages (npm ci)"
npm ci --no-fund --no-audit --loglevel=error
mkdir -p "$out"
npm run --silent build
# The bundle drops comments: keep every bundled package's licence beside it.
{
  echo "Licences of the packages bundled into editor.min.js (built by scripts/build_editor.sh)."
  for dir in $(node -e '
      const lock = require("./package-lock.json").packages;
      for (const [path, meta] of Object.entries(lock))
        if (path && !meta.dev) console.log(path);'); do
    name="${dir#node_modules/}"
    version="$(node -p "require('./$dir/package.json').version")"
    printf '\n==== %s %s ====\n' "$name" "$version"
    cat "$dir"/LICENSE* 2>/dev/null || node -p "'License: ' + require('./$dir/package.json').license"
  done
} > "$out/LICENSES.txt"
{
  echo "CodeMirror 6 bundle built by scripts/build_editor.sh from ops/editor/ (versions: ops/editor/package-lock.json)"
  echo "sha256 $(sha256sum "$out/editor.min.js" | cut -d' ' -f1)"
} > "$out/VERSION"
log "wrote $out/editor.min.js ($(wc -c < "$out/editor.min.js") bytes)"
