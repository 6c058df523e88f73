# A Windmill worker image for the Fractal pack (Community Edition: no init scripts in the UI).
#   docker build -f resources/windmill/worker.Dockerfile -t windmill-fractal-worker resources/windmill
# then run the workers from it (docker-compose: the windmill_worker service's `image:`).
ARG WINDMILL_IMAGE=ghcr.io/windmill-labs/windmill:1.850.0
FROM ${WINDMILL_IMAGE}
COPY worker-init.sh /usr/local/bin/fractal-worker-init
RUN /usr/local/bin/fractal-worker-init && /usr/local/bin/fractal-worker-init --check
