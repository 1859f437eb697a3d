#!/bin/sh
# Entrypoint of launchpad's node:22-alpine stand-in. As with the official image, arguments that are
# not a command are node's: `docker run IMAGE -e '…'` and `docker run IMAGE app.js` run node.
set -e
if [ "${1#-}" != "${1:-}" ] || ! command -v "${1:-}" > /dev/null 2>&1 || { [ -f "$1" ] && [ ! -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
