#!/usr/bin/env bash
# Install the dev extra and run the test-suite (CPU, a few minutes).
#   bash tools/run_tests.sh [pytest args...]     e.g. -m slow for real-data tests
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_venv.sh dev
python -m pytest tests "$@"
