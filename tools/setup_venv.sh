# Sourced by tools/quickstart.sh and tools/run_tests.sh:
#   source tools/setup_venv.sh EXTRA
# Uses the active virtual environment, or creates and activates .venv, then
# installs hssl (editable) with the given extra.
#
# torch: for the cpu extra (the quickstart) PyTorch's CPU wheels are installed first,
# from $HSSL_TORCH_INDEX (default https://download.pytorch.org/whl/cpu; pip's own index
# gives the CUDA build on Linux, several GB with its nvidia wheels). HSSL_TORCH_INDEX=default
# uses pip's own index; an index URL applies to any extra. If the index cannot be
# reached, pip's own index is used, and one line says which was used. A torch already
# installed in the environment is kept.
if [ -z "${VIRTUAL_ENV:-}" ] && [ -z "${CONDA_PREFIX:-}" ]; then
    if [ ! -x .venv/bin/python ]; then
        echo "[hssl] creating a virtual environment in .venv"
        python3 -m venv .venv
    fi
    # shellcheck disable=SC1091
    source .venv/bin/activate
fi
HSSL_CPU_TORCH_INDEX=https://download.pytorch.org/whl/cpu
hssl_install_torch() {  # $1: the extra
    local index=${HSSL_TORCH_INDEX:-}
    if [ -z "$index" ]; then
        case $1 in cpu) index=$HSSL_CPU_TORCH_INDEX ;; *) index=default ;; esac
    fi
    local have
    if have=$(python -c 'import torch; print(torch.__version__)' 2>/dev/null); then
        echo "[hssl] torch $have is installed: kept (HSSL_TORCH_INDEX applies to new environments)"
        return 0
    fi
    [ "$index" = default ] && return 0  # hssl's own install below brings torch
    if ! python - "$index" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip('/') + '/torch/', timeout=15)
PY
        echo "[hssl] torch: $index (HSSL_TORCH_INDEX) not reachable; pip's own index instead"
        return 0
    fi
    # the bounds of setup.py, e.g. 'torch>=2.1,<2.15' 'torchvision>=0.16,<0.30'
    local reqs
    reqs=$(grep -oE "'torch(vision)?[<>=!~][^']*'" setup.py | tr -d "'" | tr '\n' ' ')
    # shellcheck disable=SC2086
    if python -m pip install --quiet --disable-pip-version-check --timeout 30 --retries 1 \
            --index-url "$index" $reqs 2>/dev/null; then
        echo "[hssl] torch $(python -c 'import torch; print(torch.__version__)') from $index" \
             "(HSSL_TORCH_INDEX; 'default' for pip's own index)"
    else
        echo "[hssl] torch: installing from $index (HSSL_TORCH_INDEX) failed; pip's own index instead"
    fi
}
hssl_install_torch "$1"
echo "[hssl] installing hssl[$1] into $(python -c 'import sys; print(sys.prefix)')"
python -m pip install --quiet --disable-pip-version-check -e ".[$1]"
