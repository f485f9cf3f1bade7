# Sourced by tools/quickstart.sh and tools/run_tests.sh:
#   source tools/setup_venv.sh EXTRA
# Uses the active virtual environment, or creates and activates .venv, then
# installs hssl (editable) with the given extra.
if [ -z "${VIRTUAL_ENV:-}" ] && [ -z "${CONDA_PREFIX:-}" ]; then
    if [ ! -x .venv/bin/python ]; then
        echo "[hssl] creating a virtual environment in .venv"
        python3 -m venv .venv
    fi
    # shellcheck disable=SC1091
    source .venv/bin/activate
fi
echo "[hssl] installing hssl[$1] into $(python -c 'import sys; print(sys.prefix)')"
python -m pip install --quiet --disable-pip-version-check -e ".[$1]"
