#!/bin/sh
# A Temporal server node in a container: its address is the container's own
# (its services bind to it, the other nodes reach it there) unless given.
set -eu
if [ -z "${TEMPORAL_NODE_ADDRESS:-}" ]; then
  TEMPORAL_NODE_ADDRESS=$(hostname -i | cut -d' ' -f1)
  export TEMPORAL_NODE_ADDRESS
fi
exec "$@"
