#!/usr/bin/env bash
# Builds a Python 3 + numpy base image from Debian packages, for hosts that reach no container
# registry (so `FROM python:3.11-slim` cannot be pulled). The result is tagged funsearch-base:local
# (or $1) and is meant as the BASE_IMAGE build argument of the root Dockerfile.
set -euo pipefail
tag="${1:-funsearch-base:local}"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null; then
  echo "offline-base-image: debootstrap is missing; install it with: apt-get install -y debootstrap" >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "offline-base-image: no Docker engine answers; start dockerd first" >&2
  exit 2
fi
rootfs="$(mktemp -d /tmp/funsearch-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-numpy "$suite" "$rootfs" "$mirror" >/dev/null
# Trim what a sandbox never needs; keeps the image small and the import fast.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc "$rootfs"/usr/share/man
tar -C "$rootfs" -c . | docker import -c 'CMD ["python3"]' - "$tag" >/dev/null
docker run --rm --network none "$tag" python3 -c 'import numpy' 
echo "offline-base-image: built $tag"
