#!/usr/bin/env bash
# The GPU kit moved to tools/ with the rest of the release tooling; this name keeps working.
exec bash "$(dirname "$0")/../tools/gpu_kit.sh" "$@"
