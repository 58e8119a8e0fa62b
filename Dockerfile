# The sandbox image: Python 3 and numpy, nothing else. The original uses python:3.11-slim plus
# numpy from pip; hosts with no registry pass an offline base that already has both
# (scripts/offline-base-image.sh builds one from Debian packages):
#   docker build --build-arg BASE_IMAGE=funsearch-base:local -t funsearch_evaluator:latest .
# or, without the docker CLI: funsearch build-image --base-image funsearch-base:local
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# Install numpy only where the base lacks it, so an offline base without pip builds too.
RUN python3 -c 'import numpy' 2>/dev/null \
    || (python3 -m pip install --no-cache-dir numpy && python3 -c 'import numpy')
# The sandbox keeps each container alive with `sleep infinity` and brings its harness in at run
# time (`docker exec python3 -I -c <harness>`), so a harness change needs no rebuild.
RUN command -v sleep >/dev/null
# Candidates run as unprivileged users; the container is started with a read-only root and a tmpfs /tmp.
USER 65534:65534
WORKDIR /tmp
CMD ["python3"]
