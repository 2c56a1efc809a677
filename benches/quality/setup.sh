# Sourced by the quality scripts: the DuckDB venv (made on first use) and a release
# build of tradescan. Sets `venv` and `bin`; needs `here` and `root`.
venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$here/requirements.txt"
fi
(cd "$root" && cargo build --release --quiet -p tradescan-cli)
bin="${CARGO_TARGET_DIR:-$root/target}/release/tradescan"
