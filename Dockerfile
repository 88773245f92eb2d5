# Filled in by the container issue: Node 24 LTS, non-root, state on /data, config from a mounted file.
